"""The public pool (公海): per-division browsing through the door, claim (daily limit,
protection, races), release, recycling of untouched leads, audit of every move."""
from __future__ import annotations

import datetime as dt

from modules.leads import assignment, pool
from modules.leads.automation_models import Notification, PoolMove
from modules.leads.models import Lead
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, server)
from security.audit import AuditEntry


def pooled(org, division: str = "IA", **values) -> Lead:
    """An ownerless lead that went through assignment with no matching rule."""
    lead = org.lead(division=division, **values)
    assignment.assign(org.ctx(), [lead.id])
    return org.reload(lead)


def next_shanghai_morning(after: dt.datetime) -> dt.datetime:
    """Naive UTC of the first 10:00 in Shanghai (UTC+8) after `after`."""
    candidate = after.replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00 at UTC+8
    return candidate if candidate > after else candidate + dt.timedelta(days=1)


def audit_actions(lead_id: int) -> list[str]:
    return [e.action for e in AuditEntry.select().where(
        AuditEntry.res_id == lead_id, AuditEntry.model == "leads_lead",
        AuditEntry.action.startswith("lead.pool_")).order_by(AuditEntry.seq)]


def test_pool_lists_the_divisions_ownerless_leads_only(org, clients):
    free = pooled(org, name="公海客户", mobile="13900139000")
    pooled(org, division="MD", name="医疗客户")
    org.lead(name="别人的", owner=org.id("rep2"))
    assert free.pool_entered_at is not None
    page = clients("rep1").get("/api/v1/leads/pool")
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [i["name"] for i in items] == ["公海客户"]
    assert not any(k.endswith("_bidx") for k in items[0])
    assert [i["name"] for i in clients("md_rep").get("/api/v1/leads/pool").json()["items"]] == [
        "医疗客户"]
    # the pool is its own scope: browsable (and its scores), but not writable before a claim
    assert clients("rep1").get(f"/api/v1/leads/{free.id}/score").status_code == 200
    assert clients("md_rep").get(f"/api/v1/leads/{free.id}/score").status_code == 404
    assert clients("rep1").post(f"/api/v1/leads/{free.id}/status",
                                json={"status": "contacted"}).status_code == 404
    assert clients("fin").get("/api/v1/leads/pool").status_code == 403
    assert clients("rep1").get("/api/v1/leads/pool", params={"sort": "colour"}).status_code == 400
    filtered = clients("rep1").get("/api/v1/leads/pool", params={"source": "expo"})
    assert filtered.json()["items"] == []


def test_pool_listing_honours_field_rules(org, clients):
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    pooled(org, name="公海客户", mobile="13900139000", budget="300000")
    adapter = PeeweeAdapter()
    adapter.add_policy("p", "p", ["sales_rep", "*", "field/lead/mobile", "masked"])
    adapter.add_policy("p", "p", ["sales_rep", "*", "field/lead/budget", "hidden"])
    bump_version()
    item = clients("rep1").get("/api/v1/leads/pool").json()["items"][0]
    assert "budget" not in item
    assert item["mobile"] != "13900139000" and "****" in item["mobile"]
    manager = clients("mgr").get("/api/v1/leads/pool").json()["items"][0]
    assert manager["budget"] == "300000.00"


def test_claim_makes_the_caller_owner_once(org, clients, clock):
    free = pooled(org)
    claimed = clients("rep1").post(f"/api/v1/leads/{free.id}/claim")
    assert claimed.status_code == 200, claimed.text
    stored = org.reload(free)
    assert stored.owner_id == org.id("rep1") and stored.pool_entered_at is None
    assert stored.assigned_at == clock()
    assert stored.first_response_due_at == clock() + dt.timedelta(minutes=5)
    again = clients("rep2").post(f"/api/v1/leads/{free.id}/claim")
    assert again.status_code == 409 and again.json()["error"]["code"] == "owned"
    assert clients("rep1").post(f"/api/v1/leads/{free.id}/claim").status_code == 200  # no-op
    assert clients("md_rep").post(f"/api/v1/leads/{free.id}/claim").status_code == 404
    assert clients("fin").post(f"/api/v1/leads/{free.id}/claim").status_code == 403
    assert audit_actions(free.id) == ["lead.pool_claim"]
    move = PoolMove.get(PoolMove.lead == free.id)
    assert (move.action, move.to_user, move.actor) == ("claim", org.id("rep1"), org.id("rep1"))


def test_daily_claim_limit(org, clients, clock):
    admin = clients("admin")
    put = admin.put(f"/api/v1/leads/pool-settings/{org.divisions['IA'].id}",
                    json={"claim_daily_limit": 2, "recycle_days": 30, "protection_days": 7})
    assert put.status_code == 200, put.text
    bad = admin.put("/api/v1/leads/pool-settings/default", json={"claim_daily_limit": -1})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"claim_daily_limit"}
    morning = next_shanghai_morning(clock())  # 10:00 in Shanghai
    clock.set(morning)
    leads = [pooled(org) for _ in range(4)]
    rep = clients("rep1")
    assert [rep.post(f"/api/v1/leads/{lead.id}/claim").status_code for lead in leads[:2]] == [
        200, 200]
    refused = rep.post(f"/api/v1/leads/{leads[2].id}/claim")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "claim_limit"
    assert "上限" in refused.json()["error"]["message"]
    assert org.reload(leads[2]).owner_id is None
    assert clients("rep2").post(f"/api/v1/leads/{leads[2].id}/claim").status_code == 200
    clock.set(morning + dt.timedelta(hours=13, minutes=59))  # 23:59: still the same day
    assert rep.post(f"/api/v1/leads/{leads[3].id}/claim").status_code == 429
    clock.set(morning + dt.timedelta(hours=14, minutes=1))  # 00:01 the next day
    assert rep.post(f"/api/v1/leads/{leads[3].id}/claim").status_code == 200


