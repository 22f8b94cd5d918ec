"""The public pool of leads (线索公海), per division.

A lead without an owner lies in its division's pool. It gets there when no assignment rule
places it, when its owner releases it, or when the periodic recycle finds it untouched for
`PoolSettings.recycle_days` (no activity, status change or assignment in that time). Callers
holding `action/lead.pool` (sales reps and managers by default) browse the pool of the
division they work in and claim from it:

- reading the pool is its own scope: `pool_predicate` = the right AND owner IS NULL AND
  division = the caller's current division, OR-ed next to `security.scope(ctx, Lead,
  "read")` — so a rep whose lead scope is `own` still sees the pool, and nothing else of
  other people; columns and masking follow the caller's field rules as everywhere;
- claiming takes one conditional UPDATE (two reps at once: one wins, the other gets 409),
  at most `claim_daily_limit` per user per local day (429 `claim_limit`), and the user who
  released (or let recycle) a lead cannot claim it back during `protection_days` (409
  `protected`) — no parking leads in the pool to reset their clocks;
- releasing needs the lead in the caller's write scope.

Every move is a `PoolMove` row and an audit entry (`lead.pool_release`, `lead.pool_recycle`,
`lead.pool_claim`), in the transaction of the move.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import atomic
from core.web.base import APIError
from modules.leads.assignment import give
from modules.leads.automation_models import OPEN_STATUSES, PoolMove
from modules.leads.hours import local_day_start, zone_of
from modules.leads.models import Lead
from modules.leads.notify import Note, send
from modules.leads.policies import pool_setting, pool_settings
from security.crud import not_found, require_model
from security.scopes import FALSE, both, scope

POOL_ACTION = "action/lead.pool"
BATCH = 500


def may_use_pool(ctx) -> bool:
    import security

    return security.can(ctx, "execute", POOL_ACTION)


def current_division(ctx) -> int | None:
    import security

    return security.permissions(ctx).division_id


def pool_predicate(ctx) -> pw.Node:
    """Ownerless, unmerged leads of the caller's current division, for pool users."""
    division = current_division(ctx)
    if not may_use_pool(ctx) or division is None:
        return FALSE
    return Lead.owner.is_null() & (Lead.division == division) & Lead.merged_into.is_null()


def _audit(ctx, action: str, lead_id: int, division_id: int, old, new, reason=None) -> None:
    from security import audit

    details = {"changes": {"owner": {"old": old, "new": new}}}
    if reason:
        details["reason"] = reason
    audit.record(ctx, action, model=Lead._meta.table_name, res_id=lead_id, details=details,
                 division_id=division_id)


def _move(ctx, lead_id, division_id, action, old, new, reason=None, at=None) -> None:
    PoolMove.create(lead=lead_id, division=division_id, action=action, from_user=old,
                    to_user=new, actor=ctx.user_id, reason=reason, at=at or ctx.now())
    _audit(ctx, f"lead.pool_{action}", lead_id, division_id, old, new, reason)


# ------------------------------------------------------------------ release
def release(ctx, lead_id: int, reason: str | None = None) -> dict:
    """Put a lead the caller may write back into its division's pool."""
    import security

    require_model(ctx, Lead, "update")
    security.require(ctx, "execute", POOL_ACTION)
    if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
        raise APIError(422, "原因最多 200 字 / reason: text of at most 200 characters",
                       code="validation_failed", fields={"reason": "text ≤ 200"})
    now = ctx.now()
    writable = both(Lead.id == lead_id, scope(ctx, Lead, "write"))
    with atomic():
        row = (Lead.select(Lead.id, Lead.owner, Lead.division).where(writable).first()
               if writable is not FALSE else None)
        if row is None:
            raise _refuse(ctx, lead_id)
        if row.owner_id is None:
            raise APIError(409, "线索已在公海 / the lead is already in the pool",
                           code="in_pool")
        days = pool_setting(row.division_id).protection_days
        (Lead.update(owner=None, pool_entered_at=now, updated_at=now, escalation_level=0,
                     protected_until=now + dt.timedelta(days=days))
         .where(Lead.id == lead_id, Lead.owner == row.owner_id).execute())
        _move(ctx, lead_id, row.division_id, "release", row.owner_id, None, reason)
    return {"id": lead_id, "owner": None, "pool_entered_at": now.isoformat()}


