"""What capture and import keep: web forms, saved column mappings, import runs and their row
problems.

- `LeadForm`: a public web form (`POST /api/v1/forms/<key>`) filing leads into one division
  with a fixed source and campaign; `allowed_origins` is its CORS allow-list.
- `ImportMapping`: a saved "file header → lead field" mapping, shared within a division.
- `ImportRun`: one import of one file (a job with progress). Counters and the row cursor
  (`processed`) are written in the same transaction as each batch of leads, so a run killed
  mid-way resumes exactly where its last committed batch ended.
- `ImportRowError`: a malformed or skipped row of a run (the error report is built from
  these); the original row is kept encrypted — it holds phones and e-mails.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, TimestampedModel
from modules.base.models import Division, User
from security.crypto import EncryptedTextField

POLICIES = ("skip", "merge", "create")
RUN_STATES = ("pending", "running", "done", "failed")


class LeadForm(TimestampedModel):
    __security_name__ = "lead_form"
    __scope__ = {"division": "division"}

    key = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=100)
    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    source = pw.CharField(max_length=16, default="website")
    campaign = pw.CharField(max_length=100, null=True)
    allowed_origins = JSONField(default=list)
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")  # None: assignment rules
    rate_per_minute = pw.IntegerField(default=10)
    active = pw.BooleanField(default=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        table_name = "leads_form"


class ImportMapping(TimestampedModel):
    __security_name__ = "lead_import_mapping"
    __scope__ = {"owner": "created_by", "division": "division"}

    name = pw.CharField(max_length=100)
    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    columns = JSONField(default=dict)  # file header → lead field
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "leads_import_mapping"
        indexes = ((("division", "name"), True),)


class ImportRun(TimestampedModel):
    __security_name__ = "lead_import"
    __scope__ = {"owner": "created_by", "division": "division"}

    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    file_name = pw.CharField(max_length=255)
    file_path = pw.CharField(max_length=500, null=True)  # stored upload; removed when done
    file_sha256 = pw.CharField(max_length=64, index=True)
    file_size = pw.BigIntegerField(default=0)
    file_type = pw.CharField(max_length=8, default="csv")
    encoding = pw.CharField(max_length=16, null=True)
    headers = JSONField(default=list)  # the file's header row
    mapping = JSONField(default=dict)  # file header → lead field, as used
    mapping_name = pw.CharField(max_length=100, null=True)
    unmapped = JSONField(default=list)  # headers no field was found for
    policy = pw.CharField(max_length=8, default="skip")
    dry_run = pw.BooleanField(default=False)
    status = pw.CharField(max_length=16, default="pending", index=True)
    total = pw.IntegerField(default=0)
    processed = pw.IntegerField(default=0)  # data rows done (committed), in file order
    created = pw.IntegerField(default=0)
    merged = pw.IntegerField(default=0)
    skipped = pw.IntegerField(default=0)
    failed = pw.IntegerField(default=0)
    message = pw.TextField(null=True)
    error_report = pw.CharField(max_length=500, null=True)
    worker = pw.CharField(max_length=32, null=True)  # claim token of the process running it
    heartbeat_at = pw.DateTimeField(null=True)
    started_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "leads_import_run"


class ImportRowError(BaseModel):
    __security_name__ = "lead_import_error"
    __scope_parent__ = "run"

    run = pw.ForeignKeyField(ImportRun, backref="errors", on_delete="CASCADE")
    row = pw.IntegerField()  # spreadsheet row number (the header is row 1)
    kind = pw.CharField(max_length=16, default="error")  # error | skipped
    message = pw.CharField(max_length=500)
    raw = EncryptedTextField(null=True)  # the original row as JSON

    class Meta:
        table_name = "leads_import_error"
        indexes = ((("run", "row"), True),)


CAPTURE_MODELS = [LeadForm, ImportMapping, ImportRun, ImportRowError]
