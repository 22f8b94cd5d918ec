"""The sales pipeline: pipelines with ordered stages and stage gates, opportunities (deals),
their competitors, stage history and forecast snapshots.

Visibility: opportunities carry owner and division (`__scope__`); competitors and stage
changes follow their opportunity, stages and gates follow their pipeline
(`__scope_parent__`); pipelines are per division. Forecast snapshots carry owner and
division so a manager sees the snapshots of their team only.

Money is `Decimal` in the install's currency (CNY); times are naive UTC.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, TimestampedModel, utcnow
from modules.base.models import Department, Division, User
from modules.contacts.models import Account, Contact

STAGE_KINDS = ("open", "won", "lost")
CATEGORIES = ("commit", "best_case", "pipeline", "omitted")
GATE_KINDS = ("required_field", "condition")


def money(null: bool = True, **kwargs) -> pw.DecimalField:
    return pw.DecimalField(max_digits=16, decimal_places=2, null=null, **kwargs)


class Pipeline(TimestampedModel):
    """A division's sales process. `default_key` holds the division id while the pipeline
    is that division's default, so a unique index allows one default per division (NULLs
    do not collide) even when two processes seed it at the same time."""

    __security_name__ = "pipeline"
    __scope__ = {"division": "division"}

    division = pw.ForeignKeyField(Division, on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=100)
    is_default = pw.BooleanField(default=False)
    default_key = pw.IntegerField(null=True, unique=True)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "opportunities_pipeline"


class Stage(BaseModel):
    """One step of a pipeline: probability 0–100 and kind open / won / lost."""

    __security_name__ = "pipeline_stage"
    __scope_parent__ = "pipeline"

    pipeline = pw.ForeignKeyField(Pipeline, backref="stages", on_delete="CASCADE")
    name = pw.CharField(max_length=64)
    name_en = pw.CharField(max_length=64, default="")
    sequence = pw.IntegerField(default=10)
    probability = pw.SmallIntegerField(default=0)
    kind = pw.CharField(max_length=8, default="open")

    class Meta:
        table_name = "opportunities_stage"
        indexes = ((("pipeline", "sequence"), False),)


class StageGate(BaseModel):
    """A requirement a deal must meet to enter `stage`: a filled field (`field`) or a
    declarative condition (`condition`, JSON such as `{"type": "contact_role", "role":
    "decision_maker"}`). `code` names it in the 422 answer."""

    __security_name__ = "pipeline_stage_gate"
    __scope_parent__ = "stage"

    stage = pw.ForeignKeyField(Stage, backref="gates", on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    code = pw.CharField(max_length=64)
    field = pw.CharField(max_length=64, null=True)
    condition = JSONField(null=True)
    message = pw.CharField(max_length=200, default="")
    message_en = pw.CharField(max_length=200, default="")
    sequence = pw.IntegerField(default=10)

    class Meta:
        table_name = "opportunities_stage_gate"


class Opportunity(TimestampedModel):
    """A deal. `probability` overrides the stage's while the deal is open;
    `stage_entered_at` gives the time in stage; `cycle_seconds` is the sales cycle, set
    when the deal is won or lost."""

    __security_name__ = "opportunity"
    __scope__ = {"owner": "owner", "division": "division"}

    name = pw.CharField(max_length=200)
    account = pw.ForeignKeyField(Account, backref="opportunities", on_delete="RESTRICT",
                                 index=True)
    contact = pw.ForeignKeyField(Contact, null=True, backref="opportunities",
                                 on_delete="SET NULL")
    division = pw.ForeignKeyField(Division, on_delete="RESTRICT")
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", index=True)
    pipeline = pw.ForeignKeyField(Pipeline, on_delete="RESTRICT")
    stage = pw.ForeignKeyField(Stage, on_delete="RESTRICT", index=True)
    amount = money()
    currency = pw.CharField(max_length=3, default="CNY")
    budget = money()
    expected_close = pw.DateField(null=True, index=True)
    forecast_category = pw.CharField(max_length=16, default="pipeline")
    probability = pw.SmallIntegerField(null=True)
    lost_reason = pw.CharField(max_length=500, null=True)
    description = pw.TextField(default="")
    stage_entered_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True, index=True)
    cycle_seconds = pw.BigIntegerField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    custom = JSONField(default=dict)  # admin-defined custom fields

    class Meta:
        table_name = "opportunities_opportunity"
        indexes = ((("division", "owner"), False), (("pipeline", "stage"), False))


class OpportunityCompetitor(BaseModel):
    __security_name__ = "opportunity_competitor"
    __scope_parent__ = "opportunity"

    opportunity = pw.ForeignKeyField(Opportunity, backref="competitors", on_delete="CASCADE",
                                     index=True)
    name = pw.CharField(max_length=200)
    strengths = pw.TextField(default="")
    threat = pw.CharField(max_length=8, default="medium")  # low / medium / high
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "opportunities_competitor"


class StageChange(BaseModel):
    """One stage change: who, when, from, to, and how long the deal sat in `from_stage`.
    The first row of a deal (`from_stage` NULL) is its creation."""

    __security_name__ = "opportunity_stage_change"
    __scope_parent__ = "opportunity"

    opportunity = pw.ForeignKeyField(Opportunity, backref="stage_changes", on_delete="CASCADE")
    from_stage = pw.ForeignKeyField(Stage, null=True, on_delete="RESTRICT", backref="+")
    to_stage = pw.ForeignKeyField(Stage, on_delete="RESTRICT", backref="+")
    user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    at = pw.DateTimeField(default=utcnow)
    seconds_in_from_stage = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "opportunities_stage_change"
        indexes = ((("opportunity", "at"), False), (("from_stage",), False))


class ForecastSnapshot(BaseModel):
    """Open pipeline of one owner, month (`period` `YYYY-MM` of expected close) and
    forecast category as it stood on `taken_on` — kept to report forecast vs actual."""

    __security_name__ = "forecast_snapshot"
    __scope__ = {"owner": "owner", "division": "division"}

    taken_on = pw.DateField(index=True)
    taken_at = pw.DateTimeField(default=utcnow)
    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    period = pw.CharField(max_length=7)
    owner = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    team = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    category = pw.CharField(max_length=16)
    count = pw.IntegerField(default=0)
    amount = money(null=False, default=0)
    weighted = money(null=False, default=0)

    class Meta:
        table_name = "opportunities_forecast_snapshot"
        indexes = ((("taken_on", "period", "division"), False),)


MODELS = [Pipeline, Stage, StageGate, Opportunity, OpportunityCompetitor, StageChange,
          ForecastSnapshot]
