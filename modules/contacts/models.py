"""Customer 360: accounts (with groups), contacts and their decision-chain roles, activities
(one timeline per account / contact / lead / opportunity) and tasks.

Visibility: accounts carry owner, division and region (`__scope__`); contacts follow their
account (`__scope_parent__`). Activities and tasks are reached through the record they belong
to (`res_model`, `res_id`) and also carry the account when there is one, so an account's
timeline is one indexed query. Contact channels are AES-GCM encrypted with blind indexes for
equality search and duplicate detection.
"""
from __future__ import annotations

import peewee as pw

from core.db import JSONField, TimestampedModel, utcnow
from modules.base.models import Division, Region, User
from security.mirrors import ScopeMirrorField
from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                             normalise_email, normalise_phone, normalise_text)

LIFECYCLE_STAGES = ("lead", "mql", "sql", "customer", "churned")
VALUE_TIERS = ("A", "B", "C", "D")
DECISION_ROLES = ("decision_maker", "influencer", "user", "gatekeeper", "champion")
ACTIVITY_KINDS = ("call", "visit", "meeting", "email", "note")


class Account(TimestampedModel):
    __security_name__ = "account"
    __scope__ = {"owner": "owner", "division": "division", "region": "region"}

    name = pw.CharField(max_length=200)
    short_name = pw.CharField(max_length=64, null=True)
    name_key = pw.CharField(max_length=200, index=True)  # normalised name for duplicate checks
    credit_code = pw.CharField(max_length=18, null=True, index=True)  # 统一社会信用代码
    industry = pw.CharField(max_length=64, null=True)
    region = pw.ForeignKeyField(Region, null=True, on_delete="SET NULL")
    division = pw.ForeignKeyField(Division, on_delete="RESTRICT", index=True)
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", index=True)
    value_tier = pw.CharField(max_length=1, default="C")
    lifecycle = pw.CharField(max_length=16, default="lead", index=True)
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    address = pw.CharField(max_length=300, null=True)
    website = pw.CharField(max_length=200, null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    custom = JSONField(default=dict)  # admin-defined custom fields

    class Meta:
        table_name = "contacts_account"
        indexes = ((("division", "owner"), False),)


class Contact(BlindIndexMixin, TimestampedModel):
    __security_name__ = "contact"
    __scope_parent__ = "account"
    # the account's scope columns, copied by database triggers (security.mirrors): a
    # restricted page of contacts is then an index range, not a seek per account in scope
    __scope_mirror__ = {"owner": "account_owner_id", "division": "account_division_id",
                        "region": "account_region_id"}
    __masks__ = {"mobile": "phone", "phone": "phone", "email": "email", "wechat": "generic"}

    account = pw.ForeignKeyField(Account, backref="contacts", on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=100)
    title = pw.CharField(max_length=100, null=True)
    department_name = pw.CharField(max_length=100, null=True)
    mobile = EncryptedCharField(max_length=64, null=True)
    mobile_bidx = BlindIndexField("mobile", normalise_phone)
    phone = EncryptedCharField(max_length=64, null=True)
    phone_bidx = BlindIndexField("phone", normalise_phone)
    email = EncryptedCharField(max_length=200, null=True)
    email_bidx = BlindIndexField("email", normalise_email)
    wechat = EncryptedCharField(max_length=100, null=True)
    wechat_bidx = BlindIndexField("wechat", normalise_text)
    decision_role = pw.CharField(max_length=20, null=True)
    birthday = pw.DateField(null=True)
    custom = JSONField(default=dict)
    account_owner_id = ScopeMirrorField()
    account_division_id = ScopeMirrorField()
    account_region_id = ScopeMirrorField()

    class Meta:
        table_name = "contacts_contact"
        indexes = ((("account_division_id", "account_owner_id"), False),)


class Activity(TimestampedModel):
    """A timeline entry: call, visit (with address), meeting, email or note."""

    __security_name__ = "activity"
    __scope__ = {"owner": "owner", "division": "division"}

    kind = pw.CharField(max_length=16)
    subject = pw.CharField(max_length=200)
    content = pw.TextField(default="")
    address = pw.CharField(max_length=300, null=True)
    occurred_at = pw.DateTimeField(default=utcnow, index=True)
    res_model = pw.CharField(max_length=32)  # account / contact / lead / opportunity
    res_id = pw.IntegerField()
    account = pw.ForeignKeyField(Account, null=True, backref="activities", on_delete="CASCADE")
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    division = pw.ForeignKeyField(Division, on_delete="RESTRICT")

    class Meta:
        table_name = "contacts_activity"
        indexes = ((("res_model", "res_id", "occurred_at"), False),)


class Task(TimestampedModel):
    __security_name__ = "task"
    __scope__ = {"owner": "assignee", "division": "division"}

    title = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    assignee = pw.ForeignKeyField(User, on_delete="RESTRICT", index=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    due_at = pw.DateTimeField(null=True)
    remind_at = pw.DateTimeField(null=True)
    reminded_at = pw.DateTimeField(null=True)
    done_at = pw.DateTimeField(null=True)
    priority = pw.CharField(max_length=8, default="normal")  # low / normal / high
    res_model = pw.CharField(max_length=32, null=True)
    res_id = pw.IntegerField(null=True)
    account = pw.ForeignKeyField(Account, null=True, backref="tasks", on_delete="CASCADE")
    division = pw.ForeignKeyField(Division, on_delete="RESTRICT")

    class Meta:
        table_name = "contacts_task"
        indexes = ((("assignee", "done_at", "due_at"), False),
                   (("res_model", "res_id"), False))


MODELS = [Account, Contact, Activity, Task]
