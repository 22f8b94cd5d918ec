"""Forecast: the weighted open pipeline by month, owner, team and forecast category, and the
rolling three-month view.

Weighted amount = amount × probability / 100, where probability is the deal's override when
set, else its stage's. Only open deals with an expected close date count; the month is the
month of the expected close; the team is the owner's department. Category `omitted` is
left out, except as its own rows when the answer is split by category (never in totals).
Sums are exact (see `money`). Everything runs in the caller's read scope, one grouped query
per figure set; amounts appear only when the caller may read `amount` in clear (and
weighted ones only when `probability` too) — otherwise the answer carries counts only.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from core.web.base import APIError
from modules.base.models import Department, User
from modules.opportunities import money
from modules.opportunities.models import CATEGORIES, Opportunity, Stage
from modules.opportunities.present import clear_fields, labels

GROUPS = {"month": "expected_close", "owner": "owner", "team": "owner",
          "category": "forecast_category"}
FORECAST = ("commit", "best_case", "pipeline")  # `omitted` stays out of totals


def visibility(ctx) -> tuple[bool, bool]:
    """(may see amounts, may see weighted amounts)."""
    clear = clear_fields(ctx)
    amounts = "amount" in clear
    return amounts, amounts and "probability" in clear


def effective_probability() -> pw.Node:
    return pw.fn.COALESCE(Opportunity.probability, Stage.probability)


def _measures() -> list:
    amount = money.cents(Opportunity.amount)
    return [pw.fn.COUNT(Opportunity.id).alias("count"),
            pw.fn.SUM(amount).alias("amount_cents"),
            pw.fn.SUM(amount * effective_probability()).alias("weighted_cp")]


def figures(row: dict, amounts: bool, weighted: bool) -> dict:
    """count / amount / weighted of one aggregate row, as the caller may see them."""
    out = {"count": int(row.get("count") or 0)}
    if amounts:
        out["amount"] = money.text(money.from_cents(row.get("amount_cents")))
    if weighted:
        out["weighted"] = money.text(money.from_cent_percent(row.get("weighted_cp")))
    return out


def add(total: dict, row: dict) -> None:
    total["count"] = total.get("count", 0) + int(row.get("count") or 0)
    total["amount_cents"] = total.get("amount_cents", 0) + int(row.get("amount_cents") or 0)
    total["weighted_cp"] = total.get("weighted_cp", 0) + int(row.get("weighted_cp") or 0)


def _check_groups(ctx, groups: list[str]) -> None:
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise APIError(400, "group: one or more of " + ", ".join(GROUPS), code="bad_request",
                       fields={"group": "one or more of " + ", ".join(GROUPS)})
    clear = clear_fields(ctx)
    hidden = [g for g in groups if GROUPS[g] not in clear]
    if hidden:
        raise APIError(403, "无权按这些字段分组 / not allowed to group by: " + ", ".join(hidden),
                       code="forbidden_fields", fields={g: "hidden" for g in hidden})


def open_query(ctx, start: dt.date, end: dt.date, pipeline: int | None = None,
               owner: int | None = None) -> pw.ModelSelect:
    """Open deals in the caller's scope expected to close within `start`..`end`."""
    import security
    from security.crud import require_model

    require_model(ctx, Opportunity, "list")
    where = (security.scope(ctx, Opportunity, "read") & (Stage.kind == "open")
             & (Opportunity.expected_close >= start) & (Opportunity.expected_close <= end))
    if pipeline is not None:
        where &= Opportunity.pipeline == pipeline
    if owner is not None:
        where &= Opportunity.owner == owner
    return (Opportunity.select().join(Stage, on=(Opportunity.stage == Stage.id))
            .switch(Opportunity).where(where))


