"""The forecast page (`/deals/forecast`): the rolling three months (this month and the next
two) of the caller's open pipeline by forecast category, the forecast total and the deals
already won, as a table and an ECharts chart; plus the same months split by owner.

Figures come from the forecast service, which answers amounts only to callers who may read
`amount` in clear (weighted ones only with `probability` too) — otherwise counts only. The
chart shows what the table shows: weighted amounts, else amounts, else counts; a caller
without amounts gets no money in the page, not even in the chart's data.
"""
from __future__ import annotations

from modules.opportunities.models import CATEGORIES
from modules.web.pages.customers_common import AreaPage, optional

FORECAST_CATEGORIES = ("commit", "best_case", "pipeline")


def measure(figures: dict) -> str:
    """The figure the page shows: `weighted`, else `amount`, else `count`."""
    for name in ("weighted", "amount"):
        if name in figures:
            return name
    return "count"


def number(value) -> float:
    return float(value or 0)


def chart_option(translate, months: list[dict], metric: str) -> dict:
    """An ECharts option: stacked bars per forecast category, a line for closed won."""
    labels = [m["month"] for m in months]
    series = [{"name": translate(f"deals.category.{c}"), "type": "bar", "stack": "forecast",
               "data": [number(m["categories"][c].get(metric)) for m in months]}
              for c in FORECAST_CATEGORIES]
    won_metric = "amount" if metric != "count" else "count"
    series.append({"name": translate("deals.forecast.closed_won"), "type": "line",
                   "data": [number(m["closed_won"].get(won_metric)) for m in months]})
    return {"tooltip": {"trigger": "axis"},
            "legend": {"data": [s["name"] for s in series], "bottom": 0},
            "grid": {"left": 60, "right": 20, "top": 20, "bottom": 60},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": {"type": "value", "name": translate(f"deals.forecast.metric.{metric}")},
            "series": series}


class ForecastPage(AreaPage):
    """`GET /deals/forecast?pipeline=`."""

    def get(self) -> None:
        from modules.opportunities import money
        from modules.opportunities.forecast import forecast, rolling

        ctx = self.ctx
        raw = self.arg("pipeline")
        pipeline = int(raw) if raw and raw.isdigit() else None
        view = rolling(ctx, pipeline)
        metric = measure(view["months"][0]["forecast"]) if view["months"] else "count"
        first = money.parse_period(view["from"])
        last = money.month_end(money.parse_period(view["to"]))
        by_owner = optional(forecast, ctx, ["owner"], first, last, pipeline)
        self.render_page("deals/forecast.html", view=view, metric=metric,
                         categories=CATEGORIES, forecast_categories=FORECAST_CATEGORIES,
                         by_owner=by_owner, chart=chart_option(self._, view["months"], metric))
