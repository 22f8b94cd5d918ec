"""Lead scoring: seeded rules as data, the per-lead breakdown, recomputation on change, the
rules API (validation, rights) and batch cost."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from modules.leads import scoring
from modules.leads.automation_models import ScoringRule
from modules.leads.models import Lead
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, count_queries, database_url, install, org, server)


def codes(lead: Lead) -> dict[str, int]:
    return {item["rule"]: item["points"] for item in lead.score_breakdown}


def test_seeded_rules_score_a_lead_and_explain_it(org):
    lead = org.lead(source="referral", company="华为技术", mobile="13800138000",
                    budget=Decimal("500000"))
    assert scoring.rescore(org.ctx(), [lead.id]) == {lead.id: 55}
    stored = org.reload(lead)
    assert stored.score == 55
    assert codes(stored) == {"source_referral": 20, "has_company": 10, "has_mobile": 10,
                             "budget_mid": 10, "recent": 5}
    assert all(item["label"] and item["detail"] for item in stored.score_breakdown)

    bare = org.lead(source="other", created_at=org.clock() - dt.timedelta(days=10))
    scoring.rescore(org.ctx(), [bare])
    assert (bare.score, bare.score_breakdown) == (0, [])
    assert org.reload(bare).score == 0


def test_rule_kinds_bands_caps_and_clamping(org):
    ScoringRule.update(active=False).execute()
    now = org.clock()

    def add(code, kind, params, points):
        ScoringRule.create(code=code, label=code, kind=kind, params=params, points=points)

    add("big", "budget", {"min": "1000000"}, 40)
    add("mid", "budget", {"min": "100000", "max": "1000000"}, 20)
    add("web", "engagement", {"kinds": ["web_visit"], "within_days": 7, "max_count": 2}, 15)
    add("week", "recency", {"within_days": 7}, 30)
    add("spam", "source", {"sources": ["ads"]}, -50)
    edge = org.lead(budget=Decimal("1000000"))
    below = org.lead(budget=Decimal("99999.99"), source="ads")
    old = org.lead(created_at=now - dt.timedelta(days=8), hot=True,
                   last_activity_at=now - dt.timedelta(days=6))
    from modules.leads.automation_models import LeadEngagement
    for days in (1, 2, 3, 9):
        LeadEngagement.create(lead=old.id, kind="web_visit",
                              occurred_at=now - dt.timedelta(days=days))
    LeadEngagement.create(lead=old.id, kind="email_click", occurred_at=now)
    scores = scoring.rescore(org.ctx(), [edge.id, below.id, old.id])
    assert scores[edge.id] == 40 + 30  # the upper bound belongs to the next band
    assert scores[below.id] == 0  # 30 - 50, clamped at 0
    assert scores[old.id] == 30 + 2 * 15  # three visits in the window, capped at two
    assert codes(org.reload(old)) == {"web": 30, "week": 30}


def test_scores_follow_rule_edits_through_the_api(org, clients):
    lead = org.lead(source="referral")
    closed = org.lead(source="referral", status="lost", lost_reason="预算不足")
    scoring.rescore(org.ctx(), [lead.id, closed.id])
    assert org.reload(lead).score == 25
    admin = clients("admin")
    listed = admin.get("/api/v1/leads/scoring-rules", params={"limit": 200}).json()["items"]
    referral = next(r for r in listed if r["code"] == "source_referral")
    answer = admin.patch(f"/api/v1/leads/scoring-rules/{referral['id']}", json={"points": 35})
    assert answer.status_code == 200, answer.text
    assert answer.json()["points"] == 35
    assert org.reload(lead).score == 40  # open leads are rescored after the edit
    assert codes(org.reload(lead))["source_referral"] == 35
    assert org.reload(closed).score == 25  # closed leads keep their final score

    created = admin.post("/api/v1/leads/scoring-rules", json={
        "code": "title_boss", "label": "有职位", "kind": "field",
        "params": {"field": "title"}, "points": 7})
    assert created.status_code == 201, created.text
    Lead.update(title="总经理").where(Lead.id == lead.id).execute()
    scoring.rescore(org.ctx(), [lead.id])
    assert codes(org.reload(lead))["title_boss"] == 7
    assert admin.delete(f"/api/v1/leads/scoring-rules/{created.json()['id']}").status_code == 204
    assert "title_boss" not in codes(org.reload(lead))


def test_rules_api_validates_every_field_and_guards_rights(org, clients):
    admin = clients("admin")
    bad = admin.post("/api/v1/leads/scoring-rules", json={
        "code": "Bad Code", "kind": "budget", "params": {"min": "9", "max": "1"},
        "points": 500, "colour": "red"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"code", "label", "params", "points", "colour"}
    duplicate = admin.post("/api/v1/leads/scoring-rules", json={
        "code": "source_referral", "label": "x", "kind": "hot", "params": {}, "points": 1})
    assert duplicate.status_code == 422 and "code" in duplicate.json()["error"]["fields"]
    wrong_params = admin.post("/api/v1/leads/scoring-rules", json={
        "code": "src", "label": "x", "kind": "source", "params": {"sources": ["moon"]},
        "points": 1})
    assert wrong_params.json()["error"]["fields"].keys() == {"params"}

    rep = clients("rep1")
    assert rep.get("/api/v1/leads/scoring-rules").status_code == 403
    assert rep.post("/api/v1/leads/scoring-rules", json={}).status_code == 403
    manager = clients("mgr")
    assert manager.get("/api/v1/leads/scoring-rules").status_code == 200
    some = ScoringRule.select().first()
    assert manager.patch(f"/api/v1/leads/scoring-rules/{some.id}",
                         json={"points": 1}).status_code == 403
    assert ScoringRule.get_by_id(some.id).points != 1


def test_score_endpoint_explains_within_scope(org, clients):
    mine = org.lead(source="website", company="某公司", owner=org.id("rep1"))
    scoring.rescore(org.ctx(), [mine.id])
    answer = clients("rep1").get(f"/api/v1/leads/{mine.id}/score")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["score"] == 25 and {i["rule"] for i in body["score_breakdown"]} == {
        "source_web", "has_company", "recent"}
    assert clients("rep2").get(f"/api/v1/leads/{mine.id}/score").status_code == 404
    assert clients("mgr").get(f"/api/v1/leads/{mine.id}/score").status_code == 200
    assert clients("md_mgr").get(f"/api/v1/leads/{mine.id}/score").status_code == 404


def test_batch_rescore_costs_the_same_queries_for_10_or_300_leads(org):
    small = [org.lead(company=f"公司{i}").id for i in range(10)]
    large = [org.lead(company=f"公司{i}").id for i in range(300)]
    ctx = org.ctx()
    with count_queries() as few:
        scoring.rescore(ctx, small)
    with count_queries() as many:
        scoring.rescore(ctx, large)
    assert len(many) <= len(few) + 1  # CASE updates go 200 leads at a time
    assert {lead.score for lead in Lead.select().where(Lead.id.in_(large))} == {25}


def test_batch_scoring_equals_scoring_each_lead_alone(org):
    """`rescore` memoises evaluation over a batch (`scoring.Memo`): every stored score and
    breakdown must be exactly what `evaluate` gives for that lead on its own."""
    budgets = [None, Decimal("50000"), Decimal("150000"), Decimal("150000"),
               Decimal("2500000"), Decimal("999999.50")]
    leads = [org.lead(source=source, company=company, budget=budget, mobile=mobile)
             for source in ("website", "referral", "other")
             for company in (None, "华为技术")
             for budget in budgets
             for mobile in (None, "13800138000")]
    ctx = org.ctx()
    scoring.rescore(ctx, [lead.id for lead in leads])
    rules = scoring.rules_by_division([org.divisions["IA"].id])[org.divisions["IA"].id]
    details = set()
    for lead in leads:
        stored = org.reload(lead)
        assert (stored.score, stored.score_breakdown) == scoring.evaluate(
            stored, rules, [], ctx.now())
        details |= {i["detail"] for i in stored.score_breakdown if i["kind"] == "budget"}
    assert len(details) == 3  # 150000 (twice), 999999.50, 2500000: each names its amount
