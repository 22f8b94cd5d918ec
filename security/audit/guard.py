"""Append-only at the database level: triggers that refuse UPDATE, DELETE (and, on
PostgreSQL, TRUNCATE) of `security_audit`, whoever issues them.

This stops mistakes and application-level bugs. A database account that owns the table can
still drop the triggers; against that the hash chain is the control (`huike audit verify`),
and a deployment that wants more runs the application under a role that does not own it.
"""
from __future__ import annotations

from core.db import database, is_postgres
from security.audit.models import AuditEntry

MESSAGE = "审计记录只能追加 / audit records are append-only"
TABLE = AuditEntry._meta.table_name

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]

POSTGRES_TRIGGERS = [
    f"CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$",
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()",
]


def install_guards() -> None:
    """Create (or re-create) the append-only triggers; idempotent."""
    for statement in POSTGRES_TRIGGERS if is_postgres() else SQLITE_TRIGGERS:
        database.execute_sql(statement)