def _refuse(ctx, lead_id: int) -> APIError:
    readable = scope(ctx, Lead, "read")
    if readable is not FALSE and Lead.select(Lead.id).where(
            both(Lead.id == lead_id, readable)).exists():
        return APIError(403, f"无权释放此线索 / not allowed to release lead {lead_id}",
                        code="forbidden")
    return not_found(Lead, lead_id)


# ------------------------------------------------------------------ claim
def claims_today(ctx, user_id: int) -> int:
    since = local_day_start(ctx.now(), zone_of(ctx.registry))
    return PoolMove.select().where(PoolMove.actor == user_id, PoolMove.action == "claim",
                                   PoolMove.at >= since).count()


def claim(ctx, lead_id: int) -> dict:
    """Make the caller the owner of a lead of their division's pool (see module doc)."""
    import security

    require_model(ctx, Lead, "read")
    security.require(ctx, "execute", POOL_ACTION)
    if ctx.user is None:
        raise APIError(422, "系统不能认领线索 / the system cannot claim leads")
    division = current_division(ctx)
    now = ctx.now()
    with atomic():
        lead = (Lead.select(Lead.id, Lead.owner, Lead.division, Lead.protected_until,
                            Lead.first_response_at, Lead.status, Lead.name)
                .where(Lead.id == lead_id, Lead.division == division,
                       Lead.merged_into.is_null()).first())
        if lead is None:
            raise not_found(Lead, lead_id)
        if lead.owner_id == ctx.user_id:
            return {"id": lead_id, "owner": ctx.user_id}
        if lead.owner_id is not None:
            raise APIError(409, "该线索已有负责人 / this lead already has an owner",
                           code="owned")
        if lead.status not in OPEN_STATUSES:
            raise APIError(409, "已关闭的线索不能认领 / a closed lead cannot be claimed",
                           code="closed")
        settings = pool_setting(division)
        _check_protection(ctx, lead, now)
        if claims_today(ctx, ctx.user_id) >= settings.claim_daily_limit:
            raise APIError(429, f"今日认领已达上限 {settings.claim_daily_limit} 条 / daily claim "
                           f"limit of {settings.claim_daily_limit} reached", code="claim_limit",
                           fields={"claim_daily_limit": settings.claim_daily_limit})
        taken = (Lead.update(owner=ctx.user_id, updated_at=now)
                 .where(Lead.id == lead_id, Lead.owner.is_null()).execute())
        if not taken:
            raise APIError(409, "该线索刚被他人认领 / someone else just claimed this lead",
                           code="owned")
        lead.owner = None  # `give` restarts the clocks for the new owner
        give(ctx, [lead], {lead.id: ctx.user_id}, notify=False)
        _move(ctx, lead_id, division, "claim", None, ctx.user_id)
    return {"id": lead_id, "owner": ctx.user_id, "assigned_at": now.isoformat()}


def _check_protection(ctx, lead: Lead, now: dt.datetime) -> None:
    """409 when the caller released (or let recycle) this lead and it is still protected."""
    if lead.protected_until is None or lead.protected_until <= now:
        return
    last = (PoolMove.select(PoolMove.from_user)
            .where(PoolMove.lead == lead.id, PoolMove.action.in_(("release", "recycle")))
            .order_by(PoolMove.at.desc(), PoolMove.id.desc()).first())
    if last is not None and last.from_user == ctx.user_id:
        until = lead.protected_until.isoformat(timespec="minutes")
        raise APIError(409, f"保护期内不能认领自己释放的线索（至 {until} UTC）/ you released this "
                       f"lead; you may claim it again after {until} UTC", code="protected",
                       fields={"protected_until": lead.protected_until.isoformat()})


