"""Tables of lead automation (part 2 of the leads module): rules as data and their traces.

- Scoring: `ScoringRule` (one row per rule: kind + params + points) and `LeadEngagement`
  (web visits, e-mail clicks... posted by API) that engagement rules count.
- Assignment: ordered `AssignmentRule`s per division, each with its `AssignmentCursor`
  (round-robin position, updated under a row lock) and per-user `UserLeadCap` (open-lead cap
  and working hours).
- `Notification`: the in-app inbox (one row per recipient); the outbox carries the same event
  to the WeCom / DingTalk / e-mail connectors.
- SLA: `SlaPolicy` per division (first-response target, follow-up hours, escalation depth)
  and `SlaEvent` (breaches and escalations, for reports).
- Public pool: `PoolSettings` per division and `PoolMove` (every release, recycle and claim).
- Status SOP: `SopTransition` (allowed moves + required fields) and `SopTask` (follow-up
  tasks created on entering a status).
- Nurture: `NurtureRule` and `NurtureRun` (one firing per rule, lead and idle period).

Rows whose `division` is NULL are the defaults for every division; a division's own row wins.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, JSONField, TimestampedModel, utcnow
from modules.base.models import Department, Division, User
from modules.leads.models import Lead

OPEN_STATUSES = ("new", "contacted", "qualified", "quoting")
CLOSED_STATUSES = ("converted", "lost")


class ScoringRule(TimestampedModel):
    """`kind` ∈ source / field / budget / recency / engagement / hot; see `scoring.KINDS`."""

    __security_name__ = "lead_scoring_rule"
    __scope__ = {"division": "division"}

    code = pw.CharField(max_length=64, unique=True)
    label = pw.CharField(max_length=100)
    kind = pw.CharField(max_length=16)
    params = JSONField(default=dict)
    points = pw.IntegerField()
    sequence = pw.IntegerField(default=10)
    active = pw.BooleanField(default=True)
    division = pw.ForeignKeyField(Division, null=True, on_delete="CASCADE")

    class Meta:
        table_name = "leads_scoring_rule"


class LeadEngagement(BaseModel):
    """A marketing touch on a lead (web visit, e-mail open/click, download, webinar)."""

    __security_name__ = "lead_engagement"
    __scope_parent__ = "lead"

    lead = pw.ForeignKeyField(Lead, on_delete="CASCADE", backref="+")
    kind = pw.CharField(max_length=16)
    occurred_at = pw.DateTimeField(default=utcnow)
    details = JSONField(default=dict)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        table_name = "leads_engagement"
        indexes = ((("lead", "occurred_at"), False),)


class AssignmentRule(TimestampedModel):
    """Ordered per division; the first matching rule that has an eligible user wins."""

    __security_name__ = "lead_assignment_rule"
    __scope__ = {"division": "division"}

    name = pw.CharField(max_length=100)
    sequence = pw.IntegerField(default=10)
    division = pw.ForeignKeyField(Division, on_delete="CASCADE")
    match = JSONField(default=dict)  # {region, industry, source, score_min, score_max}
    team_users = JSONField(default=list)  # user ids, in rotation order
    team_department = pw.ForeignKeyField(Department, null=True, on_delete="SET NULL")
    strategy = pw.CharField(max_length=16, default="round_robin")
    named_user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    max_open = pw.IntegerField(null=True)  # per-user cap of open leads under this rule
    working_hours = JSONField(null=True)  # {"weekdays": [1..7], "ranges": [["09:00","18:00"]]}
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "leads_assignment_rule"
        indexes = ((("division", "sequence"), False),)


class AssignmentCursor(BaseModel):
    """Round-robin position of one rule: the last user served. Locked while assigning."""

    __security_name__ = "lead_assignment_cursor"

    rule = pw.ForeignKeyField(AssignmentRule, unique=True, on_delete="CASCADE")
    last_user = pw.IntegerField(null=True)
    assigned = pw.IntegerField(default=0)
    version = pw.IntegerField(default=0)

    class Meta:
        table_name = "leads_assignment_cursor"


class UserLeadCap(TimestampedModel):
    """A user's lead settings: cap of open leads and personal working hours (both optional)."""

    __security_name__ = "lead_user_cap"

    user = pw.ForeignKeyField(User, unique=True, on_delete="CASCADE", backref="+")
    max_open = pw.IntegerField(null=True)
    working_hours = JSONField(null=True)

    class Meta:
        table_name = "leads_user_cap"


class Notification(BaseModel):
    """One in-app notification for one user."""

    __security_name__ = "notification"
    __scope__ = {"owner": "user"}

    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="+")
    kind = pw.CharField(max_length=32)
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    res_model = pw.CharField(max_length=32, null=True)
    res_id = pw.IntegerField(null=True)
    priority = pw.CharField(max_length=8, default="normal")  # low / normal / high
    created_at = pw.DateTimeField(default=utcnow)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "leads_notification"
        indexes = ((("user", "read_at", "id"), False),)


