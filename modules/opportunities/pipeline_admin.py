"""Editing pipelines, stages and stage gates (an administrator's job, no code involved).

Every edit goes through the door: the model right (`write`/`create`/`delete` on
`model/pipeline`, `model/pipeline_stage`, `model/pipeline_stage_gate` — the seeded `admin`
role holds them all) and the pipeline in the caller's write scope (else 404/403). Invalid
input is 422 with `fields` naming each problem; edits that would break a pipeline (a stage
in use, the last won or lost stage) are 409. Every change is audited.
"""
from __future__ import annotations

import peewee as pw

from core.db import atomic
from core.web.base import APIError
from modules.base.models import Division
from modules.opportunities.gates import GateInputError, validate_gate
from modules.opportunities.models import (
    STAGE_KINDS, Opportunity, Pipeline, Stage, StageChange, StageGate,
)
from modules.opportunities.pipelines import (
    copy_pipeline, default_pipeline, get_pipeline, seed_pipeline, stages_of,
)


def invalid(fields: dict) -> APIError:
    return APIError(422, "输入无效 / invalid input", code="validation_failed", fields=fields)


def conflict(message: str, field: str) -> APIError:
    return APIError(409, message, code="conflict", fields={field: message})


def audit(ctx, action: str, model, res_id: int, details: dict) -> None:
    from security import audit as log
    log.record(ctx, action, model=model._meta.table_name, res_id=res_id, details=details)


def pipeline_for(ctx, pipeline_id, act: str = "write", model=Pipeline) -> Pipeline:
    """The pipeline if the caller may `act` on `model` and the pipeline is in their write
    scope; 403 when it is only readable, 404 when not even that."""
    import security
    from security.crud import not_found

    security.require(ctx, act, f"model/{security.model_name(model)}")
    try:
        pk = int(pipeline_id)
    except (TypeError, ValueError):
        raise not_found(Pipeline, pipeline_id) from None
    row = Pipeline.select().where(security.scope(ctx, Pipeline, "write")
                                  & (Pipeline.id == pk)).first()
    if row is not None:
        return row
    readable = Pipeline.select(Pipeline.id).where(security.scope(ctx, Pipeline, "read")
                                                 & (Pipeline.id == pk)).exists()
    if readable:
        raise APIError(403, "无权修改此销售流程 / not allowed to change this pipeline",
                       code="forbidden")
    raise not_found(Pipeline, pipeline_id)


def stage_in(pipeline: Pipeline, stage_id) -> Stage:
    stage = Stage.get_or_none((Stage.id == _int(stage_id)) & (Stage.pipeline == pipeline.id))
    if stage is None:
        raise APIError(404, f"阶段不存在 / no stage {stage_id} in this pipeline",
                       code="not_found")
    return stage


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# ---------------------------------------------------------------------- pipelines
def create_pipeline(ctx, data: dict) -> dict:
    """`{"division", "name", "copy_from"?}`: a new pipeline with the template's (or
    `copy_from`'s) stages and gates."""
    import security

    security.require(ctx, "create", "model/pipeline")
    problems = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        problems["name"] = "必填，最多 100 字 / required, at most 100 characters"
    division = Division.get_or_none(Division.id == _int(data.get("division")))
    if division is None:
        problems["division"] = "事业部不存在 / no such division"
    if problems:
        raise invalid(problems)
    with atomic():
        if data.get("copy_from") is not None:
            source = pipeline_for(ctx, data["copy_from"], "read")
            pipeline = copy_pipeline(source, division.id, name.strip())
        else:
            default_pipeline(division.id)
            pipeline = seed_pipeline(division.id, default=False, name=name.strip())
        if not Pipeline.select().where(security.scope(ctx, Pipeline, "write")
                                       & (Pipeline.id == pipeline.id)).exists():
            raise APIError(403, "新流程超出你的数据范围 / the new pipeline would be outside your "
                                "data scope", code="out_of_scope")
        audit(ctx, "create", Pipeline, pipeline.id, {"name": pipeline.name,
                                                     "division": division.id})
    return get_pipeline(ctx, pipeline.id)


