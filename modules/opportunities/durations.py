"""Time in stage and sales cycle, per pipeline, in the caller's read scope.

Per stage: how many times deals left it and the average seconds they had spent in it (from
the stage history). Per outcome (won / lost): how many deals closed and their average sales
cycle (creation to close). Win rate = won / (won + lost). Two grouped queries.
"""
from __future__ import annotations

import peewee as pw

from modules.opportunities.kanban import _pipeline
from modules.opportunities.models import Opportunity, Stage, StageChange
from modules.opportunities.pipelines import stages_of
from modules.opportunities.present import clear_fields

DAY = 86400


def _average(value) -> float | None:
    return None if value is None else round(float(value), 1)


def stage_durations(ctx, pipeline_id=None) -> dict:
    import security
    from security.crud import require_model

    require_model(ctx, StageChange, "list")
    pipeline = _pipeline(ctx, pipeline_id)
    stages = stages_of(pipeline.id)
    ids = [s.id for s in stages]
    spent = {}
    if "seconds_in_from_stage" in clear_fields(ctx, StageChange):
        spent = {stage: (count, avg) for stage, count, avg in (
            StageChange.select(StageChange.from_stage, pw.fn.COUNT(StageChange.id),
                               pw.fn.AVG(StageChange.seconds_in_from_stage))
            .where(security.scope(ctx, StageChange, "read")
                   & StageChange.from_stage.in_(ids or [0]))
            .group_by(StageChange.from_stage).tuples())}
    out = []
    for stage in stages:
        count, avg = spent.get(stage.id, (0, None))
        out.append({"id": stage.id, "name": stage.name, "kind": stage.kind, "exits": count,
                    "avg_seconds": _average(avg),
                    "avg_days": None if avg is None else round(float(avg) / DAY, 1)})
    return {"pipeline": {"id": pipeline.id, "name": pipeline.name}, "stages": out,
            **_cycles(ctx, pipeline.id)}


def _cycles(ctx, pipeline_id: int) -> dict:
    import security

    if "cycle_seconds" not in clear_fields(ctx):
        return {}
    rows = {kind: (count, avg) for kind, count, avg in (
        Opportunity.select(Stage.kind, pw.fn.COUNT(Opportunity.id),
                           pw.fn.AVG(Opportunity.cycle_seconds))
        .join(Stage, on=(Opportunity.stage == Stage.id))
        .where(security.scope(ctx, Opportunity, "read")
               & (Opportunity.pipeline == pipeline_id) & Opportunity.closed_at.is_null(False))
        .group_by(Stage.kind).tuples())}
    cycle = {}
    for kind in ("won", "lost"):
        count, avg = rows.get(kind, (0, None))
        cycle[kind] = {"count": count,
                       "avg_days": None if avg is None else round(float(avg) / DAY, 1)}
    closed = cycle["won"]["count"] + cycle["lost"]["count"]
    return {"cycle": cycle,
            "win_rate": round(cycle["won"]["count"] / closed, 4) if closed else None}
