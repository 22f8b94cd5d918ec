"""Kanban, forecast, snapshots, variance and stage durations over HTTP; the handover provider,
the opportunity timeline and the daily snapshot job."""
from __future__ import annotations

from modules.contacts import handover
from modules.contacts.models import Activity
from modules.opportunities import money
from modules.opportunities.durations import stage_durations
from modules.opportunities.models import ForecastSnapshot, Opportunity
from modules.opportunities.tests.helpers import deal, move
from modules.opportunities.tests.test_forecast import deals, money_keys  # noqa: F401

OPP = "/api/v1/opportunities"


def test_kanban_over_http(org, clients, deals):  # noqa: F811
    board = clients("mgr").get(f"{OPP}/kanban", params={"limit_per_stage": 1})
    assert board.status_code == 200, board.text
    quote = next(s for s in board.json()["stages"] if s["name"] == "报价谈判")
    assert (quote["count"], quote["amount_sum"]) == (3, "533333.33")  # b, e, l
    assert len(quote["deals"]) == 1
    blind = clients("pre").get(f"{OPP}/kanban").json()
    assert money_keys(blind) == set()
    assert clients("pre").get(f"{OPP}/kanban", params={"order": "amount"}).status_code == 403


def test_forecast_endpoints(org, clients, deals):  # noqa: F811
    m, _ = deals
    by_owner = clients("mgr").get(f"{OPP}/forecast", params={"group": "owner,category"})
    assert by_owner.status_code == 200, by_owner.text
    assert by_owner.json()["total"] == {"count": 6, "amount": "725679.10",
                                        "weighted": "444172.87"}
    rolling = clients("rep1").get(f"{OPP}/forecast/rolling").json()
    assert rolling["months"][0]["forecast"] == {"count": 2, "amount": "433333.33",
                                                "weighted": "260000.00"}
    assert clients("rep1").get(f"{OPP}/forecast", params={"group": "galaxy"}).status_code == 400
    assert clients("rep1").get(f"{OPP}/forecast", params={"from": "2026-13"}).status_code == 400
    assert money_keys(clients("pre").get(f"{OPP}/forecast").json()) == set()


def test_snapshots_and_variance_endpoints(org, clients, deals):  # noqa: F811
    m, ids = deals
    assert clients("mgr").post(f"{OPP}/forecast/snapshots").status_code == 403
    taken = clients("admin").post(f"{OPP}/forecast/snapshots")
    assert taken.status_code == 201, taken.text
    today = taken.json()["taken_on"]
    assert clients("rep2").get(f"{OPP}/forecast/snapshots").json() == {"taken_on": [today]}
    move(org, "rep1", ids["b"], "赢单")
    result = clients("mgr").get(f"{OPP}/forecast/variance",
                                params={"period": m.labels[0], "taken_on": today}).json()
    assert {r["owner_name"] for r in result["rows"]} == {"李娜", "刘洋"}
    assert result["total"]["actual"] == {"count": 1, "amount": "333333.33"}
    assert clients("mgr").get(f"{OPP}/forecast/variance",
                              params={"period": "2020-01"}).status_code == 404


def test_stage_durations_and_cycle(org, clients):
    first = deal(org)
    org.clock.advance(days=2)
    move(org, "rep1", first["id"], "输单", lost_reason="项目预算取消")
    second = deal(org)
    org.clock.advance(days=4)
    move(org, "rep1", second["id"], "输单", lost_reason="客户需求变更")
    report = stage_durations(org.ctx("rep1"))
    initial = report["stages"][0]
    assert (initial["name"], initial["exits"], initial["avg_days"]) == ("初步接触", 2, 3.0)
    assert report["cycle"]["lost"] == {"count": 2, "avg_days": 3.0}
    assert report["win_rate"] == 0.0
    assert stage_durations(org.ctx("rep3"))["stages"][0]["exits"] == 0
    over_http = clients("mgr").get(f"{OPP}/stage-durations").json()
    assert over_http["stages"][0]["exits"] == 2


def test_handover_moves_open_deals_only(org):
    open_deal = deal(org)
    closed = deal(org)
    move(org, "rep1", closed["id"], "输单", lost_reason="价格")
    provider = next(p for p in handover.providers(org.registry) if p.label == "opportunities")
    assert provider.count(org.ctx("admin"), org.users["rep1"]) == 1
    result = handover.execute(org.ctx("admin"), "rep1", ["rep2"])
    assert {"label": "opportunities", "count": 1} in result["counts"]
    assert Opportunity.get_by_id(open_deal["id"]).owner_id == org.id("rep2")
    assert Opportunity.get_by_id(closed["id"]).owner_id == org.id("rep1")


def test_opportunity_timeline(org, clients):
    opp = deal(org)
    Activity.create(kind="call", subject="电话沟通需求", res_model="opportunity",
                    res_id=opp["id"], owner=org.users["rep1"], division=org.divisions["IA"],
                    account=org.accounts["acme"])
    mine = clients("rep1").get(f"/api/v1/timeline/opportunity/{opp['id']}")
    assert mine.status_code == 200, mine.text
    assert "电话沟通需求" in mine.text
    assert clients("rep2").get(f"/api/v1/timeline/opportunity/{opp['id']}").status_code == 404


def test_the_daily_job_takes_a_snapshot(org, deals):  # noqa: F811
    from core.jobs import build_huey

    huey = build_huey(org.registry)
    task = huey.huike_tasks["opportunities.opportunities.forecast_snapshot"]
    rows = task.call_local()
    assert rows == ForecastSnapshot.select().count() > 0
    taken_on = {s.taken_on for s in ForecastSnapshot.select()}
    assert taken_on == {money.local_today(org.system())}  # org's clock ≈ real time