def update_pipeline(ctx, pipeline_id, data: dict) -> dict:
    """`{"name"?, "active"?, "is_default": true?}` — making one default unsets the other."""
    pipeline = pipeline_for(ctx, pipeline_id)
    problems, values = {}, {}
    if "name" in data:
        if not isinstance(data["name"], str) or not data["name"].strip() \
                or len(data["name"]) > 100:
            problems["name"] = "必填，最多 100 字 / required, at most 100 characters"
        else:
            values["name"] = data["name"].strip()
    if "active" in data:
        if not isinstance(data["active"], bool):
            problems["active"] = "must be true or false"
        else:
            values["active"] = data["active"]
    if "is_default" in data and data["is_default"] is not True:
        problems["is_default"] = "只能设为默认（true） / can only be set to true"
    if problems:
        raise invalid(problems)
    with atomic():
        if data.get("is_default") and not pipeline.is_default:
            (Pipeline.update(is_default=False, default_key=None)
             .where(Pipeline.default_key == pipeline.division_id).execute())
            values.update(is_default=True, default_key=pipeline.division_id)
        if values:
            Pipeline.update(values).where(Pipeline.id == pipeline.id).execute()
        audit(ctx, "update", Pipeline, pipeline.id, {k: v for k, v in values.items()
                                                     if k != "default_key"})
    return get_pipeline(ctx, pipeline.id)


