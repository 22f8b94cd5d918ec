"""`GET /api/v1/opportunities/kanban`: the deals of one pipeline grouped by stage, in the
caller's read scope.

A constant number of statements whatever the number of deals: the pipeline, its stages, one
grouped aggregate (count, amount and weighted sums per stage) and one windowed query
(`ROW_NUMBER() OVER (PARTITION BY stage ORDER BY ...)`, SQLite ≥ 3.25 and PostgreSQL) for
the first `limit_per_stage` cards of every stage, then the labels of those cards (accounts,
owners, stages). Cards go through the door like any answer; the sums appear only for callers
who may read `amount` (weighted sums only when `probability` too).
"""
from __future__ import annotations

import peewee as pw

from core.web.base import APIError
from modules.opportunities import money
from modules.opportunities.forecast import visibility
from modules.opportunities.listing import SORTS, forbidden
from modules.opportunities.models import Opportunity, Pipeline, Stage
from modules.opportunities.pipelines import current_division, default_pipeline, stages_of
from modules.opportunities.present import clear_fields, present

MAX_PER_STAGE = 100
RANK = "kanban_rank"


def _pipeline(ctx, pipeline_id) -> Pipeline:
    from security.crud import get_or_404

    if pipeline_id is not None:
        return get_or_404(ctx, Pipeline, pipeline_id)
    division = current_division(ctx)
    if division is None:
        raise APIError(400, "请指定销售流程 / pipeline is required", code="bad_request",
                       fields={"pipeline": "required"})
    return get_or_404(ctx, Pipeline, default_pipeline(division).id)


def _order(ctx, raw: str | None):
    raw = raw or "-updated_at"
    name = raw.lstrip("-")
    if name not in SORTS:
        raise APIError(400, "order: one of " + ", ".join(SORTS), code="bad_request",
                       fields={"order": "one of " + ", ".join(SORTS)})
    expr_of, _, field = SORTS[name]
    if field != "id" and field not in clear_fields(ctx):
        raise forbidden("order", field)
    expr = expr_of()
    if raw.startswith("-"):
        return [expr.desc(), Opportunity.id.desc()]
    return [expr, Opportunity.id]


def _aggregate(where) -> dict[int, dict]:
    amount = money.cents(Opportunity.amount)
    probability = pw.Case(None, [(Stage.kind == "open",
                                  pw.fn.COALESCE(Opportunity.probability, Stage.probability))],
                          Stage.probability)
    rows = (Opportunity.select(Opportunity.stage.alias("stage"),
                               pw.fn.COUNT(Opportunity.id).alias("count"),
                               pw.fn.SUM(amount).alias("amount_cents"),
                               pw.fn.SUM(amount * probability).alias("weighted_cp"))
            .join(Stage, on=(Opportunity.stage == Stage.id)).where(where)
            .group_by(Opportunity.stage).dicts())
    return {row["stage"]: row for row in rows}


def _cards(ctx, where, order, limit: int) -> list[dict]:
    """The first `limit` deals of every stage (permitted columns only), in one statement:
    the window ranks the deals of each stage, the outer query loads the top ones in the
    same order."""
    import security

    rank = pw.fn.ROW_NUMBER().over(partition_by=[Opportunity.stage], order_by=order)
    ranked = (Opportunity.select(Opportunity.id.alias("card_id"), rank.alias(RANK))
              .where(where).alias("kanban"))
    top = (Opportunity.select(ranked.c.card_id).from_(ranked)
           .where(ranked.c[RANK] <= limit))
    return list(Opportunity.select(*security.permitted_columns(ctx, Opportunity))
                .where(Opportunity.id.in_(top))
                .order_by(Opportunity.stage, *order).dicts())


def kanban(ctx, pipeline_id=None, limit_per_stage: int = 20, owner: int | None = None,
           order: str | None = None) -> dict:
    import security
    from security.crud import require_model

    require_model(ctx, Opportunity, "list")
    security.require(ctx, "read", "model/pipeline_stage")
    if "stage" not in clear_fields(ctx):
        raise forbidden("stage", "stage")
    pipeline = _pipeline(ctx, pipeline_id)
    limit = max(1, min(limit_per_stage, MAX_PER_STAGE))
    where = security.scope(ctx, Opportunity, "read") & (Opportunity.pipeline == pipeline.id)
    if owner is not None:
        if "owner" not in clear_fields(ctx):
            raise forbidden("owner", "owner")
        where &= Opportunity.owner == owner
    order_by = _order(ctx, order)
    stages = stages_of(pipeline.id)
    totals = _aggregate(where)
    cards = present(ctx, _cards(ctx, where, order_by, limit), stages={s.id: s for s in stages})
    by_stage: dict[int, list] = {}
    for card in cards:
        by_stage.setdefault(card.get("stage"), []).append(card)
    amounts, weighted = visibility(ctx)
    out, grand = [], {"count": 0, "amount_cents": 0, "weighted_cp": 0}
    for stage in stages:
        row = totals.get(stage.id, {})
        for key in grand:
            grand[key] += int(row.get(key) or 0)
        out.append({"id": stage.id, "name": stage.name, "name_en": stage.name_en,
                    "sequence": stage.sequence, "probability": stage.probability,
                    "kind": stage.kind, **_sums(row, amounts, weighted),
                    "deals": by_stage.get(stage.id, [])})
    return {"pipeline": {"id": pipeline.id, "name": pipeline.name}, "stages": out,
            "total": _sums(grand, amounts, weighted)}


def _sums(row: dict, amounts: bool, weighted: bool) -> dict:
    out = {"count": int(row.get("count") or 0)}
    if amounts:
        out["amount_sum"] = money.text(money.from_cents(row.get("amount_cents")))
    if weighted:
        out["weighted_sum"] = money.text(money.from_cent_percent(row.get("weighted_cp")))
    return out
