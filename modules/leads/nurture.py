"""Nurture (培育): idle-lead rules and engagement events.

Rules (`NurtureRule`, edited through `/api/v1/leads/nurture-rules`): a lead that has sat
`idle_days` in `status` — no activity, status change or assignment in that time — gets
either a template e-mail or a task for its owner. `run(ctx, now)` (a periodic job, every
few minutes) fires each rule at most once per lead and idle period: a `NurtureRun` row keyed
by (rule, lead, start of the idleness) is written with the action, so a second worker or a
second run finds it and does nothing; new activity starts a new period.

E-mails go through the outbox (topic `notify.email`). The payload names the template and the
recipient *record* (`{"res_model": "lead", "res_id": …, "field": "email"}`), not the address:
the e-mail connector decrypts the address when it sends, so plaintext personal data never
sits in the outbox table (which admins can list), and an address corrected or erased in the
meantime is honoured. Leads without a usable e-mail are recorded as `no_email`.

The e-mail payload also carries `tracking` (form key, lead id, token) when the lead came from
a web form, so the connector can build links that report clicks back through the public
engagement endpoint (see `engagements`). Engagement events live in `engagements`.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from core import outbox
from core.db import atomic
from modules.leads.automation_models import NurtureRule, NurtureRun
from modules.leads.models import Lead

BATCH = 500
EMAIL_TOPIC = "notify.email"
COLUMNS = (Lead.id, Lead.name, Lead.division, Lead.owner, Lead.status, Lead.email_bidx,
           Lead.form_key,
           Lead.created_at, Lead.assigned_at, Lead.status_changed_at, Lead.last_activity_at,
           Lead.first_response_at, Lead.first_response_due_at, Lead.escalation_level)


# ------------------------------------------------------------------ idle rules
def run(ctx, now: dt.datetime | None = None) -> dict[str, int]:
    """Fire every active rule on the leads idle long enough; returns counts by outcome."""
    now = now or ctx.now()
    counts: dict[str, int] = {}
    rules = NurtureRule.select().where(NurtureRule.active == True)  # noqa: E712
    for rule in rules.order_by(NurtureRule.id):
        for outcome in _run_rule(ctx, rule, now):
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _idle_query(rule: NurtureRule, threshold: dt.datetime):
    query = Lead.select(*COLUMNS).where(
        Lead.status == rule.status, Lead.merged_into.is_null(), Lead.created_at <= threshold,
        *[f.is_null() | (f <= threshold) for f in
          (Lead.last_activity_at, Lead.status_changed_at, Lead.assigned_at)])
    if rule.division_id is not None:
        query = query.where(Lead.division == rule.division_id)
    return query


def idle_since(lead: Lead) -> dt.datetime:
    return max(t for t in (lead.created_at, lead.assigned_at, lead.status_changed_at,
                           lead.last_activity_at) if t is not None)


def _run_rule(ctx, rule: NurtureRule, now: dt.datetime):
    from modules.leads.sla import sync_activities

    threshold = now - dt.timedelta(days=rule.idle_days)
    query, last = _idle_query(rule, threshold), 0
    while True:
        batch = list(query.where(Lead.id > last).order_by(Lead.id).limit(BATCH))
        if not batch:
            return
        last = batch[-1].id
        sync_activities(ctx, batch)
        done = set(NurtureRun.select(NurtureRun.lead, NurtureRun.anchor)
                   .where(NurtureRun.rule == rule.id,
                          NurtureRun.lead.in_([lead.id for lead in batch])).tuples())
        for lead in batch:
            anchor = idle_since(lead)
            if anchor <= threshold and (lead.id, anchor) not in done:
                outcome = _fire(ctx, rule, lead, anchor, now)
                if outcome:
                    yield outcome


def _fire(ctx, rule: NurtureRule, lead: Lead, anchor: dt.datetime, now) -> str | None:
    """Record the run and act, in one savepoint; None when another run got there first."""
    if rule.action == "email":
        outcome = "emailed" if lead.email_bidx else "no_email"
    else:
        outcome = "task" if lead.owner_id else "no_owner"
    try:
        with atomic():
            NurtureRun.create(rule=rule.id, lead=lead.id, anchor=anchor, outcome=outcome,
                              fired_at=now)
            if outcome == "emailed":
                outbox.enqueue(EMAIL_TOPIC, {
                    "template": rule.template, "lead_id": lead.id, "rule_id": rule.id,
                    "division_id": lead.division_id,
                    "recipient": {"res_model": "lead", "res_id": lead.id, "field": "email"},
                    "tracking": tracking(lead)},
                    f"nurture-{rule.id}-{lead.id}-{anchor.isoformat()}")
            elif outcome == "task":
                _task(ctx, rule, lead, now)
    except pw.IntegrityError:
        return None
    return outcome


def tracking(lead: Lead) -> dict | None:
    """What a click-tracking link needs to report back (None: the lead has no web form)."""
    from modules.leads.engagements import engagement_token

    if not lead.form_key:
        return None
    return {"form_key": lead.form_key, "lead": lead.id,
            "token": engagement_token(lead.form_key, lead.id)}


def _task(ctx, rule: NurtureRule, lead: Lead, now: dt.datetime) -> None:
    from modules.contacts.tasks import create_task
    from security.context import Context

    system = ctx if ctx.user is None else Context(registry=ctx.registry, via="system",
                                                  clock=ctx.clock)
    due = now + dt.timedelta(days=rule.task_due_days)
    create_task(system, {"title": rule.task_title or rule.name, "assignee": lead.owner_id,
                         "due_at": due.isoformat(), "remind_at": due.isoformat(),
                         "description": f"培育规则 / nurture rule: {rule.name}",
                         "res_model": "lead", "res_id": lead.id})