# ------------------------------------------------------------------ recycle
def recycle(ctx, now: dt.datetime | None = None) -> int:
    """Return untouched leads to their pools (the periodic job); returns how many moved."""
    from modules.leads.automation_models import PoolSettings
    from modules.leads.policies import Pool
    from modules.leads.sla import sync_activities

    now = now or ctx.now()
    shortest = min([s.recycle_days for s in PoolSettings.select()] or [Pool.recycle_days])
    threshold = now - dt.timedelta(days=shortest)
    query = (Lead.select(Lead.id, Lead.name, Lead.owner, Lead.division, Lead.assigned_at,
                         Lead.last_activity_at, Lead.status_changed_at, Lead.created_at,
                         Lead.first_response_at, Lead.first_response_due_at,
                         Lead.escalation_level)
             .where(Lead.owner.is_null(False), Lead.status.in_(OPEN_STATUSES),
                    Lead.merged_into.is_null(), Lead.created_at <= threshold,
                    *[f.is_null() | (f <= threshold) for f in
                      (Lead.last_activity_at, Lead.assigned_at, Lead.status_changed_at)]))
    moved, last = 0, 0
    while True:
        batch = list(query.where(Lead.id > last).order_by(Lead.id).limit(BATCH))
        if not batch:
            return moved
        last = batch[-1].id
        sync_activities(ctx, batch)
        settings = pool_settings(lead.division_id for lead in batch)
        for lead in batch:
            days = settings[lead.division_id].recycle_days
            touched = max(t for t in (lead.last_activity_at, lead.assigned_at,
                                      lead.status_changed_at, lead.created_at) if t)
            if touched <= now - dt.timedelta(days=days):
                moved += _recycle_one(ctx, lead, days, settings[lead.division_id], now)


def _recycle_one(ctx, lead: Lead, days: int, settings, now: dt.datetime) -> int:
    with atomic():
        changed = (Lead.update(owner=None, pool_entered_at=now, updated_at=now,
                               escalation_level=0,
                               protected_until=now + dt.timedelta(days=settings.protection_days))
                   .where(Lead.id == lead.id, Lead.owner == lead.owner_id).execute())
        if not changed:
            return 0
        _move(ctx, lead.id, lead.division_id, "recycle", lead.owner_id, None,
              f"{days} 天未跟进 / untouched for {days} days", now)
        send(ctx, [Note(user_id=lead.owner_id, kind="lead_recycled",
                        title=f"线索已回收到公海 / Lead returned to the pool: {lead.name}",
                        body=f"{days} 天未跟进 / untouched for {days} days", res_id=lead.id,
                        topic="notify.lead_recycled",
                        key=f"lead-recycled-{lead.id}-{now.isoformat()}",
                        extra={"lead_id": lead.id, "division_id": lead.division_id})])
    return 1


# ------------------------------------------------------------------ browsing
def list_pool(ctx, params, get) -> dict:
    """`GET /api/v1/leads/pool`: the current division's pool under the caller's field rules;
    filters `source`, `industry`, `region`, `status`; sorts `pool_entered_at`, `score`,
    `created_at`, `id`; keyset pages."""
    import security
    from modules.contacts.paging import Sort
    from security.fields import permitted_columns
    from security.serialisation import serialise

    require_model(ctx, Lead, "read")
    security.require(ctx, "execute", POOL_ACTION)
    sorts = {"pool_entered_at": Sort(Lead.pool_entered_at, null_as=dt.datetime(1970, 1, 1)),
             "score": Sort(Lead.score), "created_at": Sort(Lead.created_at), "id": Sort(Lead.id)}
    query = Lead.select(*permitted_columns(ctx, Lead)).where(pool_predicate(ctx))
    for name in ("source", "industry", "status"):
        if get(name):
            query = query.where(getattr(Lead, name) == get(name))
    if get("region"):
        from modules.contacts.common import record_id
        query = query.where(Lead.region == record_id(get("region"), "region"))
    rows = list(params.apply(ctx, Lead, query, sorts).dicts())
    rows, cursor = params.page(rows, sorts)
    items = serialise(ctx, Lead, rows)
    for item in items:
        for key in [k for k in item if k.endswith("_bidx")]:
            del item[key]
    return {"items": params.select_fields(Lead, items), "next": cursor}
