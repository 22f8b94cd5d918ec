"""The lead record and what hangs off it.

A lead carries the ~15 fields a rep fills in under three minutes; contact channels are AES-GCM
encrypted with blind indexes (dedup against leads, contacts and accounts). `owner` null means
the lead sits in its division's public pool (公海). SLA clocks and compliance are stored on the
lead so reports are one query.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, TimestampedModel
from modules.base.models import Division, Region, User
from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                             normalise_email, normalise_text)

SOURCES = {  # code → (zh_CN, en)
    "website": ("官网", "Website"), "sem": ("SEM", "SEM"), "seo": ("SEO", "SEO"),
    "douyin": ("抖音", "Douyin"), "wechat_mp": ("微信公众号", "WeChat official account"),
    "expo": ("展会", "Trade show"), "referral": ("转介绍", "Referral"), "ads": ("广告", "Ads"),
    "phone": ("电话", "Phone"), "other": ("其他", "Other"),
}
STATUSES = {  # code → (zh_CN, en)
    "new": ("新线索", "New"), "contacted": ("初步沟通", "Contacted"),
    "qualified": ("意向明确", "Qualified"), "quoting": ("报价阶段", "Quoting"),
    "converted": ("已转化", "Converted"), "lost": ("已流失", "Lost"),
}


def normalise_lead_phone(value: str) -> str:
    """Phones through `phonenumbers` (CN default) to one canonical key, so every spelling of
    one number has one blind index — the same key contacts' `normalise_phone` gives, in the
    same `phone` domain, so leads dedupe against contacts. Imported lazily."""
    from modules.leads.normalise import phone_key
    return phone_key(value)


normalise_lead_phone.index_domain = "phone"  # comparable with contacts' phone indexes


class BreakdownField(JSONField):
    """A score breakdown: stored as a pointer to its shared text (`breakdown.pointer`, what
    scoring writes) or as the full list (rows written before, ORM saves); always read as the
    full list."""

    def python_value(self, value):
        from modules.leads.breakdown import expand

        value = super().python_value(value)
        return expand(value) if value.__class__ is dict else value


class ScoreTemplate(BaseModel):
    """One distinct score breakdown text, stored once and pointed at by leads
    (`modules.leads.breakdown`); rows are never changed or deleted."""

    digest = pw.CharField(max_length=16, primary_key=True)
    body = pw.TextField()

    class Meta:
        table_name = "leads_score_template"


class Lead(BlindIndexMixin, TimestampedModel):
    __security_name__ = "lead"
    __scope__ = {"owner": "owner", "division": "division", "region": "region"}
    __masks__ = {"mobile": "phone", "email": "email", "wechat": "generic"}

    name = pw.CharField(max_length=100)
    company = pw.CharField(max_length=200, null=True)
    company_key = pw.CharField(max_length=200, null=True, index=True)
    title = pw.CharField(max_length=100, null=True)
    mobile = EncryptedCharField(max_length=64, null=True)
    mobile_bidx = BlindIndexField("mobile", normalise_lead_phone)
    email = EncryptedCharField(max_length=200, null=True)
    email_bidx = BlindIndexField("email", normalise_email)
    wechat = EncryptedCharField(max_length=100, null=True)
    wechat_bidx = BlindIndexField("wechat", normalise_text)
    source = pw.CharField(max_length=16, default="other")  # 10 values: an index would not pay
    campaign = pw.CharField(max_length=100, null=True)
    region = pw.ForeignKeyField(Region, null=True, on_delete="SET NULL")
    industry = pw.CharField(max_length=64, null=True)
    budget = pw.DecimalField(max_digits=16, decimal_places=2, null=True)
    need = pw.TextField(null=True)
    status = pw.CharField(max_length=16, default="new")  # (division, owner, status) below
    lost_reason = pw.CharField(max_length=200, null=True)
    division = pw.ForeignKeyField(Division, on_delete="RESTRICT")  # alone too: id order
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    score = pw.IntegerField(default=0, index=True)
    score_breakdown = BreakdownField(default=list)
    hot = pw.BooleanField(default=False)
    # clocks
    assigned_at = pw.DateTimeField(null=True)
    first_response_due_at = pw.DateTimeField(null=True, index=True)
    first_response_at = pw.DateTimeField(null=True)
    first_response_met = pw.BooleanField(null=True)  # None until decided
    last_activity_at = pw.DateTimeField(null=True)  # read through COALESCE: no index use
    escalation_level = pw.IntegerField(default=0)
    status_changed_at = pw.DateTimeField(null=True)
    # public pool
    pool_entered_at = pw.DateTimeField(null=True)
    protected_until = pw.DateTimeField(null=True)
    # conversion
    converted_at = pw.DateTimeField(null=True)
    account_id = pw.IntegerField(null=True)
    contact_id = pw.IntegerField(null=True)
    opportunity_id = pw.IntegerField(null=True)
    merged_into = pw.IntegerField(null=True)  # set on leads merged into another (unindexed:
    # nearly every row is NULL, an index would only lure SQLite's planner off the blind indexes)
    # capture
    form_key = pw.CharField(max_length=64, null=True)
    import_key = pw.CharField(max_length=64, null=True, unique=True)  # idempotent re-import
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+",
                                    index=False)  # never queried (users are deactivated)
    custom = JSONField(default=dict)

    class Meta:
        # Only indexes the queries on leads use — each costs every imported row a B-tree
        # insert (migrations/v1_1_0__lead_index_diet.py: the ones dropped, and why).
        table_name = "leads_lead"
        indexes = ((("division", "owner", "status"), False),)


MODELS = [ScoreTemplate, Lead]

from modules.leads.models_capture import CAPTURE_MODELS  # noqa: E402  forms, mappings, imports

MODELS += CAPTURE_MODELS
