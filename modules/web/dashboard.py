"""The dashboard's figures, scoped to the viewer: the lead funnel, first-response SLA
compliance, the pipeline by stage, and the viewer's tasks falling due.

Every figure goes through the door: counts are SQL aggregates over `security.scope(ctx, Model,
"read")`, and a figure grouped by a field is computed only when the viewer may read that field
in clear (a grouped count of a hidden or masked field would leak it). The pipeline and the
tasks come from the same services as the API (`opportunities.kanban.kanban`,
`contacts.tasks.list_tasks`). A figure the viewer may not see is `None` (the page leaves the
panel out) — never an error."""
from __future__ import annotations

import datetime as dt
import decimal

import peewee as pw

import security
from core.web.base import APIError

FUNNEL_STATUSES = ("new", "contacted", "qualified", "quoting", "converted")
TASK_HORIZON_DAYS = 7
TASK_LIMIT = 50


def clear_fields(ctx, model, *names: str) -> bool:
    """May the viewer read every one of `names` of `model` in clear (not hidden, not masked)?"""
    levels = security.permitted_fields(ctx, model, "read")
    return all(levels.level(name) in ("read", "write") for name in names)


def _leads_visible(ctx, *fields: str) -> bool:
    from modules.leads.models import Lead

    return security.can(ctx, "read", "model/lead") and clear_fields(ctx, Lead, *fields)


def lead_funnel(ctx) -> dict | None:
    """`{"stages": [(code, count)...], "lost": n}` over the viewer's leads (merged ones left
    out), or None when the viewer may not read leads' status."""
    from modules.leads.models import Lead

    if not _leads_visible(ctx, "status"):
        return None
    query = (Lead.select(Lead.status, pw.fn.COUNT(Lead.id).alias("n"))
             .where(security.scope(ctx, Lead, "read") & Lead.merged_into.is_null())
             .group_by(Lead.status).tuples())
    counts = dict(query)
    return {"stages": [(code, int(counts.get(code, 0))) for code in FUNNEL_STATUSES],
            "lost": int(counts.get("lost", 0)), "total": int(sum(counts.values()))}


def first_response_sla(ctx) -> dict | None:
    """Met / breached / still open first-response clocks over the viewer's leads, with the
    compliance rate of the decided ones (None when nothing is decided yet)."""
    from modules.leads.models import Lead

    if not _leads_visible(ctx, "first_response_met", "first_response_due_at"):
        return None
    now = ctx.now()
    met = Lead.first_response_met
    bucket = pw.Case(None, [(met == True, "met"), (met == False, "breached"),  # noqa: E712
                            (Lead.first_response_due_at < now, "overdue")], "waiting")
    query = (Lead.select(bucket.alias("bucket"), pw.fn.COUNT(Lead.id).alias("n"))
             .where(security.scope(ctx, Lead, "read") & Lead.merged_into.is_null()
                    & (met.is_null(False) | Lead.first_response_due_at.is_null(False)))
             .group_by(bucket).tuples())
    counts = {"met": 0, "breached": 0, "overdue": 0, "waiting": 0}
    counts.update({key: int(n) for key, n in query})
    decided = counts["met"] + counts["breached"]
    rate = round(100.0 * counts["met"] / decided, 1) if decided else None
    return {**counts, "decided": decided, "rate": rate}


def pipeline_by_stage(ctx) -> dict | None:
    """The default pipeline's open stages (won and lost left out) with deal counts and, when
    the viewer may see amounts, their sums — from the kanban service; None when the viewer may
    not see deals by stage."""
    from modules.opportunities.kanban import kanban

    if not security.can(ctx, "read", "model/opportunity"):
        return None
    try:
        board = kanban(ctx, limit_per_stage=1)
    except APIError as exc:
        if exc.status_code in (403, 404):
            return None
        raise
    stages = [{"id": s["id"], "name": s["name"], "name_en": s.get("name_en"),
               "count": s["count"], "amount": s.get("amount_sum")}
              for s in board["stages"] if s.get("kind", "open") == "open"]
    amounts = bool(stages) and all(s["amount"] is not None for s in stages)
    total = {"count": sum(s["count"] for s in stages)}
    if amounts:
        total["amount_sum"] = str(sum((decimal.Decimal(s["amount"]) for s in stages),
                                      decimal.Decimal(0)))
    return {"pipeline": board["pipeline"], "stages": stages, "total": total,
            "amounts": amounts}


def my_tasks_due(ctx) -> dict | None:
    """The viewer's open tasks due within `TASK_HORIZON_DAYS` (overdue ones included), soonest
    first, and their count per day (`overdue` for anything already late)."""
    from modules.contacts.models import Task
    from modules.contacts.paging import ListParams
    from modules.contacts.tasks import list_tasks

    if not security.can(ctx, "read", "model/task") or not clear_fields(ctx, Task, "due_at"):
        return None
    now = ctx.now()
    query = {"assignee": "me", "done": "false", "sort": "due_at", "limit": str(TASK_LIMIT),
             "due_before": (now + dt.timedelta(days=TASK_HORIZON_DAYS)).isoformat()}
    items = list_tasks(ctx, ListParams.parse(query.get, "due_at"), query.get)["items"]
    return {"items": items, "by_day": _by_day(items, now)}


def _by_day(items: list[dict], now: dt.datetime) -> list[tuple[str, int]]:
    """`[("overdue", n), ("2026-03-01", n), ...]`: days in Asia/Shanghai, overdue first."""
    from modules.web.formatting import fmt_date, to_local

    today = to_local(now).date()
    days = [today + dt.timedelta(days=i) for i in range(TASK_HORIZON_DAYS + 1)]
    counts = {"overdue": 0, **{day.isoformat(): 0 for day in days}}
    for item in items:
        if item.get("overdue"):
            counts["overdue"] += 1
        elif item.get("due_at"):
            key = fmt_date(item["due_at"])
            if key in counts:
                counts[key] += 1
    return list(counts.items())