def forecast(ctx, groups: list[str], start: dt.date, end: dt.date,
             pipeline: int | None = None, owner: int | None = None) -> dict:
    """Weighted pipeline grouped by any of month / owner / team / category."""
    _check_groups(ctx, groups)
    amounts, weighted = visibility(ctx)
    keys = {"month": money.month_of_date(Opportunity.expected_close).alias("month"),
            "owner": Opportunity.owner.alias("owner"),
            "team": User.department.alias("team"),
            "category": Opportunity.forecast_category.alias("category")}
    columns = [keys[g] for g in groups]
    query = open_query(ctx, start, end, pipeline, owner)
    if "category" not in groups:  # omitted deals are reported only when split by category
        query = query.where(Opportunity.forecast_category != "omitted")
    if "team" in groups:
        query = query.join(User, pw.JOIN.LEFT_OUTER, on=(Opportunity.owner == User.id))
    rows = list(query.select(*columns, *_measures()).group_by(*columns).dicts())
    names = _names(ctx, groups, rows)
    out, total = [], {}
    for row in sorted(rows, key=lambda r: tuple(str(r[g]) for g in groups)):
        item = {g: row[g] for g in groups}
        for group, mapping in names.items():
            item[f"{group}_name"] = mapping.get(row[group])
        out.append({**item, **figures(row, amounts, weighted)})
        if row.get("category", "pipeline") != "omitted":
            add(total, row)
    return {"from": money.period_label(start), "to": money.period_label(end),
            "group": groups, "rows": out, "total": figures(total, amounts, weighted)}


def _names(ctx, groups, rows) -> dict[str, dict]:
    names = {}
    if "owner" in groups:
        names["owner"] = labels(ctx, User, (r["owner"] for r in rows))
    if "team" in groups:
        names["team"] = labels(ctx, Department, (r["team"] for r in rows))
    return names


def rolling(ctx, pipeline: int | None = None) -> dict:
    """This month and the next two (in the install's zone): per month the open pipeline by
    category, the forecast total (commit + best case + pipeline) and the deals already won
    in that month."""
    amounts, weighted = visibility(ctx)
    first = money.month_start(money.local_today(ctx))
    last = money.month_end(money.add_months(first, 2))
    month = money.month_of_date(Opportunity.expected_close).alias("month")
    category = Opportunity.forecast_category.alias("category")
    rows = list(open_query(ctx, first, last, pipeline)
                .select(month, category, *_measures()).group_by(month, category).dicts())
    won = won_by_month(ctx, first, last, pipeline)
    months = []
    for label in money.months_between(first, last):
        mine = [r for r in rows if r["month"] == label]
        by_category, total = {}, {}
        for name in CATEGORIES:
            row = next((r for r in mine if r["category"] == name), {})
            by_category[name] = figures(row, amounts, weighted)
            if name in FORECAST:
                add(total, row)
        months.append({"month": label, "categories": by_category,
                       "forecast": figures(total, amounts, weighted),
                       "closed_won": figures(won.get(label, {}), amounts, False)})
    return {"from": money.period_label(first), "to": money.period_label(last),
            "months": months}


def won_by_month(ctx, first: dt.date, last: dt.date, pipeline: int | None = None,
                 by_owner: bool = False) -> dict:
    """Won deals closed in local months `first`..`last`: `{month: row}` (or
    `{(month, owner): row}`), in the caller's read scope."""
    import security
    from security.crud import require_model

    require_model(ctx, Opportunity, "list")
    settings = ctx.registry.settings
    start, end = money.utc_bounds(settings, first, last)
    month = money.month_of_time(Opportunity.closed_at,
                                money.offset_hours(settings, start)).alias("month")
    where = (security.scope(ctx, Opportunity, "read") & (Stage.kind == "won")
             & (Opportunity.closed_at >= start) & (Opportunity.closed_at < end))
    if pipeline is not None:
        where &= Opportunity.pipeline == pipeline
    columns = [month, Opportunity.owner.alias("owner")] if by_owner else [month]
    rows = (Opportunity.select(*columns, *_measures())
            .join(Stage, on=(Opportunity.stage == Stage.id)).where(where)
            .group_by(*columns).dicts())
    if by_owner:
        return {(r["month"], r["owner"]): r for r in rows}
    return {r["month"]: r for r in rows}