# ---------------------------------------------------------------------- stages
def _stage_values(data: dict, creating: bool) -> dict:
    problems, values = {}, {}
    for key in sorted(set(data) - {"name", "name_en", "sequence", "probability", "kind"}):
        problems[key] = "unknown field"
    for key, limit in (("name", 64), ("name_en", 64)):
        if key in data:
            if not isinstance(data[key], str) or len(data[key]) > limit \
                    or (key == "name" and not data[key].strip()):
                problems[key] = f"必填文本，最多 {limit} 字 / text of at most {limit} characters"
            else:
                values[key] = data[key].strip()
    if "sequence" in data:
        if isinstance(data["sequence"], bool) or not isinstance(data["sequence"], int):
            problems["sequence"] = "must be an integer"
        else:
            values["sequence"] = data["sequence"]
    if "probability" in data:
        value = data["probability"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            problems["probability"] = "0–100 的整数 / an integer from 0 to 100"
        else:
            values["probability"] = value
    if "kind" in data:
        if data["kind"] not in STAGE_KINDS:
            problems["kind"] = "must be one of " + ", ".join(STAGE_KINDS)
        else:
            values["kind"] = data["kind"]
    if creating:
        for key in ("name", "probability", "kind"):
            if key not in data:
                problems.setdefault(key, "必填 / required")
    if problems:
        raise invalid(problems)
    return values


def _keeps_every_kind(pipeline: Pipeline, without: Stage, new_kind: str | None = None) -> None:
    kinds = [s.kind for s in stages_of(pipeline.id) if s.id != without.id]
    if new_kind:
        kinds.append(new_kind)
    for kind in STAGE_KINDS:
        if kind not in kinds:
            raise conflict(f"流程至少需要一个 {kind} 阶段 / a pipeline needs a {kind} stage",
                           "kind")


def _in_use(stage: Stage) -> bool:
    return (Opportunity.select(Opportunity.id).where(Opportunity.stage == stage.id).exists()
            or StageChange.select(StageChange.id).where(
                (StageChange.to_stage == stage.id) | (StageChange.from_stage == stage.id)
            ).exists())


def add_stage(ctx, pipeline_id, data: dict) -> dict:
    pipeline = pipeline_for(ctx, pipeline_id, model=Stage)
    values = _stage_values(data, creating=True)
    if "sequence" not in values:
        last = max((s.sequence for s in stages_of(pipeline.id)), default=0)
        values["sequence"] = last + 10
    with atomic():
        stage = Stage.create(pipeline=pipeline, **values)
        audit(ctx, "create", Stage, stage.id, values)
    return get_pipeline(ctx, pipeline.id)


def update_stage(ctx, pipeline_id, stage_id, data: dict) -> dict:
    pipeline = pipeline_for(ctx, pipeline_id, model=Stage)
    stage = stage_in(pipeline, stage_id)
    values = _stage_values(data, creating=False)
    with atomic():
        if values.get("kind", stage.kind) != stage.kind:
            if Opportunity.select(Opportunity.id).where(Opportunity.stage == stage.id).exists():
                raise conflict("阶段中已有商机，不能改变类型 / the stage holds deals; its kind "
                               "cannot change", "kind")
            _keeps_every_kind(pipeline, stage, values["kind"])
        if values:
            Stage.update(values).where(Stage.id == stage.id).execute()
        audit(ctx, "update", Stage, stage.id, values)
    return get_pipeline(ctx, pipeline.id)


def delete_stage(ctx, pipeline_id, stage_id) -> dict:
    pipeline = pipeline_for(ctx, pipeline_id, "delete", model=Stage)
    stage = stage_in(pipeline, stage_id)
    with atomic():
        if _in_use(stage):
            raise conflict("阶段已被商机或历史使用 / the stage is used by deals or their "
                           "history", "stage")
        _keeps_every_kind(pipeline, stage)
        try:
            Stage.delete().where(Stage.id == stage.id).execute()
        except pw.IntegrityError:
            raise conflict("阶段仍被引用 / the stage is still referenced", "stage") from None
        audit(ctx, "delete", Stage, stage.id, {"name": stage.name})
    return get_pipeline(ctx, pipeline.id)


# ---------------------------------------------------------------------- gates
def list_gates(ctx, pipeline_id, stage_id) -> list[dict]:
    import security
    from security.crud import get_or_404

    security.require(ctx, "read", "model/pipeline_stage_gate")
    pipeline = get_or_404(ctx, Pipeline, pipeline_id)
    stage = stage_in(pipeline, stage_id)
    rows = (StageGate.select(*security.permitted_columns(ctx, StageGate))
            .where(StageGate.stage == stage.id).order_by(StageGate.sequence, StageGate.id))
    return security.serialise(ctx, StageGate, rows)


def _validated(items, prefix: str = "") -> list[dict]:
    problems, out = {}, []
    for index, item in enumerate(items):
        try:
            out.append(validate_gate(item))
        except GateInputError as exc:
            problems.update({f"{prefix}{index}.{k}" if prefix else k: v
                             for k, v in exc.fields.items()})
    codes = [g["code"] for g in out]
    for code in {c for c in codes if codes.count(c) > 1}:
        problems[f"{prefix}code" if prefix else "code"] = f"重复的代码 / duplicate code {code!r}"
    if problems:
        raise invalid(problems)
    return out


def replace_gates(ctx, pipeline_id, stage_id, items) -> list[dict]:
    """Replace the stage's gates with `items` (the admin screen saves the whole list)."""
    pipeline = pipeline_for(ctx, pipeline_id, model=StageGate)
    stage = stage_in(pipeline, stage_id)
    if not isinstance(items, list):
        raise invalid({"gates": "must be a list"})
    values = _validated(items, prefix="gates.")
    with atomic():
        StageGate.delete().where(StageGate.stage == stage.id).execute()
        for index, gate in enumerate(values, start=1):
            if "sequence" not in items[index - 1]:
                gate["sequence"] = index * 10
            StageGate.create(stage=stage, **gate)
        audit(ctx, "update", Stage, stage.id, {"gates": values})
    return list_gates(ctx, pipeline.id, stage.id)


def add_gate(ctx, pipeline_id, stage_id, data) -> dict:
    import security

    pipeline = pipeline_for(ctx, pipeline_id, "create", model=StageGate)
    stage = stage_in(pipeline, stage_id)
    values = _validated([data])[0]
    if StageGate.select().where((StageGate.stage == stage.id)
                                & (StageGate.code == values["code"])).exists():
        raise conflict(f"该阶段已有代码为 {values['code']} 的关卡 / the stage already has a gate "
                       f"{values['code']!r}", "code")
    with atomic():
        gate = StageGate.create(stage=stage, **values)
        audit(ctx, "create", StageGate, gate.id, values)
    return security.serialise(ctx, StageGate, [gate])[0]


def delete_gate(ctx, pipeline_id, stage_id, gate_id) -> None:
    pipeline = pipeline_for(ctx, pipeline_id, "delete", model=StageGate)
    stage = stage_in(pipeline, stage_id)
    with atomic():
        deleted = StageGate.delete().where((StageGate.id == _int(gate_id))
                                           & (StageGate.stage == stage.id)).execute()
        if not deleted:
            raise APIError(404, f"关卡不存在 / no gate {gate_id}", code="not_found")
        audit(ctx, "delete", StageGate, _int(gate_id), {"stage": stage.id})
