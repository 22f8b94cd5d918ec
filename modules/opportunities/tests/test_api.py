"""The deal API over HTTP as real users: scopes (own, team, division, other division), field
rules on reads and writes, gates and lost reasons, history, competitors, list paging."""
from __future__ import annotations

import datetime as dt

from modules.opportunities.models import Opportunity
from modules.opportunities.tests.conftest import make_contact
from modules.opportunities.tests.helpers import deal, define_role, stage, user_with_role
from modules.opportunities.tests.test_forecast import money_keys

SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()
API = "/api/v1/opportunities"


def test_create_read_update_in_scope(org, clients):
    rep1 = clients("rep1")
    made = rep1.post(API, json={"name": "PLC 升级", "account": org.accounts["acme"].id,
                                "amount": 500000, "expected_close": SOON,
                                "forecast_category": "best_case"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["amount"] == "500000.00" and body["currency"] == "CNY"
    assert body["stage_name"] == "初步接触" and body["owner"] == org.id("rep1")
    assert body["weighted_amount"] == "50000.00" and body["account_name"] == "acme 有限公司"
    opp = body["id"]
    assert clients("rep2").get(f"{API}/{opp}").status_code == 404
    assert clients("md_rep").get(f"{API}/{opp}").status_code == 404
    assert clients("rep3").patch(f"{API}/{opp}", json={"name": "x"}).status_code == 404
    assert clients("mgr").get(f"{API}/{opp}").status_code == 200  # rep1 is in mgr's team
    changed = clients("mgr").patch(f"{API}/{opp}", json={"amount": "480000.50",
                                                        "probability": 40})
    assert changed.status_code == 200, changed.text
    assert changed.json()["weighted_amount"] == "192000.20"
    assert clients("pre").get(f"{API}/{opp}").status_code == 200  # presales: the division


def test_creation_stays_inside_the_callers_scope(org, clients):
    rep1 = clients("rep1")
    foreign = rep1.post(API, json={"name": "x", "account": org.accounts["bolt"].id})
    assert foreign.status_code == 422 and "account" in foreign.json()["error"]["fields"]
    for_other = rep1.post(API, json={"name": "x", "account": org.accounts["acme"].id,
                                     "owner": org.id("rep2")})
    assert for_other.status_code == 403
    assert for_other.json()["error"]["code"] == "out_of_scope"
    assert Opportunity.select().count() == 0
    bad = rep1.post(API, json={"name": "", "account": org.accounts["acme"].id,
                               "amount": "12.345", "forecast_category": "maybe",
                               "currency": "USD", "colour": "red"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"name", "amount", "forecast_category",
                                                  "currency", "colour"}
    assert clients("pre").post(API, json={"name": "x", "account": 1}).status_code == 403


def test_presales_never_receives_money(org, clients):
    opp = deal(org, amount="750000", budget="800000")
    pre = clients("pre")
    detail = pre.get(f"{API}/{opp['id']}").json()
    listed = pre.get(API).json()
    assert detail["name"] == "acme 项目" and listed["items"][0]["id"] == opp["id"]
    assert money_keys(detail) == set() and money_keys(listed) == set()
    assert "effective_probability" in detail  # the probability itself is not money
    assert pre.get(f"{API}?min_amount=1").status_code == 403
    assert pre.get(f"{API}?sort=-amount").status_code == 403
    assert pre.patch(f"{API}/{opp['id']}", json={"name": "x"}).status_code == 403


def test_a_forbidden_field_write_lists_every_field(org, clients):
    define_role("rep_fixed_price", [
        ("model/opportunity", "read"), ("model/opportunity", "write"),
        ("scope/opportunity", "read:own"), ("scope/opportunity", "write:own"),
        ("field/opportunity/amount", "read"), ("field/opportunity/budget", "hidden")])
    user_with_role(org, "rep5", "rep_fixed_price")
    opp = Opportunity.get_by_id(deal(org)["id"])
    Opportunity.update(owner=org.id("rep5")).where(Opportunity.id == opp.id).execute()
    answer = clients("rep5").patch(f"{API}/{opp.id}", json={"amount": 1, "budget": 2,
                                                            "name": "ok"})
    assert answer.status_code == 403
    assert answer.json()["error"]["fields"] == {"amount": "read-only", "budget": "hidden"}
    assert Opportunity.get_by_id(opp.id).name == "acme 项目"


def test_moves_answer_gates_and_lost_reason_over_http(org, clients):
    opp = deal(org, expected_close=SOON,
               contact=make_contact(org.accounts["acme"], "张工", "user").id)
    rep1 = clients("rep1")
    refused = rep1.post(f"{API}/{opp['id']}/move", json={"stage": stage(org, "报价谈判").id})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "stage_gate"
    assert set(error["fields"]) == {"budget", "decision_maker", "competitor"}
    lost = rep1.post(f"{API}/{opp['id']}/move", json={"stage": stage(org, "输单").id})
    assert lost.status_code == 422 and set(lost.json()["error"]["fields"]) == {"lost_reason"}
    assert rep1.patch(f"{API}/{opp['id']}", json={"stage": 1}).status_code == 422
    org.clock.advance(minutes=50)  # (sessions idle out after 2 h)
    ok = rep1.post(f"{API}/{opp['id']}/move", json={"stage": stage(org, "需求确认").id})
    assert ok.status_code == 200 and ok.json()["seconds_in_stage"] == 0
    org.clock.advance(minutes=30)
    assert rep1.get(f"{API}/{opp['id']}").json()["seconds_in_stage"] == 1800
    history = rep1.get(f"{API}/{opp['id']}/history").json()["changes"]
    assert [(h["from_stage_name"], h["to_stage_name"], h["user_name"],
             h["seconds_in_from_stage"]) for h in history] == [
        (None, "初步接触", "李娜", None), ("初步接触", "需求确认", "李娜", 50 * 60)]
    assert clients("rep2").post(f"{API}/{opp['id']}/move",
                                json={"stage": stage(org, "需求确认").id}).status_code == 404


def test_competitors(org, clients):
    opp = deal(org)
    rep1 = clients("rep1")
    added = rep1.post(f"{API}/{opp['id']}/competitors", json={"name": "西门子",
                                                              "threat": "high"})
    assert added.status_code == 201, added.text
    listed = rep1.get(f"{API}/{opp['id']}/competitors").json()["competitors"]
    assert [c["name"] for c in listed] == ["西门子"]
    assert clients("rep2").post(f"{API}/{opp['id']}/competitors",
                                json={"name": "ABB"}).status_code == 404
    assert rep1.delete(f"{API}/{opp['id']}/competitors/{added.json()['id']}").status_code == 204
    assert rep1.get(f"{API}/{opp['id']}").json()["competitors"] == []


def test_delete_needs_the_right(org, clients):
    opp = deal(org)
    assert clients("rep1").delete(f"{API}/{opp['id']}").status_code == 403
    assert clients("mgr").delete(f"{API}/{opp['id']}").status_code == 204
    assert Opportunity.get_or_none(Opportunity.id == opp["id"]) is None


def test_list_filters_sort_keyset_pages_and_fields(org, clients):
    for n in range(7):
        deal(org, name=f"deal {n}", amount=str(1000 * (n % 3) + n))
    deal(org, "rep2", "bolt", name="not mine")
    rep1 = clients("rep1")
    seen, after = [], None
    while True:
        page = rep1.get(API, params={"sort": "amount", "limit": 3,
                                     **({"after": after} if after else {})}).json()
        seen += [item["name"] for item in page["items"]]
        after = page["next"]
        if not after:
            break
    assert seen == ["deal 0", "deal 3", "deal 6", "deal 1", "deal 4", "deal 2", "deal 5"]
    only = rep1.get(API, params={"fields": "name,amount", "limit": 1}).json()["items"][0]
    assert set(only) == {"id", "name", "amount"}
    assert rep1.get(API, params={"fields": "nonsense"}).status_code == 400
    assert rep1.get(API, params={"status": "open", "q": "deal 4"}).json()["items"][0][
        "name"] == "deal 4"
    assert rep1.get(API, params={"status": "won"}).json()["items"] == []
    assert len(clients("mgr").get(API).json()["items"]) == 8
