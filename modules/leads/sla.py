"""SLA clocks: first response and follow-up escalation, stored per lead for reports.

First response (default target 5 minutes, `SlaPolicy.first_response_minutes` per division):
the clock starts when a lead gets an owner (`assigned_at`, `first_response_due_at`) and stops
at the lead's first response — the first activity (call, visit, meeting, e-mail, note) logged
on it, or its first status change out of `new`, whoever does it (the customer got an answer).
`first_response_at` and `first_response_met` (True when on time) are stored on the lead; a
lead still unanswered when `check` runs past its due time is marked `first_response_met =
False` at once (an `SlaEvent` of kind `first_response_breach`), and its owner and the
owner's manager are notified.

Follow-up (default 48 h, `followup_hours`): counted from the latest activity, else the
assignment. After N hours without activity the owner's manager is notified (level 1), after
2N the manager's manager (level 2), … up to `escalation_levels`; each step fires once
(`Lead.escalation_level` moves by a conditional UPDATE, so two workers never both fire it)
and is kept as an `SlaEvent`. Any new activity resets the level to 0; so does a new owner.

Activities are logged through `POST /api/v1/leads/<id>/activities`, which updates the clocks
at once; activities logged elsewhere (the generic `/api/v1/activities` API) are caught up by
`check`, which looks up the activities of every lead it is about to act on (one grouped
query per batch) before breaching or escalating it.

`check(ctx, now)` is run every minute by a periodic job; tests call it with explicit times.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import peewee as pw

from core.db import atomic
from modules.base.models import User
from modules.leads.automation_models import OPEN_STATUSES, SlaEvent, SlaPolicy
from modules.leads.models import Lead
from modules.leads.notify import Note, send
from modules.leads.policies import Sla, sla_policies
from modules.leads.txn import transaction

BATCH = 500
COLUMNS = (Lead.id, Lead.name, Lead.division, Lead.owner, Lead.assigned_at,
           Lead.first_response_at, Lead.first_response_due_at, Lead.last_activity_at,
           Lead.escalation_level)


# ------------------------------------------------------------------ recording responses
def record_response(ctx, lead_ids: Iterable[int], at: dt.datetime) -> None:
    """An activity (or a status change out of `new`) happened on these leads at `at`: stop
    the first-response clock if it runs, move `last_activity_at` forward, reset escalation."""
    ids = sorted(set(lead_ids))
    if not ids:
        return
    due = Lead.first_response_due_at
    met = pw.Case(None, [(due.is_null(), None), (due >= at, True)], False)
    with transaction():
        (Lead.update(first_response_at=at, first_response_met=met)
         .where(Lead.id.in_(ids), Lead.first_response_at.is_null(), Lead.owner.is_null(False))
         .execute())
        (Lead.update(last_activity_at=at, escalation_level=0)
         .where(Lead.id.in_(ids), Lead.last_activity_at.is_null() | (Lead.last_activity_at < at))
         .execute())


def activity_spans(lead_ids: list[int]) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    """`{lead id: (first, latest activity time)}` from the contacts timeline (one query)."""
    from modules.contacts.models import Activity

    if not lead_ids:
        return {}
    query = (Activity.select(Activity.res_id, pw.fn.MIN(Activity.occurred_at),
                             pw.fn.MAX(Activity.occurred_at))
             .where(Activity.res_model == "lead", Activity.res_id.in_(lead_ids))
             .group_by(Activity.res_id))
    return {res_id: (first, last) for res_id, first, last in query.tuples()}


def _as_dt(value):
    if isinstance(value, str):  # SQLite aggregates come back as text
        return dt.datetime.fromisoformat(value)
    return value


def sync_activities(ctx, leads: list[Lead]) -> int:
    """Catch up the clocks of `leads` with activities logged outside this module; the
    instances are updated in place. Returns how many leads moved."""
    spans = activity_spans([lead.id for lead in leads])
    moved = 0
    for lead in leads:
        span = spans.get(lead.id)
        if span is None:
            continue
        first, last = _as_dt(span[0]), _as_dt(span[1])
        stale_first = lead.first_response_at is None and lead.owner_id is not None
        stale_last = lead.last_activity_at is None or lead.last_activity_at < last
        if not (stale_first or stale_last):
            continue
        if stale_first:
            record_response(ctx, [lead.id], first)
            due = lead.first_response_due_at
            lead.first_response_at = first
            lead.first_response_met = None if due is None else first <= due
        record_response(ctx, [lead.id], last)
        if stale_last:
            lead.last_activity_at, lead.escalation_level = last, 0
        moved += 1
    return moved


# ------------------------------------------------------------------ the periodic check
def check(ctx, now: dt.datetime | None = None) -> dict[str, int]:
    """Breach overdue first responses and escalate idle leads as of `now` (default
    `ctx.now()`); returns counts."""
    now = now or ctx.now()
    breaches = first_response_breaches(ctx, now)
    escalations = escalate(ctx, now)
    return {"breaches": breaches, "escalations": escalations}


def _open(query):
    return query.where(Lead.owner.is_null(False), Lead.status.in_(OPEN_STATUSES),
                       Lead.merged_into.is_null())


def _batches(query):
    """Keyset over `query` by lead id, BATCH leads at a time."""
    last = 0
    while True:
        batch = list(query.where(Lead.id > last).order_by(Lead.id).limit(BATCH))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def first_response_breaches(ctx, now: dt.datetime) -> int:
    query = _open(Lead.select(*COLUMNS)).where(
        Lead.first_response_at.is_null(), Lead.first_response_met.is_null(),
        Lead.first_response_due_at <= now)
    count = 0
    for batch in _batches(query):
        sync_activities(ctx, batch)
        late = [lead for lead in batch if lead.first_response_at is None]
        chains = manager_chains({lead.owner_id for lead in late}, 1)
        for lead in late:
            with atomic():
                changed = (Lead.update(first_response_met=False)
                           .where(Lead.id == lead.id, Lead.first_response_met.is_null(),
                                  Lead.first_response_at.is_null()).execute())
                if changed:
                    _breach(ctx, lead, chains.get(lead.owner_id, []), now)
                    count += 1
    return count


def _breach(ctx, lead: Lead, chain: list[int], now: dt.datetime) -> None:
    recipients = [lead.owner_id, *chain[:1]]
    key = f"lead-frt-breach-{lead.id}-{lead.assigned_at.isoformat() if lead.assigned_at else ''}"
    send(ctx, [Note(user_id=user, kind="sla_first_response", priority="high",
                    title=f"首次响应超时 / First response overdue: {lead.name}",
                    body="线索分配后未在时限内联系 / not contacted within the target",
                    res_id=lead.id, topic="notify.lead_sla_breach", key=f"{key}-{user}",
                    extra={"lead_id": lead.id, "owner_id": lead.owner_id})
               for user in recipients])
    SlaEvent.create(lead=lead.id, kind="first_response_breach", level=0, owner=lead.owner_id,
                    notified=recipients, at=now)


def _anchor(lead: Lead) -> dt.datetime | None:
    stamps = [t for t in (lead.last_activity_at, lead.assigned_at) if t is not None]
    return max(stamps) if stamps else None


def escalate(ctx, now: dt.datetime) -> int:
    """Fire every follow-up escalation step that is due."""
    policies = list(SlaPolicy.select())
    shortest = min([p.followup_hours for p in policies] or [Sla.followup_hours])
    deepest = max([p.escalation_levels for p in policies] or [Sla.escalation_levels])
    anchor = pw.fn.COALESCE(Lead.last_activity_at, Lead.assigned_at)
    query = _open(Lead.select(*COLUMNS)).where(
        Lead.escalation_level < deepest, anchor <= now - dt.timedelta(hours=shortest))
    fired = 0
    for batch in _batches(query):
        sync_activities(ctx, batch)
        per_division = sla_policies(lead.division_id for lead in batch)
        due = [(lead, _target(lead, per_division[lead.division_id], now)) for lead in batch]
        due = [(lead, level) for lead, level in due if level > lead.escalation_level]
        chains = manager_chains({lead.owner_id for lead, _ in due}, deepest)
        for lead, level in due:
            fired += _escalate_one(ctx, lead, level, chains.get(lead.owner_id, []), now)
    return fired


def _target(lead: Lead, policy: Sla, now: dt.datetime) -> int:
    anchor = _anchor(lead)
    if anchor is None or policy.followup_hours <= 0:
        return 0
    steps = int((now - anchor) / dt.timedelta(hours=policy.followup_hours))
    return min(steps, policy.escalation_levels)


def _escalate_one(ctx, lead: Lead, level: int, chain: list[int], now: dt.datetime) -> int:
    current = lead.escalation_level
    with atomic():
        changed = (Lead.update(escalation_level=level)
                   .where(Lead.id == lead.id, Lead.escalation_level == current).execute())
        if not changed:
            return 0
        anchor = _anchor(lead)
        idle = int((now - anchor).total_seconds() // 3600)
        notes, events = [], []
        for step in range(current + 1, level + 1):
            manager = chain[step - 1] if len(chain) >= step else None
            events.append({"lead": lead.id, "kind": "escalation", "level": step,
                           "owner": lead.owner_id, "notified": [manager] if manager else [],
                           "at": now})
            if manager is not None:
                notes.append(Note(
                    user_id=manager, kind="sla_escalation", priority="high",
                    title=f"线索跟进超时（{step} 级）/ Lead follow-up overdue (level {step}): "
                          f"{lead.name}",
                    body=f"已 {idle} 小时无跟进 / no activity for {idle} hours",
                    res_id=lead.id, topic="notify.lead_escalation",
                    key=f"lead-escalation-{lead.id}-{step}-{anchor.isoformat()}",
                    extra={"lead_id": lead.id, "owner_id": lead.owner_id, "level": step}))
        SlaEvent.insert_many(events).execute()
        send(ctx, notes)
    lead.escalation_level = level
    return level - current


def manager_chains(owner_ids: set, depth: int) -> dict[int, list[int]]:
    """`{owner: [manager, manager's manager, …]}` up to `depth` levels (one query per level)."""
    chains: dict[int, list[int]] = {o: [] for o in owner_ids if o is not None}
    frontier = {o: o for o in chains}  # owner → the user whose manager we look up next
    for _ in range(depth):
        if not frontier:
            break
        managers = dict(User.select(User.id, User.manager)
                        .where(User.id.in_(sorted(set(frontier.values())))).tuples())
        nxt = {}
        for owner, user in frontier.items():
            manager = managers.get(user)
            if manager is not None and manager != owner and manager not in chains[owner]:
                chains[owner].append(manager)
                nxt[owner] = manager
        frontier = nxt
    return chains