class SlaPolicy(TimestampedModel):
    __security_name__ = "lead_sla_policy"
    __scope__ = {"division": "division"}

    division = pw.ForeignKeyField(Division, null=True, unique=True, on_delete="CASCADE")
    first_response_minutes = pw.IntegerField(default=5)
    followup_hours = pw.IntegerField(default=48)
    escalation_levels = pw.IntegerField(default=2)

    class Meta:
        table_name = "leads_sla_policy"


class SlaEvent(BaseModel):
    """A first-response breach (`level` 0) or a follow-up escalation step (`level` ≥ 1)."""

    __security_name__ = "lead_sla_event"
    __scope_parent__ = "lead"

    lead = pw.ForeignKeyField(Lead, on_delete="CASCADE", backref="+")
    kind = pw.CharField(max_length=24)  # first_response_breach / escalation
    level = pw.IntegerField(default=0)
    owner = pw.IntegerField(null=True)
    notified = JSONField(default=list)  # user ids
    at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "leads_sla_event"
        indexes = ((("lead", "kind", "level"), False),)


class PoolSettings(TimestampedModel):
    __security_name__ = "lead_pool_settings"
    __scope__ = {"division": "division"}

    division = pw.ForeignKeyField(Division, null=True, unique=True, on_delete="CASCADE")
    recycle_days = pw.IntegerField(default=30)
    claim_daily_limit = pw.IntegerField(default=20)
    protection_days = pw.IntegerField(default=7)

    class Meta:
        table_name = "leads_pool_settings"


class PoolMove(BaseModel):
    """A lead entering (`release`, `recycle`) or leaving (`claim`) the public pool."""

    __security_name__ = "lead_pool_move"
    __scope_parent__ = "lead"

    lead = pw.ForeignKeyField(Lead, on_delete="CASCADE", backref="+")
    division = pw.ForeignKeyField(Division, on_delete="CASCADE", backref="+")
    action = pw.CharField(max_length=16)
    from_user = pw.IntegerField(null=True)
    to_user = pw.IntegerField(null=True)
    actor = pw.IntegerField(null=True)
    reason = pw.CharField(max_length=200, null=True)
    at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "leads_pool_move"
        indexes = ((("actor", "action", "at"), False), (("lead", "at"), False))


class SopTransition(TimestampedModel):
    __security_name__ = "lead_sop_transition"

    from_status = pw.CharField(max_length=16)
    to_status = pw.CharField(max_length=16)
    required_fields = JSONField(default=list)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "leads_sop_transition"
        indexes = ((("from_status", "to_status"), True),)


class SopTask(TimestampedModel):
    """A follow-up task created for the owner when a lead enters `status`."""

    __security_name__ = "lead_sop_task"

    status = pw.CharField(max_length=16, index=True)
    title = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    due_days = pw.FloatField(default=1)
    priority = pw.CharField(max_length=8, default="normal")
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "leads_sop_task"


class NurtureRule(TimestampedModel):
    """Idle `idle_days` in `status` → e-mail template (outbox) or a task for the owner."""

    __security_name__ = "lead_nurture_rule"
    __scope__ = {"division": "division"}

    name = pw.CharField(max_length=100)
    division = pw.ForeignKeyField(Division, null=True, on_delete="CASCADE")
    status = pw.CharField(max_length=16)
    idle_days = pw.IntegerField()
    action = pw.CharField(max_length=16)  # email / task
    template = pw.CharField(max_length=100, null=True)
    task_title = pw.CharField(max_length=200, null=True)
    task_due_days = pw.FloatField(default=1)
    active = pw.BooleanField(default=True)

    class Meta:
        table_name = "leads_nurture_rule"


class NurtureRun(BaseModel):
    """One firing of a rule for a lead's idle period (`anchor`: when the idleness began)."""

    __security_name__ = "lead_nurture_run"

    rule = pw.ForeignKeyField(NurtureRule, on_delete="CASCADE", backref="+")
    lead = pw.ForeignKeyField(Lead, on_delete="CASCADE", backref="+")
    anchor = pw.DateTimeField()
    outcome = pw.CharField(max_length=16)  # emailed / task / no_email / no_owner
    fired_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "leads_nurture_run"
        indexes = ((("rule", "lead", "anchor"), True),)


AUTOMATION_MODELS = [ScoringRule, LeadEngagement, AssignmentRule, AssignmentCursor, UserLeadCap,
                     Notification, SlaPolicy, SlaEvent, PoolSettings, PoolMove, SopTransition,
                     SopTask, NurtureRule, NurtureRun]
