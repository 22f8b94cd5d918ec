"""Reads of sensitive fields in clear are audited once per request; masked reads are not."""
from __future__ import annotations

from core.demo import load_demo
from security.audit import AuditEntry
from tests.support import ADMIN_PASSWORD, login


def entries():
    return list(AuditEntry.select().where(AuditEntry.action == "read_sensitive")
                .order_by(AuditEntry.seq))


def test_clear_reads_are_audited_masked_reads_are_not(install, http):
    load_demo(install.registry)
    login(http, "admin", ADMIN_PASSWORD)
    listed = http.get("/api/v1/contacts?limit=5")
    assert listed.status_code == 200, listed.text
    ids = sorted(item["id"] for item in listed.json()["items"])
    (entry,) = entries()
    assert entry.model == "contact" and entry.actor_login == "admin"
    assert entry.details["ids"] == ids and entry.details["count"] == len(ids)
    assert "mobile" in entry.details["fields"]

    finance = http.__class__(http.base_url)
    login(finance, "hu.bin", "Huike-demo-2026")  # finance sees contact channels masked
    masked = finance.get("/api/v1/contacts?limit=5")
    assert masked.status_code == 200
    assert len(entries()) == 1
