"""Opportunities as the caller may see them: the door's serialisation plus derived values.

`present(ctx, rows)` serialises through `security.serialise` (hidden fields absent, masked
ones masked) and adds, in a constant number of queries whatever the number of rows:
`stage_name`/`stage_kind`, `account_name`, `owner_name` (labels read through the door:
model right, row scope and field rule of the labelled model), `effective_probability`,
`weighted_amount`, `seconds_in_stage` and `cycle_days`. A derived value appears only when
the caller may read, unmasked, every field it is derived from — a role that may not read
`amount` never receives a weighted amount either.
"""
from __future__ import annotations

import decimal
from typing import Any, Iterable

from modules.base.models import User
from modules.contacts.models import Account
from modules.opportunities.models import Opportunity, Stage

CLEAR = ("read", "write")
HUNDRED = decimal.Decimal(100)
CENT = decimal.Decimal("0.01")


def clear_fields(ctx, model=Opportunity) -> set[str]:
    """Fields of `model` the caller may read in clear (neither hidden nor masked)."""
    import security

    perms = security.permitted_fields(ctx, model, "read")
    return {name for name, level in perms.levels.items() if level in CLEAR}


def readable_fields(ctx, model=Opportunity) -> set[str]:
    import security

    return set(security.permitted_fields(ctx, model, "read").readable)


def labels(ctx, model, ids: Iterable[Any], field: str = "name") -> dict[int, Any]:
    """`{id: field value}` for the records among `ids` the caller may read (one query);
    masked values come masked, and nothing when the field is hidden or the model is not
    readable at all."""
    import security
    from security.masking import mask_value

    wanted = sorted({i for i in ids if i is not None})
    if not wanted or not security.can(ctx, "read", f"model/{security.model_name(model)}"):
        return {}
    level = security.permitted_fields(ctx, model, "read").level(field)
    if level == "hidden":
        return {}
    column = model._meta.fields[field]
    key = model._meta.primary_key
    rows = (model.select(key, column)
            .where(security.scope(ctx, model, "read") & key.in_(wanted)).tuples())
    if level == "masked":
        return {pk: mask_value(model, field, value) for pk, value in rows}
    return {pk: value for pk, value in rows}


def stages_by_id(ctx, ids: Iterable[int]) -> dict[int, Stage]:
    """Stage rows for `ids` (pipeline configuration; needs the stage read right)."""
    import security

    wanted = sorted({i for i in ids if i is not None})
    if not wanted or not security.can(ctx, "read", "model/pipeline_stage"):
        return {}
    return {s.id: s for s in Stage.select().where(Stage.id.in_(wanted))}


def effective_probability(probability, stage: Stage | None) -> int | None:
    """The override while the deal is open, else the stage's (won 100, lost 0 as set)."""
    if stage is None:
        return None
    if stage.kind == "open" and probability is not None:
        return probability
    return stage.probability


def weighted(amount, probability: int | None) -> str | None:
    if amount is None or probability is None:
        return None
    value = decimal.Decimal(str(amount)) * probability / HUNDRED
    return format(value.quantize(CENT, rounding=decimal.ROUND_HALF_UP), "f")


def _raw(row) -> dict:
    return row if isinstance(row, dict) else row.__data__


def present(ctx, rows: list, fields: Iterable[str] | None = None,
            stages: dict[int, Stage] | None = None) -> list[dict]:
    """Serialise opportunities for the caller; `fields` restricts the output (ids stay);
    `stages` spares the stage lookup when the caller has the rows already."""
    import security

    raws = [_raw(r) for r in rows]
    out = security.serialise(ctx, Opportunity, raws)
    visible = readable_fields(ctx)
    clear = clear_fields(ctx)
    if fields is not None:
        keep = {"id", *fields}
        visible &= keep
        clear &= keep
        out = [{k: v for k, v in item.items() if k in keep} for item in out]
    if "stage" not in visible:
        stages = {}
    elif stages is None:
        stages = stages_by_id(ctx, (r.get("stage") for r in raws))
    accounts = (labels(ctx, Account, (r.get("account") for r in raws))
                if "account" in visible else {})
    owners = labels(ctx, User, (r.get("owner") for r in raws)) if "owner" in visible else {}
    now = ctx.now()
    for raw, item in zip(raws, out):
        _derive(raw, item, stages, accounts, owners, visible, clear, now)
    return out


def _derive(raw, item, stages, accounts, owners, visible, clear, now) -> None:
    stage = stages.get(raw.get("stage"))
    if stage is not None:
        item["stage_name"], item["stage_kind"] = stage.name, stage.kind
    if "account" in visible:
        item["account_name"] = accounts.get(raw.get("account"))
    if "owner" in visible:
        item["owner_name"] = owners.get(raw.get("owner"))
    if stage is not None and "probability" in clear:
        probability = effective_probability(raw.get("probability"), stage)
        item["effective_probability"] = probability
        if "amount" in clear:
            item["weighted_amount"] = weighted(raw.get("amount"), probability)
    entered = raw.get("stage_entered_at")
    if "stage_entered_at" in clear and entered is not None and raw.get("closed_at") is None:
        item["seconds_in_stage"] = max(0, int((now - entered).total_seconds()))
    cycle = raw.get("cycle_seconds")
    if "cycle_seconds" in clear and cycle is not None:
        item["cycle_days"] = round(cycle / 86400, 1)
