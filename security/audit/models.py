"""Audit tables: the append-only, hash-chained log and its one-row chain head.

`security_audit` rows are never updated or deleted (database triggers refuse it, see
`security.audit.guard`). `security_audit_head` holds the last `seq` and `hash`; appenders lock
it to serialise the chain, and `verify` compares it with the last entry so that cutting
entries off the end of the log is detected as well."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, utcnow

HEAD_ID = 1


class AuditEntry(BaseModel):
    """One audited event. `hash` covers every column except `id` (see `security.audit.chain`)."""

    seq = pw.BigIntegerField(unique=True)  # 1, 2, 3 … without gaps, assigned under the head lock
    at = pw.DateTimeField(default=utcnow)  # naive UTC
    actor_id = pw.IntegerField(null=True)
    actor_login = pw.CharField(max_length=128, default="")
    action = pw.CharField(max_length=64)
    model = pw.CharField(max_length=64, null=True)
    res_id = pw.BigIntegerField(null=True)
    division_id = pw.IntegerField(null=True)
    ip = pw.CharField(max_length=64, default="")
    request_id = pw.CharField(max_length=64, default="")
    via = pw.CharField(max_length=16, default="")
    details = JSONField(null=True)
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)

    class Meta:
        table_name = "security_audit"
        indexes = (
            (("model", "res_id"), False),
            (("actor_id",), False),
            (("action",), False),
            (("at",), False),
        )


class AuditHead(BaseModel):
    """The chain head: a single row (id 1) locked by every append."""

    id = pw.IntegerField(primary_key=True)
    seq = pw.BigIntegerField(default=0)
    hash = pw.CharField(max_length=64)

    class Meta:
        table_name = "security_audit_head"


MODELS = [AuditEntry, AuditHead]
