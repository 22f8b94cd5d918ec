"""`/`: the dashboard (工作台) — lead funnel, first-response SLA compliance, pipeline by stage
and the viewer's tasks due, each an ECharts chart over figures scoped to the viewer
(`modules.web.dashboard`). A panel the viewer may not see is left out."""
from __future__ import annotations

from modules.web import charts, dashboard
from modules.web.shell import PageHandler

PANELS = (
    ("funnel", dashboard.lead_funnel, charts.funnel_option),
    ("sla", dashboard.first_response_sla, charts.sla_option),
    ("pipeline", dashboard.pipeline_by_stage, charts.pipeline_option),
    ("tasks", dashboard.my_tasks_due, charts.tasks_option),
)


class DashboardPage(PageHandler):
    def get(self) -> None:
        figures, options = {}, {}
        for key, figure, option in PANELS:
            figures[key] = figure(self.ctx)
            if figures[key] is not None:
                options[key] = option(self.translator, figures[key])  # None: nothing to draw
        self.render_page("dashboard/index.html", figures=figures, options=options,
                         task_link=task_link)


def task_link(task: dict) -> str | None:
    """The page of the record a task hangs on (lead, deal or account), if any."""
    pages = {"lead": "/leads/{}", "opportunity": "/deals/{}", "account": "/accounts/{}",
             "contact": "/contacts/{}"}
    model, res_id = task.get("res_model"), task.get("res_id")
    if model in pages and isinstance(res_id, int):
        return pages[model].format(res_id)
    if isinstance(task.get("account"), int):
        return f"/accounts/{task['account']}"
    return None


def routes() -> list:
    return [(r"/", DashboardPage)]
