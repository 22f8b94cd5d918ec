"""Stage gates: they block a move and say exactly what is missing; losing needs a reason;
gates are data an administrator edits without code."""
from __future__ import annotations

import datetime as dt

from modules.contacts.models import Activity
from modules.opportunities import competitors, moves, pipeline_admin, services
from modules.opportunities.models import Opportunity, OpportunityCompetitor, StageChange
from modules.opportunities.tests.conftest import make_contact
from modules.opportunities.tests.helpers import (
    deal, define_role, move, refused, stage, user_with_role,
)

SOON = (dt.date.today() + dt.timedelta(days=40)).isoformat()


def ready_for_demo(org, **values) -> dict:
    """A deal of rep1 whose needs-confirmed and demo gates hold (date and contact set)."""
    contact = make_contact(org.accounts["acme"], "张工", "user")
    return deal(org, expected_close=SOON, contact=contact.id, amount="500000.00", **values)


def test_quote_gate_blocks_and_lists_exactly_what_is_missing(org):
    ctx = org.ctx("rep1")
    opp = ready_for_demo(org)
    err = refused(moves.move, ctx, opp["id"], {"stage": stage(org, "报价谈判").id})
    assert err.status_code == 422 and err.code == "stage_gate"
    assert set(err.fields) == {"budget", "decision_maker", "competitor"}
    assert err.fields["budget"] == "需要填写预算 / budget is required"
    assert err.fields["decision_maker"] == "需要一位决策人联系人 / a decision-maker contact is required"
    assert "competitor" in err.fields["competitor"]
    assert Opportunity.get_by_id(opp["id"]).stage_id == stage(org, "初步接触").id
    assert StageChange.select().where(StageChange.opportunity == opp["id"]).count() == 1

    services.update(ctx, opp["id"], {"budget": "650000"})
    err = refused(moves.move, ctx, opp["id"], {"stage": stage(org, "报价谈判").id})
    assert set(err.fields) == {"decision_maker", "competitor"}

    make_contact(org.accounts["acme"], "李总", "decision_maker")
    competitors.add_competitor(ctx, opp["id"], {"name": "西门子", "threat": "high"})
    moved = move(org, "rep1", opp["id"], "报价谈判")
    assert moved["stage"] == stage(org, "报价谈判").id and moved["stage_name"] == "报价谈判"


def test_every_stage_entered_is_checked_when_skipping(org):
    opp = deal(org)  # no date, no contact, no budget, no competitor
    err = refused(move, org, "rep1", opp["id"], "报价谈判")
    assert list(err.fields) == ["expected_close", "contact", "budget", "decision_maker",
                                "competitor"]
    err = refused(move, org, "rep1", opp["id"], "方案演示")
    assert list(err.fields) == ["expected_close", "contact"]


def test_moving_back_checks_only_the_target(org):
    opp = ready_for_demo(org)
    move(org, "rep1", opp["id"], "方案演示")
    services.update(org.ctx("rep1"), opp["id"], {"contact": None})
    assert move(org, "rep1", opp["id"], "需求确认")["stage_name"] == "需求确认"
    services.update(org.ctx("rep1"), opp["id"], {"expected_close": None})
    err = refused(move, org, "rep1", opp["id"], "方案演示")  # forward again: gates apply
    assert list(err.fields) == ["contact"]
    assert move(org, "rep1", opp["id"], "初步接触")["stage_name"] == "初步接触"


def test_losing_requires_a_reason_and_closes_the_deal(org, clock):
    opp = deal(org)
    err = refused(move, org, "rep1", opp["id"], "输单")
    assert err.status_code == 422 and err.code == "stage_gate"
    assert list(err.fields) == ["lost_reason"]
    err = refused(move, org, "rep1", opp["id"], "输单", lost_reason="   ")
    assert err.status_code == 422 and "lost_reason" in err.fields
    clock.advance(days=3, hours=4)
    lost = move(org, "rep1", opp["id"], "输单", lost_reason="价格偏高，客户选择了竞争对手")
    row = Opportunity.get_by_id(opp["id"])
    assert row.lost_reason == "价格偏高，客户选择了竞争对手"
    assert row.closed_at == clock.now
    assert row.cycle_seconds == (3 * 24 + 4) * 3600
    assert lost["cycle_days"] == 3.2 and "seconds_in_stage" not in lost
    # a lost reason belongs to a lost move only
    other = deal(org)
    err = refused(move, org, "rep1", other["id"], "需求确认", lost_reason="x")
    assert err.fields == {"lost_reason": "仅在输单时填写 / only for a move into a lost stage"}


