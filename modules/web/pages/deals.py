"""Deal pages (商机): the kanban by stage with drag and drop, stage moves (a move blocked by a
stage gate asks for what is missing in place, see `deals_gate.py`), the deal's detail with
its stage history (`deals_detail.py`) and the forecast (`deals_forecast.py`) — plus the
route table of the area.

    GET  /deals                   kanban (pipeline, owner=me); `partial=board` → the board only
    POST /deals/<id>/move         move to `stage` (+ the missing values asked by the gate dialog)
    GET  /deals/<id>, POST        detail with stage history; edit the writable fields
    POST /deals/<id>/competitors  add a competitor entry
    POST /deals/<id>/activities|tasks   the deal's timeline
    GET  /deals/forecast          rolling three months: table and chart

Amounts appear only where the service answered them (`amount` readable in clear): a
presales engineer's board, cards, detail and forecast carry no money at all.
"""
from __future__ import annotations

from modules.opportunities.models import Opportunity
from modules.web.pages.customers_common import AreaPage, optional

PER_STAGE = 30


def writable_ids(ctx, ids: list[int]) -> set[int]:
    """The deals among `ids` the caller may change (write right and write scope), one query."""
    import security

    if not ids or not security.can(ctx, "write", "model/opportunity"):
        return set()
    return {row.id for row in Opportunity.select(Opportunity.id).where(
        security.scope(ctx, Opportunity, "write") & Opportunity.id.in_(ids))}


def choose_pipeline(ctx, pipelines: list[dict], wanted: int | None) -> int | None:
    """The pipeline to show: the one asked for, else the caller's division default, else the
    first one they may read."""
    from modules.opportunities.pipelines import current_division

    if wanted is not None:
        return wanted
    mine = current_division(ctx)
    for pipeline in pipelines:
        if pipeline.get("is_default") and pipeline.get("division") == mine:
            return pipeline["id"]
    return pipelines[0]["id"] if pipelines else None


def label_pipelines(ctx, pipelines: list[dict]) -> list[dict]:
    """`label` of each pipeline: its name, plus its division's when several divisions show."""
    from modules.base.models import Division
    from modules.opportunities.present import labels

    divisions = {p.get("division") for p in pipelines}
    names = labels(ctx, Division, divisions) if len(divisions) > 1 else {}
    for pipeline in pipelines:
        name = pipeline.get("name") or f"#{pipeline['id']}"
        division = names.get(pipeline.get("division"))
        pipeline["label"] = f"{name} · {division}" if division else name
    return pipelines


def board_context(ctx, pipeline_arg: str | None, owner_arg: str | None) -> dict:
    """Everything the board shows, through the kanban service (scope and field rules)."""
    from core.web.base import APIError
    from modules.opportunities.kanban import kanban
    from modules.opportunities.pipelines import list_pipelines

    pipelines = optional(list_pipelines, ctx) or []
    wanted = int(pipeline_arg) if pipeline_arg and pipeline_arg.isdigit() else None
    pipeline_id = choose_pipeline(ctx, pipelines, wanted)
    if pipeline_id is None:
        raise APIError(404, "没有可查看的销售流程 / no pipeline you may read", code="not_found")
    mine = owner_arg == "me"
    board = kanban(ctx, pipeline_id, PER_STAGE, ctx.user_id if mine else None)
    ids = [d["id"] for stage in board["stages"] for d in stage["deals"]]
    return {"board": board, "pipelines": label_pipelines(ctx, pipelines),
            "pipeline_id": pipeline_id,
            "mine": mine, "movable_ids": writable_ids(ctx, ids)}


class KanbanPage(AreaPage):
    """`GET /deals`: the board of one pipeline in the caller's read scope."""

    def get(self) -> None:
        data = board_context(self.ctx, self.arg("pipeline"), self.arg("owner"))
        partial = self.is_htmx and self.arg("partial") == "board"
        self.render_page("deals/_board.html" if partial else "deals/kanban.html", **data)


def routes() -> list:
    from modules.web.pages import customers_timeline as timeline
    from modules.web.pages import deals_detail, deals_forecast, deals_gate

    return [
        (r"/deals", KanbanPage),
        (r"/deals/forecast", deals_forecast.ForecastPage),
        (r"/deals/(\d+)", deals_detail.DealDetailPage),
        (r"/deals/(\d+)/move", deals_gate.MovePage),
        (r"/deals/(\d+)/competitors", deals_detail.CompetitorPage),
        *timeline.routes("/deals", "opportunity"),
    ]
