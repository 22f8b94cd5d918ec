"""security.audit — the append-only, hash-chained audit log.

Public API (call from services, in the same transaction as the change):

    from security import audit
    audit.record(ctx, "login_failed", details={"login": login})
    audit.record(ctx, "reveal", model="crm_lead", res_id=lead.id, details={"field": "phone"})
    before = audit.snapshot(lead)
    ... change and save lead ...
    audit.record_change(ctx, lead, before, audit.snapshot(lead), sensitive={"phone"})
    audit.verify()  # -> VerifyResult(ok, entries, last_hash, broken_seq, broken_id, code)

Actions: create, update, delete, read_sensitive, reveal, login, login_failed, logout,
permission_change, export (other lowercase names are accepted). See `writer` for how
appends are serialised, `chain` for the hash, `verify` for the checks, `guard` for the
database triggers that make the table append-only.

The hook functions below join the module system through the `base` module
(`security.plugin`).
"""
from __future__ import annotations

from security.audit.chain import GENESIS, entry_hash, hash_value
from security.audit.models import MODELS, AuditEntry, AuditHead
from security.audit.verify import VerifyResult, verify
from security.audit.writer import (
    CREATE, DELETE, EXPORT, KNOWN_ACTIONS, LOGIN, LOGIN_FAILED, LOGOUT, PERMISSION_CHANGE,
    READ_SENSITIVE, REVEAL, UPDATE, changed_fields, record, record_change, snapshot,
)

__all__ = [
    "record", "record_change", "snapshot", "changed_fields", "verify", "VerifyResult",
    "AuditEntry", "AuditHead", "GENESIS", "entry_hash", "hash_value", "KNOWN_ACTIONS",
    "CREATE", "UPDATE", "DELETE", "READ_SENSITIVE", "REVEAL", "LOGIN", "LOGIN_FAILED", "LOGOUT",
    "PERMISSION_CHANGE", "EXPORT",
]


def register_models():
    return list(MODELS)


def register_routes(registry):
    from security.audit.api import routes
    return routes()


def register_cli(group):
    from security.audit.cli import audit
    group.add_command(audit)


def on_install(registry, manifest):
    """Create the chain head and the append-only triggers."""
    from security.audit.guard import install_guards
    from security.audit.writer import ensure_head

    ensure_head()
    install_guards()


def on_upgrade(registry, manifest, from_version):
    """Upgrades re-assert the chain head and triggers (installs made before they existed)."""
    on_install(registry, manifest)
