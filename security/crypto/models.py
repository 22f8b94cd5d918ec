"""The data-key table: versioned data keys, each wrapped by the master key.

`purpose` is `enc` (AES-256-GCM for field values) or `index` (HMAC-SHA256 for blind indexes).
The highest version of a purpose is the active one. `rotated_at` is set once every value has
been re-encrypted to that version (`huike keys rotate`); NULL means a rotation to it is
unfinished and a rerun resumes it. Old versions stay so that any row can always be read."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow

PURPOSES = ("enc", "index")


class DataKey(BaseModel):
    purpose = pw.CharField(max_length=16)
    version = pw.IntegerField()
    wrapped = pw.TextField()  # base64 of the provider's wrapped blob
    created_at = pw.DateTimeField(default=utcnow)
    rotated_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "security_data_key"
        indexes = ((("purpose", "version"), True),)


MODELS = [DataKey]