def test_reopening_clears_the_close(org):
    opp = deal(org)
    move(org, "rep1", opp["id"], "输单", lost_reason="项目预算取消")
    reopened = move(org, "rep1", opp["id"], "初步接触")
    row = Opportunity.get_by_id(reopened["id"])
    assert row.closed_at is None and row.lost_reason is None and row.cycle_seconds is None


def test_winning_needs_a_positive_amount(org):
    opp = ready_for_demo(org, budget="600000")
    make_contact(org.accounts["acme"], "李总", "decision_maker")
    competitors.add_competitor(org.ctx("rep1"), opp["id"], {"name": "ABB"})
    services.update(org.ctx("rep1"), opp["id"], {"amount": None})
    err = refused(move, org, "rep1", opp["id"], "赢单")
    assert list(err.fields) == ["amount"]
    services.update(org.ctx("rep1"), opp["id"], {"amount": "580000.00"})
    won = move(org, "rep1", opp["id"], "赢单")
    assert won["stage_kind"] == "won" and won["effective_probability"] == 100
    assert won["weighted_amount"] == "580000.00"


def test_a_new_deal_must_pass_the_gates_of_its_starting_stage(org):
    quote = stage(org, "报价谈判")
    err = refused(deal, org, "rep1", "acme", stage=quote.id)
    assert err.code == "stage_gate"
    assert list(err.fields) == ["expected_close", "contact", "budget", "decision_maker",
                                "competitor"]
    contact = make_contact(org.accounts["acme"], "李总", "decision_maker")
    created = deal(org, stage=quote.id, expected_close=SOON, contact=contact.id,
                   budget="800000", amount="750000", competitors=[{"name": "汇川技术"}])
    assert created["stage"] == quote.id
    assert [c["name"] for c in created["competitors"]] == ["汇川技术"]
    assert Opportunity.select().count() == 1  # the refused one left nothing behind


def test_admin_edits_gates_as_data_and_moves_follow(org):
    admin = org.ctx("admin")
    needs = stage(org, "需求确认")
    pipeline_id = needs.pipeline_id
    gates = pipeline_admin.replace_gates(admin, pipeline_id, needs.id, [
        {"kind": "condition", "condition": {"type": "activity", "kind": "visit"},
         "message": "需要先拜访客户", "message_en": "visit the customer first"},
        {"kind": "required_field", "field": "custom.tender_no"},
    ])
    assert [g["code"] for g in gates] == ["activity_visit", "custom.tender_no"]
    opp = deal(org)
    err = refused(move, org, "rep1", opp["id"], "需求确认")
    assert err.fields == {"activity_visit": "需要先拜访客户 / visit the customer first",
                          "custom.tender_no": "需要填写 tender_no / tender_no is required"}
    Activity.create(kind="visit", subject="现场拜访", res_model="opportunity", res_id=opp["id"],
                    owner=org.users["rep1"], division=org.divisions["IA"])
    services.update(org.ctx("rep1"), opp["id"], {"custom": {"tender_no": "ZB-2026-031"}})
    assert move(org, "rep1", opp["id"], "需求确认")["stage_name"] == "需求确认"


def test_gate_definitions_are_validated(org):
    admin = org.ctx("admin")
    needs = stage(org, "需求确认")
    err = refused(pipeline_admin.replace_gates, admin, needs.pipeline_id, needs.id, [
        {"kind": "required_field", "field": "password"},
        {"kind": "condition", "condition": {"type": "contact_role", "role": "boss"}},
        {"kind": "condition", "condition": {"type": "telepathy"}},
        {"kind": "nonsense"},
    ])
    assert err.status_code == 422
    assert set(err.fields) == {"gates.0.field", "gates.1.condition.role", "gates.2.condition",
                               "gates.3.kind"}


def test_a_requirement_on_a_hidden_field_does_not_name_it(org):
    define_role("rep_no_budget", [
        ("model/opportunity", "read"), ("model/opportunity", "create"),
        ("model/opportunity", "write"), ("scope/opportunity", "read:own"),
        ("scope/opportunity", "write:own"), ("field/opportunity/budget", "hidden"),
        ("model/account", "read"), ("scope/account", "read:all"),
        ("model/pipeline_stage", "read")])
    user_with_role(org, "rep4", "rep_no_budget")
    contact = make_contact(org.accounts["acme"], "李总", "decision_maker")
    ctx = org.ctx("rep4")
    opp = services.create(ctx, {"name": "无预算可见", "account": org.accounts["acme"].id,
                                "expected_close": SOON, "contact": contact.id})
    OpportunityCompetitor.create(opportunity=opp["id"], name="ABB")
    err = refused(moves.move, ctx, opp["id"], {"stage": stage(org, "报价谈判").id})
    assert len(err.fields) == 1
    (code, message), = err.fields.items()
    assert code.startswith("gate_") and "budget" not in message and "预算" not in message
    assert "budget" not in err.message and "budget" not in opp
