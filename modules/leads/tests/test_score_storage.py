"""Score breakdowns are stored once and pointed at (`modules.leads.breakdown`): leads hold a
~40-byte pointer instead of ~940 bytes of bilingual JSON, read back as the full breakdown —
equal to `scoring.evaluate` — with a budget rule naming each lead's own amount; rows written
in the full form before keep reading as they are; a page of leads costs one template query
however many distinct breakdowns it shows."""
from __future__ import annotations

from decimal import Decimal

from core.db import database
from modules.leads import breakdown, scoring
from modules.leads.models import Lead, ScoreTemplate
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, count_queries, database_url, install, org, server)


def stored_text(lead_id: int) -> str:
    return database.execute_sql('SELECT "score_breakdown" FROM "leads_lead" WHERE "id" = '
                                + database.param, (lead_id,)).fetchone()[0]


def test_leads_point_at_shared_breakdowns_and_read_back_in_full(org):
    leads = [org.lead(source=source, company="华为技术", budget=budget)
             for source in ("website", "referral")
             for budget in (None, Decimal("150000"), Decimal("150000"), Decimal("420000"))]
    ctx = org.ctx()
    scoring.rescore(ctx, [lead.id for lead in leads])
    assert ScoreTemplate.select().count() == 4  # 2 sources × (no budget, the mid band)
    rules = scoring.rules_by_division([org.divisions["IA"].id])[org.divisions["IA"].id]
    breakdown._parsed.clear()
    for lead in leads:
        assert len(stored_text(lead.id)) < 80
        stored = org.reload(lead)
        assert (stored.score, stored.score_breakdown) == scoring.evaluate(
            stored, rules, [], ctx.now())
    amounts = {i["detail"] for lead in leads for i in org.reload(lead).score_breakdown
               if i["kind"] == "budget"}
    assert amounts == {"预算 / budget 150000.00", "预算 / budget 420000.00"}


def test_full_breakdowns_written_before_still_read_and_a_lost_template_does_not_fail(org):
    lead = org.lead(source="referral")
    full = [{"rule": "x", "label": "旧 Old", "kind": "source", "points": 5, "detail": "d"}]
    Lead.update(score=5, score_breakdown=full).where(Lead.id == lead.id).execute()
    assert stored_text(lead.id).startswith("[") and org.reload(lead).score_breakdown == full
    database.execute_sql('UPDATE "leads_lead" SET "score_breakdown" = \'{"t": "0000000000000000"}\''
                         ' WHERE "id" = ' + database.param, (lead.id,))
    assert org.reload(lead).score_breakdown[0]["kind"] == "unknown"


def test_a_page_of_leads_reads_its_templates_in_one_query(org):
    leads = [org.lead(source="website", company="华为技术", budget=Decimal(budget),
                      title=title)
             for budget in ("50", "150000", "2500000") for title in (None, "总监")]
    scoring.rescore(org.ctx(), [lead.id for lead in leads])
    assert ScoreTemplate.select().count() >= 6
    breakdown._parsed.clear()
    with count_queries() as sql:
        pages = [lead.score_breakdown for lead in Lead.select().order_by(Lead.id)]
    assert len(sql) == 2 and all(pages)  # the page, then every template at once


def test_rescoring_an_unchanged_lead_writes_nothing(org):
    lead = org.lead(source="referral", company="华为技术")
    ctx = org.ctx()
    scoring.rescore(ctx, [lead.id])
    before = stored_text(lead.id)
    with count_queries() as sql:
        scoring.rescore(org.ctx(), [lead.id])
    assert stored_text(lead.id) == before
    assert not [s for s in sql if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_the_parsed_cache_stays_bounded_and_reads_stay_right(org, monkeypatch):
    leads = [org.lead(source="website", company="华为技术", budget=Decimal(budget), title=title)
             for budget in ("50", "150000", "2500000") for title in (None, "总监")]
    scoring.rescore(org.ctx(), [lead.id for lead in leads])
    expected = {lead.id: org.reload(lead).score_breakdown for lead in leads}
    monkeypatch.setattr(breakdown, "PARSED_MAX", 2)
    breakdown._parsed.clear()
    for _ in range(2):
        assert {lead.id: org.reload(lead).score_breakdown for lead in leads} == expected
        assert len(breakdown._parsed) <= 3
