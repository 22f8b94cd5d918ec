"""Forecast snapshots and forecast-vs-actual variance.

`take_snapshot(registry)` (the daily job, and `POST .../forecast/snapshots` for an
administrator) stores, for every division, owner, month of the rolling three-month window
and forecast category, the open pipeline's count, amount and weighted amount as it stands
today. Taking it again the same day replaces that day's rows, so the job may safely rerun.

`variance(ctx, period)` compares a snapshot's forecast for one month with what was actually
won in that month (by close time), per owner: `actual - commit` and `actual - weighted`.
By default the snapshot is the latest one taken on or before the month's first day — the
forecast as it stood going into the month. Both sides run in the caller's read scope
(snapshots carry owner and division); amounts only for callers who may read `amount`.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import peewee as pw

from core.db import atomic
from core.web.base import APIError
from modules.base.models import User
from modules.opportunities import money
from modules.opportunities.forecast import FORECAST, figures, visibility, won_by_month
from modules.opportunities.models import ForecastSnapshot, Opportunity, Stage
from modules.opportunities.present import clear_fields, labels


def take_snapshot(ctx) -> int:
    """Snapshot today's rolling three-month pipeline (the system acts: every division);
    return the number of rows stored."""
    today = money.local_today(ctx)
    first = money.month_start(today)
    last = money.month_end(money.add_months(first, 2))
    month = money.month_of_date(Opportunity.expected_close)
    amount = money.cents(Opportunity.amount)
    probability = pw.fn.COALESCE(Opportunity.probability, Stage.probability)
    keys = [Opportunity.division, month, Opportunity.owner, User.department,
            Opportunity.forecast_category]
    rows = (Opportunity.select(*keys, pw.fn.COUNT(Opportunity.id), pw.fn.SUM(amount),
                               pw.fn.SUM(amount * probability))
            .join(Stage, on=(Opportunity.stage == Stage.id)).switch(Opportunity)
            .join(User, pw.JOIN.LEFT_OUTER, on=(Opportunity.owner == User.id))
            .where((Stage.kind == "open") & (Opportunity.expected_close >= first)
                   & (Opportunity.expected_close <= last))
            .group_by(*keys).tuples())
    now = ctx.now()
    records = [{"taken_on": today, "taken_at": now, "division": division, "period": period,
                "owner": owner, "team": team, "category": category, "count": count,
                "amount": money.from_cents(cents),
                "weighted": money.from_cent_percent(weighted)}
               for division, period, owner, team, category, count, cents, weighted in rows]
    with atomic():
        ForecastSnapshot.delete().where(ForecastSnapshot.taken_on == today).execute()
        for start in range(0, len(records), 500):
            ForecastSnapshot.insert_many(records[start:start + 500]).execute()
    return len(records)


def snapshot_dates(ctx, limit: int = 60) -> list[str]:
    """The days snapshots were taken on that hold rows the caller may read, newest first."""
    import security
    from security.crud import require_model

    require_model(ctx, ForecastSnapshot, "list")
    rows = (ForecastSnapshot.select(ForecastSnapshot.taken_on).distinct()
            .where(security.scope(ctx, ForecastSnapshot, "read"))
            .order_by(ForecastSnapshot.taken_on.desc()).limit(limit).tuples())
    return [day.isoformat() for (day,) in rows]


def _snapshot_day(ctx, period: str, first: dt.date, taken_on: dt.date | None) -> dt.date:
    import security

    where = (security.scope(ctx, ForecastSnapshot, "read")
             & (ForecastSnapshot.period == period))
    where &= (ForecastSnapshot.taken_on == taken_on) if taken_on else (
        ForecastSnapshot.taken_on <= first)
    day = (ForecastSnapshot.select(pw.fn.MAX(ForecastSnapshot.taken_on)).where(where)
           .scalar())
    if day is None:
        raise APIError(404, f"没有 {period} 的预测快照 / no forecast snapshot for {period}",
                       code="not_found", fields={"taken_on": "no snapshot"})
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10])


def variance(ctx, period: str, taken_on: dt.date | None = None) -> dict:
    """Forecast (from a snapshot) vs actual won, per owner, for month `period`."""
    import security
    from security.crud import require_model

    require_model(ctx, ForecastSnapshot, "list")
    first = money.parse_period(period)
    day = _snapshot_day(ctx, period, first, taken_on)
    forecast_rows = list(
        ForecastSnapshot.select(ForecastSnapshot.owner.alias("owner"),
                                ForecastSnapshot.category.alias("category"),
                                pw.fn.SUM(ForecastSnapshot.count).alias("count"),
                                pw.fn.SUM(money.cents(ForecastSnapshot.amount))
                                .alias("amount_cents"),
                                pw.fn.SUM(money.cents(ForecastSnapshot.weighted))
                                .alias("weighted_cents"))
        .where(security.scope(ctx, ForecastSnapshot, "read")
               & (ForecastSnapshot.taken_on == day) & (ForecastSnapshot.period == period))
        .group_by(ForecastSnapshot.owner, ForecastSnapshot.category).dicts())
    actual = won_by_month(ctx, first, money.month_end(first), by_owner=True)
    return _compare(ctx, period, day, forecast_rows, actual)


def _compare(ctx, period, day, forecast_rows, actual) -> dict:
    amounts, _ = visibility(ctx)
    amounts = amounts and {"amount", "weighted"} <= clear_fields(ctx, ForecastSnapshot)
    owners = sorted({r["owner"] for r in forecast_rows} | {o for (_, o) in actual},
                    key=lambda o: (o is None, o or 0))
    names = labels(ctx, User, owners)
    rows, totals = [], {"forecast": {}, "actual": {}}
    for owner in owners:
        mine = {r["category"]: r for r in forecast_rows if r["owner"] == owner}
        won = actual.get((period, owner), {})
        row = {"owner": owner, "owner_name": names.get(owner),
               "forecast": _forecast_figures(mine, amounts),
               "actual": _cents_figures(won.get("count"), won.get("amount_cents"), amounts)}
        if amounts:
            row["variance"] = _variance(row)
        rows.append(row)
        _accumulate(totals, row, amounts)
    if amounts:
        totals["variance"] = _variance(totals)
    return {"period": period, "taken_on": day.isoformat(), "rows": rows, "total": totals}


def _forecast_figures(by_category: dict, amounts: bool) -> dict:
    out = {}
    weighted_cents, count = 0, 0
    for name in FORECAST:
        row = by_category.get(name, {})
        out[name] = figures(row, amounts, False)
        count += int(row.get("count") or 0)
        weighted_cents += int(row.get("weighted_cents") or 0)
    out["count"] = count
    if amounts:
        out["weighted"] = money.text(money.from_cents(weighted_cents))
    return out


def _cents_figures(count, cents, amounts: bool) -> dict:
    out = {"count": int(count or 0)}
    if amounts:
        out["amount"] = money.text(money.from_cents(cents))
    return out


def _variance(row: dict) -> dict:
    actual = Decimal(row["actual"]["amount"])
    commit = Decimal(row["forecast"]["commit"]["amount"])
    weighted = Decimal(row["forecast"]["weighted"])
    return {"vs_commit": money.text(actual - commit), "vs_weighted": money.text(actual - weighted)}


def _accumulate(totals: dict, row: dict, amounts: bool) -> None:
    dec = Decimal
    forecast, actual = totals["forecast"], totals["actual"]
    for name in FORECAST:
        slot = forecast.setdefault(name, {"count": 0, **({"amount": "0.00"} if amounts else {})})
        slot["count"] += row["forecast"][name]["count"]
        if amounts:
            slot["amount"] = money.text(dec(slot["amount"]) + dec(row["forecast"][name]["amount"]))
    forecast["count"] = forecast.get("count", 0) + row["forecast"]["count"]
    actual["count"] = actual.get("count", 0) + row["actual"]["count"]
    if amounts:
        forecast["weighted"] = money.text(dec(forecast.get("weighted", "0.00"))
                                          + dec(row["forecast"]["weighted"]))
        actual["amount"] = money.text(dec(actual.get("amount", "0.00"))
                                      + dec(row["actual"]["amount"]))