def test_release_and_protection_period(org, clients, clock):
    lead = org.lead(owner=org.id("rep1"), assigned_at=clock())
    assert clients("rep2").post(f"/api/v1/leads/{lead.id}/release").status_code == 404
    released = clients("rep1").post(f"/api/v1/leads/{lead.id}/release",
                                    json={"reason": "客户无预算"})
    assert released.status_code == 200, released.text
    stored = org.reload(lead)
    assert stored.owner_id is None and stored.pool_entered_at == clock()
    assert stored.protected_until == clock() + dt.timedelta(days=7)
    assert clients("rep1").post(f"/api/v1/leads/{lead.id}/release").status_code == 404
    clock.advance(days=1)
    back = clients("rep1").post(f"/api/v1/leads/{lead.id}/claim")
    assert back.status_code == 409 and back.json()["error"]["code"] == "protected"
    assert "protected_until" in back.json()["error"]["fields"]
    assert clients("rep2").post(f"/api/v1/leads/{lead.id}/claim").status_code == 200
    # the manager releases the rep's lead; after the protection period rep1 may take it again
    assert clients("mgr").post(f"/api/v1/leads/{lead.id}/release").status_code == 200
    clock.advance(days=8)
    assert clients("rep1").post(f"/api/v1/leads/{lead.id}/claim").status_code == 200
    assert audit_actions(lead.id) == ["lead.pool_release", "lead.pool_claim",
                                      "lead.pool_release", "lead.pool_claim"]
    reasons = [m.reason for m in PoolMove.select().where(PoolMove.action == "release")
               .order_by(PoolMove.id)]
    assert reasons == ["客户无预算", None]
    long_reason = clients("rep1").post(f"/api/v1/leads/{lead.id}/release",
                                       json={"reason": "长" * 201})
    assert long_reason.status_code == 422


def test_recycle_returns_untouched_leads(org, clock):
    from modules.contacts.activities import log_activity

    start = clock()
    idle = org.lead(name="沉睡", owner=org.id("rep1"), assigned_at=start)
    worked = org.lead(name="在跟", owner=org.id("rep1"), assigned_at=start)
    elsewhere = org.lead(name="别处跟进", owner=org.id("rep2"), assigned_at=start)
    closed = org.lead(name="已流失", owner=org.id("rep1"), assigned_at=start, status="lost",
                      lost_reason="无需求")
    clock.advance(days=20)
    from modules.leads import sla
    sla.record_response(org.ctx(), [worked.id], clock())
    log_activity(org.ctx("rep2", "IA"), {"res_model": "lead", "res_id": elsewhere.id,
                                         "kind": "note", "subject": "备注"})
    assert pool.recycle(org.ctx(), start + dt.timedelta(days=29)) == 0
    assert pool.recycle(org.ctx(), start + dt.timedelta(days=31)) == 1
    assert pool.recycle(org.ctx(), start + dt.timedelta(days=32)) == 0
    assert org.reload(idle).owner_id is None
    assert org.reload(idle).protected_until == start + dt.timedelta(days=31 + 7)
    for kept in (worked, elsewhere, closed):
        assert org.reload(kept).owner_id is not None
    assert org.reload(elsewhere).last_activity_at == clock()  # caught up from the timeline
    assert audit_actions(idle.id) == ["lead.pool_recycle"]
    note = Notification.get(Notification.kind == "lead_recycled")
    assert (note.user_id, note.res_id) == (org.id("rep1"), idle.id)
    assert pool.recycle(org.ctx(), start + dt.timedelta(days=51)) == 2  # 30 days after activity


def test_pool_settings_per_division(org, clients, clock):
    admin = clients("admin")
    md = org.divisions["MD"].id
    assert admin.put(f"/api/v1/leads/pool-settings/{md}", json={"recycle_days": 5}).status_code \
        == 200
    start = clock()
    ia_lead = org.lead(owner=org.id("rep1"), assigned_at=start)
    md_lead = org.lead(division="MD", owner=org.id("md_rep"), assigned_at=start)
    assert pool.recycle(org.ctx(), start + dt.timedelta(days=6)) == 1
    assert org.reload(md_lead).owner_id is None and org.reload(ia_lead).owner_id is not None
    listed = admin.get("/api/v1/leads/pool-settings").json()["items"]
    assert {(s["division"], s["recycle_days"]) for s in listed} == {(None, 30), (md, 5)}
    listed = clients("md_mgr").get("/api/v1/leads/pool-settings").json()["items"]
    assert {(s["division"], s["recycle_days"]) for s in listed} == {(None, 30), (md, 5)}
    listed = clients("mgr").get("/api/v1/leads/pool-settings").json()["items"]
    assert {(s["division"], s["recycle_days"]) for s in listed} == {(None, 30)}  # not MD's
    assert clients("rep1").get("/api/v1/leads/pool-settings").status_code == 403
