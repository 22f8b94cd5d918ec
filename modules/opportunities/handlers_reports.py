"""Kanban, forecast, rolling view, snapshots, variance and stage durations — each a thin
handler over its service (`kanban`, `forecast`, `snapshots`, `durations`)."""
from __future__ import annotations

import datetime as dt

from core.web.base import APIError
from modules.opportunities import money
from modules.opportunities.handlers import OpportunitiesApiHandler


def _period(name: str, value: str | None, default: dt.date) -> dt.date:
    if value in (None, ""):
        return default
    try:
        return money.parse_period(value)
    except ValueError as exc:
        raise APIError(400, f"{name}: {exc}", fields={name: str(exc)}) from None


class KanbanHandler(OpportunitiesApiHandler):
    """`GET ?pipeline=&limit_per_stage=20&owner=&order=-updated_at`."""

    def get(self) -> None:
        from modules.opportunities.kanban import kanban
        self.write_json(kanban(self.ctx, self.int_arg("pipeline"),
                               self.int_arg("limit_per_stage", 20), self.int_arg("owner"),
                               self.get_query_argument("order", None)))


class ForecastHandler(OpportunitiesApiHandler):
    """`GET ?group=month,owner,team,category&from=YYYY-MM&to=YYYY-MM&pipeline=&owner=`
    (default: by month over the rolling three months)."""

    def get(self) -> None:
        from modules.opportunities.forecast import forecast
        this_month = money.month_start(money.local_today(self.ctx))
        start = _period("from", self.get_query_argument("from", None), this_month)
        end = _period("to", self.get_query_argument("to", None), money.add_months(start, 2))
        if end < start:
            raise APIError(400, "to 不能早于 from / to is before from", fields={"to": "before from"})
        groups = [g for g in self.get_query_argument("group", "month").split(",") if g]
        self.write_json(forecast(self.ctx, groups, start, money.month_end(end),
                                 self.int_arg("pipeline"), self.int_arg("owner")))


class RollingHandler(OpportunitiesApiHandler):
    def get(self) -> None:
        from modules.opportunities.forecast import rolling
        self.write_json(rolling(self.ctx, self.int_arg("pipeline")))


class SnapshotsHandler(OpportunitiesApiHandler):
    """`GET` the days with snapshots; `POST` takes today's now (needs the create right on
    `forecast_snapshot`; the daily job does it anyway)."""

    def get(self) -> None:
        from modules.opportunities.snapshots import snapshot_dates
        self.write_json({"taken_on": snapshot_dates(self.ctx)})

    def post(self) -> None:
        import security
        from security.context import system_context
        from modules.opportunities.snapshots import take_snapshot

        security.require(self.ctx, "create", "model/forecast_snapshot")
        system = system_context(self.registry, via="system")
        system.clock = self.ctx.clock
        rows = take_snapshot(system)
        self.write_json({"rows": rows, "taken_on": money.local_today(self.ctx).isoformat()},
                        201)


class VarianceHandler(OpportunitiesApiHandler):
    """`GET ?period=YYYY-MM&taken_on=YYYY-MM-DD` — forecast vs actual won, per owner."""

    def get(self) -> None:
        from modules.opportunities.snapshots import variance
        period = self.get_query_argument("period", None)
        if not period:
            period = money.period_label(money.local_today(self.ctx))
        try:
            money.parse_period(period)
            raw = self.get_query_argument("taken_on", None)
            taken_on = dt.date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise APIError(400, str(exc), fields={"period": str(exc)}) from None
        self.write_json(variance(self.ctx, period, taken_on))


class DurationsHandler(OpportunitiesApiHandler):
    """`GET ?pipeline=` — average time in each stage, sales cycle and win rate."""

    def get(self) -> None:
        from modules.opportunities.durations import stage_durations
        self.write_json(stage_durations(self.ctx, self.int_arg("pipeline")))
