"""Competitor entries of a deal (the `competitor` stage gate counts them).

Competitors follow their deal: reading needs the deal in the read scope, adding or removing
needs it in the write scope, plus the model right on `opportunity_competitor`.
"""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError
from modules.opportunities.models import OpportunityCompetitor
from modules.opportunities.services import load, record_id
from modules.opportunities.validation import parse_competitor


def _audit(ctx, action: str, competitor_id: int, details: dict) -> None:
    from security import audit
    audit.record(ctx, action, model=OpportunityCompetitor._meta.table_name,
                 res_id=competitor_id, details=details)


def list_competitors(ctx, opp_id) -> list[dict]:
    import security

    row = load(ctx, opp_id)
    security.require(ctx, "read", "model/opportunity_competitor")
    rows = (OpportunityCompetitor.select(*security.permitted_columns(ctx, OpportunityCompetitor))
            .where(OpportunityCompetitor.opportunity == row.id)
            .order_by(OpportunityCompetitor.id))
    return security.serialise(ctx, OpportunityCompetitor, rows)


def add_competitor(ctx, opp_id, data) -> dict:
    import security

    security.require(ctx, "create", "model/opportunity_competitor")
    values = parse_competitor(data)
    security.check_write(ctx, OpportunityCompetitor, values, op="create")
    with atomic():
        row = load(ctx, opp_id, "write")
        competitor = OpportunityCompetitor.create(opportunity=row.id, created_at=ctx.now(),
                                                  **values)
        _audit(ctx, "create", competitor.id, {"opportunity": row.id, **values})
    return security.serialise(ctx, OpportunityCompetitor, [competitor])[0]


def remove_competitor(ctx, opp_id, competitor_id) -> None:
    import security

    security.require(ctx, "delete", "model/opportunity_competitor")
    with atomic():
        row = load(ctx, opp_id, "write")
        deleted = OpportunityCompetitor.delete().where(
            (OpportunityCompetitor.id == record_id(competitor_id))
            & (OpportunityCompetitor.opportunity == row.id)).execute()
        if not deleted:
            raise APIError(404, f"竞争对手记录不存在 / no competitor {competitor_id}",
                           code="not_found")
        _audit(ctx, "delete", record_id(competitor_id), {"opportunity": row.id})
