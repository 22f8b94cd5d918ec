"""`huike demo`: about 80 deals over the contacts demo accounts, idempotent."""
from __future__ import annotations

import peewee as pw

from core.demo import load_demo
from modules.opportunities.models import (
    ForecastSnapshot, Opportunity, OpportunityCompetitor, Stage, StageChange,
)


def test_demo_deals_are_realistic_and_load_once(install):
    lines = load_demo(install.registry)
    assert any(line.startswith("opportunities:") for line in lines)
    assert Opportunity.select().count() == 80
    kinds = dict(Opportunity.select(Stage.kind, pw.fn.COUNT(Opportunity.id))
                 .join(Stage, on=(Opportunity.stage == Stage.id)).group_by(Stage.kind).tuples())
    assert kinds["open"] > 30 and kinds["won"] > 5 and kinds["lost"] > 5
    assert Opportunity.select().where(Opportunity.owner.is_null()).count() == 0
    assert Opportunity.select().where(Opportunity.amount < 50_000).count() == 0
    for opp in Opportunity.select().join(Stage, on=(Opportunity.stage == Stage.id)).where(
            Stage.kind != "open"):
        assert opp.closed_at is not None and opp.cycle_seconds > 0
        assert (opp.lost_reason is not None) == (opp.stage.kind == "lost")
    last = {}
    for change in StageChange.select().order_by(StageChange.at, StageChange.id):
        last[change.opportunity_id] = change.to_stage_id
    assert last == {o.id: o.stage_id for o in Opportunity.select()}
    assert OpportunityCompetitor.select().count() > 10
    assert ForecastSnapshot.select().count() > 0
    again = load_demo(install.registry)
    assert Opportunity.select().count() == 80
    assert any("新建 0 个" in line for line in again if line.startswith("opportunities:"))
