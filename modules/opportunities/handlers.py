"""HTTP API of the opportunities module: the shared handler base, the deal endpoints and the
route table. Pipelines/stages/gates are in `handlers_pipelines.py`; kanban, forecast and
snapshots in `handlers_reports.py`. Handlers parse, call a service and answer; every rule
(door, gates, scopes) lives in the services.
"""
from __future__ import annotations

from core.web.base import APIError, BaseHandler


class OpportunitiesApiHandler(BaseHandler):
    """Every route needs a signed-in caller."""

    def prepare(self) -> None:
        super().prepare()
        self.require_user()

    def args(self) -> dict:
        """Query arguments as `{name: last value}`."""
        return {name: self.get_query_argument(name) for name in self.request.query_arguments}

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        if not raw.isdigit():
            raise APIError(400, f"{name} 必须是整数 / {name} must be an integer",
                           fields={name: "integer expected"})
        return int(raw)


class OpportunitiesHandler(OpportunitiesApiHandler):
    """`GET` a page of deals (filters, sort, `after`, `limit`, `fields`); `POST` creates one."""

    def get(self) -> None:
        from modules.opportunities.listing import list_opportunities
        self.write_json(list_opportunities(self.ctx, self.args()))

    def post(self) -> None:
        from modules.opportunities import services
        self.write_json(services.create(self.ctx, self.json_body()), 201)


class OpportunityHandler(OpportunitiesApiHandler):
    """`GET` / `PATCH` / `DELETE` one deal."""

    def get(self, opp_id: str) -> None:
        from modules.opportunities import services
        self.write_json(services.detail(self.ctx, opp_id))

    def patch(self, opp_id: str) -> None:
        from modules.opportunities import services
        self.write_json(services.update(self.ctx, opp_id, self.json_body()))

    def delete(self, opp_id: str) -> None:
        from modules.opportunities import services
        services.delete(self.ctx, opp_id)
        self.set_status(204)
        self.finish()


class MoveHandler(OpportunitiesApiHandler):
    """`POST {"stage": id, "lost_reason"?}` — 422 `stage_gate` lists what is missing."""

    def post(self, opp_id: str) -> None:
        from modules.opportunities.moves import move
        self.write_json(move(self.ctx, opp_id, self.json_body()))


class HistoryHandler(OpportunitiesApiHandler):
    """`GET` the deal's stage changes (who, when, from, to, seconds in the stage left)."""

    def get(self, opp_id: str) -> None:
        from modules.opportunities.moves import history
        self.write_json({"changes": history(self.ctx, opp_id)})


class CompetitorsHandler(OpportunitiesApiHandler):
    def get(self, opp_id: str) -> None:
        from modules.opportunities.competitors import list_competitors
        self.write_json({"competitors": list_competitors(self.ctx, opp_id)})

    def post(self, opp_id: str) -> None:
        from modules.opportunities.competitors import add_competitor
        self.write_json(add_competitor(self.ctx, opp_id, self.json_body()), 201)


class CompetitorHandler(OpportunitiesApiHandler):
    def delete(self, opp_id: str, competitor_id: str) -> None:
        from modules.opportunities.competitors import remove_competitor
        remove_competitor(self.ctx, opp_id, competitor_id)
        self.set_status(204)
        self.finish()


def opportunities_routes() -> list:
    from modules.opportunities import handlers_pipelines as pipes
    from modules.opportunities import handlers_reports as reports

    v1 = r"/api/v1"
    opp = rf"{v1}/opportunities"
    pipe = rf"{v1}/pipelines/(\d+)"
    return [
        (opp, OpportunitiesHandler),
        (rf"{opp}/kanban", reports.KanbanHandler),
        (rf"{opp}/forecast", reports.ForecastHandler),
        (rf"{opp}/forecast/rolling", reports.RollingHandler),
        (rf"{opp}/forecast/variance", reports.VarianceHandler),
        (rf"{opp}/forecast/snapshots", reports.SnapshotsHandler),
        (rf"{opp}/stage-durations", reports.DurationsHandler),
        (rf"{opp}/(\d+)", OpportunityHandler),
        (rf"{opp}/(\d+)/move", MoveHandler),
        (rf"{opp}/(\d+)/history", HistoryHandler),
        (rf"{opp}/(\d+)/competitors", CompetitorsHandler),
        (rf"{opp}/(\d+)/competitors/(\d+)", CompetitorHandler),
        (rf"{v1}/pipelines", pipes.PipelinesHandler),
        (pipe, pipes.PipelineHandler),
        (rf"{pipe}/stages", pipes.StagesHandler),
        (rf"{pipe}/stages/(\d+)", pipes.StageHandler),
        (rf"{pipe}/stages/(\d+)/gates", pipes.GatesHandler),
        (rf"{pipe}/stages/(\d+)/gates/(\d+)", pipes.GateHandler),
    ]
