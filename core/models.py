"""Tables the framework itself owns: installed module versions, seed external ids, outbox."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, utcnow


class InstalledModule(BaseModel):
    """One row per installed module: the schema version its migrations have reached."""

    name = pw.CharField(primary_key=True, max_length=64)
    version = pw.CharField(max_length=32)
    state = pw.CharField(max_length=16, default="installed")
    installed_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_module"


class ExternalId(BaseModel):
    """Maps a seed record's external id (`module.xml_id`) to its row, Odoo-style."""

    module = pw.CharField(max_length=64)
    xml_id = pw.CharField(max_length=128)
    model = pw.CharField(max_length=64)
    res_id = pw.IntegerField()
    noupdate = pw.BooleanField(default=False)

    class Meta:
        table_name = "core_external_id"
        indexes = ((("module", "xml_id"), True),)


class OutboxMessage(BaseModel):
    """An external side effect, written in the same transaction as the business change."""

    topic = pw.CharField(max_length=128, index=True)
    payload = JSONField()
    idempotency_key = pw.CharField(max_length=191, unique=True)
    status = pw.CharField(max_length=16, default="pending")  # pending / done / dead
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(default=utcnow)
    last_error = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    processed_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "core_outbox"
        indexes = ((("status", "next_attempt_at"), False),)


CORE_MODELS = [InstalledModule, ExternalId, OutboxMessage]
