"""`/api/v1/pipelines…`: pipelines with their stages (read by everyone who works deals) and
the administrator's edits of pipelines, stages and stage gates (no code: gates are data)."""
from __future__ import annotations

from core.web.base import APIError
from modules.opportunities import pipeline_admin as admin
from modules.opportunities.handlers import OpportunitiesApiHandler
from modules.opportunities.pipelines import get_pipeline, list_pipelines


class PipelinesHandler(OpportunitiesApiHandler):
    """`GET ?division=` the pipelines in scope (the current division's default is seeded on
    first use); `POST {"division", "name", "copy_from"?}` creates one."""

    def get(self) -> None:
        self.write_json({"pipelines": list_pipelines(self.ctx, self.int_arg("division"))})

    def post(self) -> None:
        self.write_json(admin.create_pipeline(self.ctx, self.json_body()), 201)


class PipelineHandler(OpportunitiesApiHandler):
    """`GET` one pipeline with stages; `PATCH {"name", "active", "is_default": true}`."""

    def get(self, pipeline_id: str) -> None:
        self.write_json(get_pipeline(self.ctx, pipeline_id))

    def patch(self, pipeline_id: str) -> None:
        self.write_json(admin.update_pipeline(self.ctx, pipeline_id, self.json_body()))


class StagesHandler(OpportunitiesApiHandler):
    """`POST {"name", "name_en"?, "sequence"?, "probability", "kind"}` adds a stage."""

    def post(self, pipeline_id: str) -> None:
        self.write_json(admin.add_stage(self.ctx, pipeline_id, self.json_body()), 201)


class StageHandler(OpportunitiesApiHandler):
    """`PATCH` a stage (kind only while it holds no deal); `DELETE` an unused stage."""

    def patch(self, pipeline_id: str, stage_id: str) -> None:
        self.write_json(admin.update_stage(self.ctx, pipeline_id, stage_id, self.json_body()))

    def delete(self, pipeline_id: str, stage_id: str) -> None:
        self.write_json(admin.delete_stage(self.ctx, pipeline_id, stage_id))


class GatesHandler(OpportunitiesApiHandler):
    """`GET` the stage's gates; `PUT {"gates": [...]}` replaces them; `POST {gate}` adds one.

    A gate: `{"kind": "required_field", "field": "budget"}` or `{"kind": "condition",
    "condition": {"type": "contact_role", "role": "decision_maker"}}`, with optional
    `message` / `message_en` / `code` / `sequence`."""

    def get(self, pipeline_id: str, stage_id: str) -> None:
        self.write_json({"gates": admin.list_gates(self.ctx, pipeline_id, stage_id)})

    def put(self, pipeline_id: str, stage_id: str) -> None:
        body = self.json_body()
        if set(body) != {"gates"}:
            raise APIError(400, "请求体应为 {\"gates\": [...]} / body must be {\"gates\": [...]}",
                           fields={"gates": "required"})
        self.write_json({"gates": admin.replace_gates(self.ctx, pipeline_id, stage_id,
                                                      body["gates"])})

    def post(self, pipeline_id: str, stage_id: str) -> None:
        self.write_json(admin.add_gate(self.ctx, pipeline_id, stage_id, self.json_body()), 201)


class GateHandler(OpportunitiesApiHandler):
    def delete(self, pipeline_id: str, stage_id: str, gate_id: str) -> None:
        admin.delete_gate(self.ctx, pipeline_id, stage_id, gate_id)
        self.set_status(204)
        self.finish()
