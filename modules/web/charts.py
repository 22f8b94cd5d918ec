"""ECharts option dicts for the dashboard, built on the server from scoped figures and labelled
in the request language. Pages embed them with `json_script` and `static/huike.js` draws every
`.hk-chart` — no inline script, no data fetched from outside."""
from __future__ import annotations

import decimal

from modules.leads.models import STATUSES

COLOURS = ["#1d4ed8", "#0891b2", "#16a34a", "#ca8a04", "#ea580c", "#9333ea", "#64748b"]


def _base(title: str) -> dict:
    return {"color": COLOURS, "title": {"text": title, "left": "center",
                                         "textStyle": {"fontSize": 14}},
            "tooltip": {}, "animation": False}


def funnel_option(_, funnel: dict) -> dict | None:
    if not funnel["total"]:
        return None
    en = _.lang == "en"
    data = [{"name": STATUSES[code][1 if en else 0], "value": count}
            for code, count in funnel["stages"]]
    option = _base(_("dashboard.funnel.title"))
    option.update({"tooltip": {"trigger": "item"},
                   "series": [{"type": "funnel", "sort": "none", "left": "4%", "width": "58%",
                               "top": 40, "bottom": 10, "minSize": "20%", "gap": 2,
                               "label": {"show": True, "position": "right",
                                         "formatter": "{b}: {c}"},
                               "labelLine": {"show": True},
                               "data": data}]})
    return option


def sla_option(_, sla: dict) -> dict | None:
    """A ring of the clocks by outcome (None when there is no clock to show)."""
    if not any(sla[k] for k in ("met", "breached", "overdue", "waiting")):
        return None
    names = {key: _(f"dashboard.sla.{key}") for key in ("met", "breached", "overdue", "waiting")}
    option = _base(_("dashboard.sla.title"))
    option.update({"color": ["#16a34a", "#dc2626", "#ea580c", "#94a3b8"],
                   "tooltip": {"trigger": "item"},
                   "legend": {"bottom": 0, "type": "scroll"},
                   "series": [{"type": "pie", "radius": ["40%", "65%"], "center": ["50%", "50%"],
                               "label": {"formatter": "{b}: {c}"},
                               "data": [{"name": names[k], "value": sla[k]} for k in names
                                        if sla[k]]}]})
    return option


def pipeline_option(_, pipeline: dict) -> dict:
    en = _.lang == "en"
    stages = pipeline["stages"]
    labels = [(s["name_en"] if en and s.get("name_en") else s["name"]) for s in stages]
    option = _base(_("dashboard.pipeline.title"))
    series = [{"type": "bar", "name": _("dashboard.pipeline.count"), "yAxisIndex": 0,
               "data": [s["count"] for s in stages]}]
    axes = [{"type": "value", "minInterval": 1}]  # the legend names both series
    if pipeline["amounts"]:
        series.append({"type": "bar", "name": _("dashboard.pipeline.amount"), "yAxisIndex": 1,
                       "data": [float(decimal.Decimal(s["amount"] or 0)) for s in stages]})
        axes.append({"type": "value", "splitLine": {"show": False}})
    option.update({"tooltip": {"trigger": "axis"}, "legend": {"bottom": 0},
                   "grid": {"left": 10, "right": 10, "top": 40,
                            "bottom": 70, "containLabel": True},
                   "xAxis": {"type": "category", "data": labels,
                             "axisLabel": {"interval": 0, "rotate": 30}},
                   "yAxis": axes, "series": series})
    return option


def tasks_option(_, tasks: dict) -> dict:
    labels = [_("dashboard.tasks.overdue") if day == "overdue" else day[5:]
              for day, _count in tasks["by_day"]]
    values = [{"value": count, "itemStyle": {"color": "#dc2626"}} if day == "overdue"
              else count for day, count in tasks["by_day"]]
    option = _base(_("dashboard.tasks.chart"))
    option.update({"tooltip": {"trigger": "axis"},
                   "grid": {"left": 40, "right": 10, "top": 40, "bottom": 30,
                            "containLabel": True},
                   "xAxis": {"type": "category", "data": labels},
                   "yAxis": {"type": "value", "minInterval": 1},
                   "series": [{"type": "bar", "name": _("dashboard.tasks.count"),
                               "data": values}]})
    return option
