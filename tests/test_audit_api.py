"""The read-only audit API: admin only, filters, keyset pagination, verify, no write routes."""
from __future__ import annotations

import datetime as dt

import pytest

from modules.base import services
from security import audit
from security.context import Context
from tests.support import ADMIN_PASSWORD, login
from tests.test_audit import drop_guards, raw_update

DAY = dt.datetime(2025, 3, 1, 8, 0, 0)


@pytest.fixture
def admin_http(http, seeded):
    """Signed in as admin, after `seeded` (so the seeded entries are seq 1..10)."""
    login(http, "admin", ADMIN_PASSWORD)
    return http


@pytest.fixture
def seeded(install):
    """Ten entries a day apart from 2025-03-01, alternating two actors and two models."""
    clerk = services.create_user("clerk", "职员", "Desk-pass-2026")
    made = []
    for i in range(10):
        user = install.admin if i % 2 == 0 else clerk
        ctx = Context(registry=install.registry, user=user, ip="10.0.0.1",
                      clock=lambda i=i: DAY + dt.timedelta(days=i))
        made.append(audit.record(ctx, "update" if i % 3 else "export",
                                 model="crm_lead" if i < 5 else "crm_account", res_id=100 + i % 4,
                                 details={"i": i}))
    return {"clerk": clerk, "entries": made}


def seqs(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [entry["seq"] for entry in response.json()["entries"]]


def test_requires_an_administrator(http, seeded):
    assert http.get("/api/v1/audit").status_code == 401
    assert http.get("/api/v1/audit/verify").status_code == 401
    login(http, "clerk", "Desk-pass-2026")
    assert http.get("/api/v1/audit").status_code == 403
    assert http.get("/api/v1/audit/verify").status_code == 403


def test_listing_filters(admin_http, seeded):
    ours = "&until=2025-04-01"  # leaves out the login entries the sign-in itself recorded
    assert seqs(admin_http.get("/api/v1/audit?order=asc" + ours)) == list(range(1, 11))
    assert seqs(admin_http.get("/api/v1/audit?model=crm_lead" + ours)) == [5, 4, 3, 2, 1]
    assert seqs(admin_http.get("/api/v1/audit?model=crm_lead&res_id=101")) == [2]
    assert seqs(admin_http.get("/api/v1/audit?action=export" + ours)) == [10, 7, 4, 1]
    assert seqs(admin_http.get("/api/v1/audit?actor=clerk")) == [10, 8, 6, 4, 2]
    assert seqs(admin_http.get(f"/api/v1/audit?actor={seeded['clerk'].id}")) == [10, 8, 6, 4, 2]
    assert seqs(admin_http.get(
        "/api/v1/audit?since=2025-03-03T08:00:00&until=2025-03-05T08:00:00")) == [4, 3]
    assert seqs(admin_http.get("/api/v1/audit?since=2025-03-09T16:00:00%2B08:00" + ours)) == [
        10, 9]  # an offset is converted to UTC
    entry = admin_http.get("/api/v1/audit?model=crm_account&res_id=100").json()["entries"][0]
    assert entry["seq"] == 9 and entry["at"] == "2025-03-09T08:00:00.000000Z"
    assert entry["actor_login"] == "admin" and entry["details"] == {"i": 8}
    assert entry["hash"] == seeded["entries"][8].hash


def test_keyset_pagination_walks_everything_once(admin_http, seeded):
    for order, expected in (("asc", list(range(1, 11))), ("desc", list(range(10, 0, -1)))):
        seen, after = [], ""
        while True:
            page = admin_http.get(f"/api/v1/audit?order={order}&limit=3&until=2025-04-01"
                                  f"&after={after}").json()
            seen += [entry["seq"] for entry in page["entries"]]
            if page["next"] is None:
                break
            after = page["next"]
        assert seen == expected


def test_sign_in_itself_is_audited(admin_http, seeded):
    entries = admin_http.get("/api/v1/audit?action=login&actor=admin").json()["entries"]
    assert entries and entries[0]["ip"] == "127.0.0.1" and entries[0]["request_id"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "res_id=-1", "after=a",
                                   "since=yesterday", "order=sideways"])
def test_invalid_parameters_are_422(admin_http, seeded, query):
    response = admin_http.get(f"/api/v1/audit?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"]


def test_verify_endpoint(admin_http, seeded):
    report = admin_http.get("/api/v1/audit/verify").json()
    assert report["ok"] is True and report["entries"] >= 10 and report["broken_seq"] is None
    drop_guards()
    raw_update(6, res_id=999)
    report = admin_http.get("/api/v1/audit/verify").json()
    assert (report["ok"], report["broken_seq"], report["broken_id"], report["code"]) == (
        False, 6, seeded["entries"][5].id, "edited")
    assert "edited" in report["reason"]


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
def test_no_route_changes_or_deletes_entries(admin_http, seeded, path):
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        response = admin_http.request(method, path, json={"seq": 1})
        assert response.status_code == 405, (method, response.text)
    assert audit.AuditEntry.select().where(audit.AuditEntry.seq == 1).count() == 1
    assert audit.verify().ok
