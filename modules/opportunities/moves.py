"""Stage moves and their history.

`move(ctx, id, data)` checks the gates of every stage being entered (and, into a lost stage,
the lost reason) and answers 422 `stage_gate` listing exactly what is missing. A move
records a `StageChange` (who, when, from, to, seconds spent in the stage left); entering a
won or lost stage sets `closed_at` and the sales cycle (`cycle_seconds` since creation),
moving back to an open stage reopens the deal. After commit the events
`opportunity_stage_changed` and `opportunity_won` / `opportunity_lost` are published.
"""
from __future__ import annotations

from core.db import atomic
from core.events import EventBus
from modules.base.models import User
from modules.opportunities.gates import (
    LOST_REASON, DealFacts, gate_error, stages_entered, unmet,
)
from modules.opportunities.models import Opportunity, Stage, StageChange
from modules.opportunities.pipelines import stages_of
from modules.opportunities.present import labels
from modules.opportunities.services import audit_change, currency_of, detail, load
from modules.opportunities.validation import invalid, parse


def move(ctx, opp_id, data: dict) -> dict:
    """`{"stage": id, "lost_reason"?}` → the deal in its new stage (as the caller sees it)."""
    import security

    values = parse(data, {"stage", "lost_reason"}, currency_of(ctx), required=("stage",))
    security.check_write(ctx, Opportunity, values)
    with atomic():
        row = load(ctx, opp_id, "write", lock=True)
        stages = stages_of(row.pipeline_id)
        target = next((s for s in stages if s.id == values["stage"]), None)
        if target is None:
            raise invalid({"stage": "该阶段不属于商机的销售流程 / the stage is not in the deal's "
                                    "pipeline"})
        if values.get("lost_reason") and target.kind != "lost":
            raise invalid({"lost_reason": "仅在输单时填写 / only for a move into a lost stage"})
        current = next((s for s in stages if s.id == row.stage_id), None)
        if current is not None and current.id == target.id:
            return detail(ctx, row.id)  # already there: nothing to record
        problems = unmet(ctx, DealFacts(values=dict(row.__data__), opportunity_id=row.id),
                         stages_entered(current, target, stages))
        if target.kind == "lost" and not values.get("lost_reason"):
            problems.append({**LOST_REASON, "stage": target.id})
        if problems:
            raise gate_error(problems)
        _apply(ctx, row, current, target, values.get("lost_reason"))
    return detail(ctx, row.id)


def _apply(ctx, row: Opportunity, current: Stage | None, target: Stage, reason) -> None:
    now = ctx.now()
    before = dict(row.__data__)
    seconds = max(0, int((now - row.stage_entered_at).total_seconds()))
    changes = {"stage": target.id, "stage_entered_at": now, "updated_at": now}
    if target.kind in ("won", "lost"):
        changes.update(closed_at=now, lost_reason=reason if target.kind == "lost" else None,
                       cycle_seconds=max(0, int((now - row.created_at).total_seconds())))
    else:
        changes.update(closed_at=None, lost_reason=None, cycle_seconds=None)
    Opportunity.update(changes).where(Opportunity.id == row.id).execute()
    StageChange.create(opportunity=row.id, from_stage=current.id if current else None,
                       to_stage=target.id, user=ctx.user_id, at=now,
                       seconds_in_from_stage=seconds)
    audit_change(ctx, row, before, {**before, **changes})
    payload = {"opportunity_id": row.id, "division_id": row.division_id,
               "from_stage": current.id if current else None, "to_stage": target.id,
               "kind": target.kind}
    bus = EventBus.from_registry(ctx.registry)
    bus.publish("opportunity_stage_changed", payload, ctx)
    if target.kind in ("won", "lost"):
        bus.publish(f"opportunity_{target.kind}", payload, ctx)


def history(ctx, opp_id) -> list[dict]:
    """Every stage change of a deal, oldest first, with stage and user names."""
    import security

    row = load(ctx, opp_id)
    security.require(ctx, "read", "model/opportunity_stage_change")
    changes = list(StageChange.select(*security.permitted_columns(ctx, StageChange))
                   .where(StageChange.opportunity == row.id)
                   .order_by(StageChange.at, StageChange.id))
    out = security.serialise(ctx, StageChange, changes)
    names = labels(ctx, Stage, {c.to_stage_id for c in changes}
                   | {c.from_stage_id for c in changes})
    users = labels(ctx, User, {c.user_id for c in changes})
    for raw, item in zip(changes, out):
        if "from_stage" in item:
            item["from_stage_name"] = names.get(raw.from_stage_id)
        if "to_stage" in item:
            item["to_stage_name"] = names.get(raw.to_stage_id)
        if "user" in item:
            item["user_name"] = users.get(raw.user_id)
    return out
