"""Pipelines per division: the default one seeded from `pipeline_template.toml`, and reading
pipelines with their stages through the door.

Seeding: at install (`on_install`) every existing division gets its default pipeline; a
division created later gets it lazily, the first time anything asks for it
(`default_pipeline`, used by the pipeline list, deal creation and the kanban). Lazy seeding
needs no event from the base module and repairs itself if a default was never made. The
unique `default_key` (= division id) lets two processes seed at the same time: the loser's
insert fails and it reads the winner's pipeline.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import peewee as pw

from core.db import atomic
from modules.base.models import Division
from modules.opportunities.gates import validate_gate
from modules.opportunities.models import Pipeline, Stage, StageGate

TEMPLATE = Path(__file__).with_name("pipeline_template.toml")


def load_template(path: Path = TEMPLATE) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def seed_pipeline(division_id: int, template: dict | None = None, *, default: bool = True,
                  name: str | None = None) -> Pipeline:
    """Create a pipeline with the template's stages and gates in `division_id`."""
    template = template or load_template()
    with atomic():
        pipeline = Pipeline.create(division=division_id, name=name or template["name"],
                                   is_default=default,
                                   default_key=division_id if default else None)
        for number, spec in enumerate(template["stages"], start=1):
            stage = Stage.create(pipeline=pipeline, name=spec["name"],
                                 name_en=spec.get("name_en", ""), sequence=number * 10,
                                 probability=spec["probability"], kind=spec["kind"])
            for index, gate in enumerate(spec.get("gates", []), start=1):
                values = validate_gate({**gate, "sequence": index * 10})
                StageGate.create(stage=stage, **values)
    return pipeline


def copy_pipeline(source: Pipeline, division_id: int, name: str) -> Pipeline:
    """A new, non-default pipeline with `source`'s stages and gates."""
    stages = []
    for stage in stages_of(source.id):
        gates = [{"kind": g.kind, "field": g.field, "condition": g.condition,
                  "message": g.message, "message_en": g.message_en, "code": g.code}
                 for g in StageGate.select().where(StageGate.stage == stage.id)
                 .order_by(StageGate.sequence, StageGate.id)]
        stages.append({"name": stage.name, "name_en": stage.name_en, "kind": stage.kind,
                       "probability": stage.probability, "gates": gates})
    return seed_pipeline(division_id, {"name": name, "stages": stages}, default=False)


def default_pipeline(division_id: int) -> Pipeline:
    """The division's default pipeline, seeded on first use."""
    found = Pipeline.get_or_none(Pipeline.default_key == division_id)
    if found is not None:
        return found
    try:
        with atomic():  # a savepoint: a lost race leaves the caller's transaction usable
            return seed_pipeline(division_id)
    except pw.IntegrityError:
        return Pipeline.get(Pipeline.default_key == division_id)


def seed_all_divisions() -> int:
    """Give every division its default pipeline; return how many were created."""
    created = 0
    for division in Division.select(Division.id):
        if Pipeline.get_or_none(Pipeline.default_key == division.id) is None:
            default_pipeline(division.id)
            created += 1
    return created


def stages_of(pipeline_id: int) -> list[Stage]:
    """The pipeline's stages in order."""
    return list(Stage.select().where(Stage.pipeline == pipeline_id)
                .order_by(Stage.sequence, Stage.id))


def first_open_stage(pipeline_id: int) -> Stage | None:
    return (Stage.select().where((Stage.pipeline == pipeline_id) & (Stage.kind == "open"))
            .order_by(Stage.sequence, Stage.id).first())


# ---------------------------------------------------------------------- reading
def current_division(ctx) -> int | None:
    import security

    return security.permissions(ctx).division_id


def list_pipelines(ctx, division_id: int | None = None) -> list[dict]:
    """The pipelines in the caller's read scope with their stages (the current division's
    default is seeded first if missing)."""
    import security
    from security.crud import require_model

    require_model(ctx, Pipeline, "list")
    mine = current_division(ctx)
    if mine is not None:
        default_pipeline(mine)
    where = security.scope(ctx, Pipeline, "read")
    if division_id is not None:
        where = where & (Pipeline.division == division_id)
    rows = list(Pipeline.select(*security.permitted_columns(ctx, Pipeline)).where(where)
                .order_by(Pipeline.division, Pipeline.is_default.desc(), Pipeline.id))
    return with_stages(ctx, rows)


def with_stages(ctx, pipelines: list[Pipeline]) -> list[dict]:
    """Serialised pipelines, each with its serialised stages (one query for all stages)."""
    import security

    out = security.serialise(ctx, Pipeline, pipelines)
    by_pipeline: dict[int, list] = {p["id"]: [] for p in out}
    if out and security.can(ctx, "read", "model/pipeline_stage"):
        stages = (Stage.select(*security.permitted_columns(ctx, Stage))
                  .where(Stage.pipeline.in_(list(by_pipeline)))
                  .order_by(Stage.sequence, Stage.id))
        for stage in security.serialise(ctx, Stage, stages):
            by_pipeline[stage["pipeline"]].append(stage)
    for item in out:
        item["stages"] = by_pipeline[item["id"]]
    return out


def get_pipeline(ctx, pipeline_id) -> dict:
    from security.crud import get_or_404

    return with_stages(ctx, [get_or_404(ctx, Pipeline, pipeline_id)])[0]
