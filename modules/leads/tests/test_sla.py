"""SLA: the first-response clock and the follow-up escalation chain, with a controlled clock;
compliance stored per lead; activities logged here or elsewhere; policies per division; jobs."""
from __future__ import annotations

import datetime as dt

from core.models import OutboxMessage
from modules.leads import assignment, sla
from modules.leads.automation_models import Notification, SlaEvent
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, rule, server)


def assigned(org, owner: str = "rep1", **values):
    """A new lead assigned (through the rules) to `owner` at the clock's time."""
    from modules.leads.automation_models import AssignmentRule

    if not AssignmentRule.select().exists():
        rule(org, team_users=[org.id(owner)])
    lead = org.lead(**values)
    assignment.assign(org.ctx(), [lead.id])
    return org.reload(lead)


def inbox(org, login: str, kind: str) -> list[Notification]:
    return list(Notification.select().where(Notification.user == org.id(login),
                                            Notification.kind == kind)
                .order_by(Notification.id))


def test_first_response_in_time_through_the_activity_endpoint(org, clients, clock):
    lead = assigned(org)
    start = clock()
    clock.advance(minutes=3)
    logged = clients("rep1").post(f"/api/v1/leads/{lead.id}/activities", json={
        "kind": "call", "subject": "首次电话", "content": "客户有意向"})
    assert logged.status_code == 201, logged.text
    assert logged.json()["res_model"] == "lead"
    stored = org.reload(lead)
    assert stored.first_response_at == start + dt.timedelta(minutes=3)
    assert stored.first_response_met is True
    assert stored.last_activity_at == stored.first_response_at
    timeline = clients("rep1").get(f"/api/v1/leads/{lead.id}/activities").json()["items"]
    assert [a["subject"] for a in timeline] == ["首次电话"]
    clock.advance(minutes=10)
    assert sla.check(org.ctx())["breaches"] == 0
    assert org.reload(lead).first_response_met is True
    # someone else's lead: not found; a bad body: 422 naming the fields
    assert clients("rep2").post(f"/api/v1/leads/{lead.id}/activities", json={
        "kind": "call", "subject": "x"}).status_code == 404
    bad = clients("rep1").post(f"/api/v1/leads/{lead.id}/activities",
                               json={"kind": "telepathy", "res_id": 1})
    assert bad.status_code == 422 and "res_id" in bad.json()["error"]["fields"]


def test_first_response_breach_is_stored_and_notified_once(org, clock):
    lead = assigned(org)
    assert sla.check(org.ctx(), clock() + dt.timedelta(minutes=4))["breaches"] == 0
    assert sla.check(org.ctx(), clock() + dt.timedelta(minutes=6))["breaches"] == 1
    assert sla.check(org.ctx(), clock() + dt.timedelta(minutes=7))["breaches"] == 0
    stored = org.reload(lead)
    assert stored.first_response_met is False and stored.first_response_at is None
    event = SlaEvent.get(SlaEvent.lead == lead.id)
    assert (event.kind, event.level, event.owner) == ("first_response_breach", 0, org.id("rep1"))
    assert len(inbox(org, "rep1", "sla_first_response")) == 1
    assert len(inbox(org, "mgr", "sla_first_response")) == 1
    breaches = OutboxMessage.select().where(OutboxMessage.topic == "notify.lead_sla_breach")
    assert breaches.count() == 2
    # a late answer is recorded, still late
    sla.record_response(org.ctx(), [lead.id], clock() + dt.timedelta(minutes=20))
    stored = org.reload(lead)
    assert stored.first_response_at == clock() + dt.timedelta(minutes=20)
    assert stored.first_response_met is False


def test_leaving_new_counts_as_first_response(org, clients, clock):
    lead = assigned(org)
    clock.advance(minutes=2)
    moved = clients("rep1").post(f"/api/v1/leads/{lead.id}/status", json={"status": "contacted"})
    assert moved.status_code == 200, moved.text
    stored = org.reload(lead)
    assert stored.first_response_at == clock() and stored.first_response_met is True


def test_activity_logged_elsewhere_is_caught_up_before_breaching(org, clock):
    from modules.contacts.activities import log_activity

    lead = assigned(org)
    clock.advance(minutes=2)
    log_activity(org.ctx("rep1", "IA"), {"res_model": "lead", "res_id": lead.id,
                                         "kind": "email", "subject": "资料已发"})
    assert org.reload(lead).first_response_at is None  # the generic API knows no clocks
    assert sla.check(org.ctx(), clock() + dt.timedelta(minutes=10)) == {"breaches": 0,
                                                                       "escalations": 0}
    stored = org.reload(lead)
    assert stored.first_response_at == clock() and stored.first_response_met is True
    assert stored.last_activity_at == clock()


def test_follow_up_escalation_chain(org, clock):
    lead = assigned(org)
    t0 = clock()
    sla.record_response(org.ctx(), [lead.id], t0 + dt.timedelta(minutes=1))
    last = t0 + dt.timedelta(minutes=1)

    def check(hours: float) -> int:
        return sla.check(org.ctx(), last + dt.timedelta(hours=hours))["escalations"]

    assert check(47) == 0
    assert check(48.5) == 1  # 48 h idle → the owner's manager
    assert check(60) == 0  # each step once
    assert org.reload(lead).escalation_level == 1
    assert [n.res_id for n in inbox(org, "mgr", "sla_escalation")] == [lead.id]
    assert inbox(org, "director", "sla_escalation") == []
    assert check(96.5) == 1  # 96 h → the manager's manager
    assert [n.res_id for n in inbox(org, "director", "sla_escalation")] == [lead.id]
    assert check(500) == 0  # the default policy stops at level 2
    levels = [(e.level, e.notified) for e in SlaEvent.select().where(
        SlaEvent.kind == "escalation").order_by(SlaEvent.level)]
    assert levels == [(1, [org.id("mgr")]), (2, [org.id("director")])]
    keys = {m.idempotency_key for m in OutboxMessage.select().where(
        OutboxMessage.topic == "notify.lead_escalation")}
    assert keys == {f"lead-escalation-{lead.id}-{n}-{last.isoformat()}" for n in (1, 2)}
    # new activity resets the chain; the clock starts again from it
    sla.record_response(org.ctx(), [lead.id], last + dt.timedelta(hours=501))
    assert org.reload(lead).escalation_level == 0
    assert check(501 + 47) == 0
    assert check(501 + 49) == 1
    assert len(inbox(org, "mgr", "sla_escalation")) == 2


def test_overdue_levels_fire_together_and_stop_at_the_top_of_the_chain(org, clock):
    lead = assigned(org, owner="mgr")  # mgr → director → nobody
    sla.record_response(org.ctx(), [lead.id], clock())
    assert sla.check(org.ctx(), clock() + dt.timedelta(hours=100))["escalations"] == 2
    events = list(SlaEvent.select().where(SlaEvent.kind == "escalation").order_by(SlaEvent.level))
    assert [(e.level, e.notified) for e in events] == [(1, [org.id("director")]), (2, [])]
    assert len(inbox(org, "director", "sla_escalation")) == 1


def test_closed_and_pool_leads_have_no_running_clocks(org, clock):
    lead = assigned(org)
    from modules.leads.models import Lead
    Lead.update(status="lost", lost_reason="无需求").where(Lead.id == lead.id).execute()
    pooled = org.lead()
    assert sla.check(org.ctx(), clock() + dt.timedelta(days=30)) == {"breaches": 0,
                                                                     "escalations": 0}
    assert org.reload(lead).first_response_met is None
    assert org.reload(pooled).escalation_level == 0


def test_policies_per_division_through_the_api(org, clients, clock):
    admin = clients("admin")
    ia = org.divisions["IA"].id
    bad = admin.put(f"/api/v1/leads/sla-policies/{ia}", json={
        "first_response_minutes": 0, "followup_hours": "soon", "escalation_levels": 2,
        "colour": 1})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"first_response_minutes", "followup_hours",
                                                  "colour"}
    put = admin.put(f"/api/v1/leads/sla-policies/{ia}", json={
        "first_response_minutes": 30, "followup_hours": 24, "escalation_levels": 1})
    assert put.status_code == 200, put.text
    listed = admin.get("/api/v1/leads/sla-policies").json()["items"]
    assert {(p["division"], p["first_response_minutes"]) for p in listed} == {(None, 5), (ia, 30)}
    assert clients("rep1").put(f"/api/v1/leads/sla-policies/{ia}", json={
        "escalation_levels": 5}).status_code == 403
    assert clients("mgr").get("/api/v1/leads/sla-policies").status_code == 200
    assert admin.put("/api/v1/leads/sla-policies/99999", json={}).status_code == 404

    lead = assigned(org)
    assert lead.first_response_due_at == clock() + dt.timedelta(minutes=30)
    sla.record_response(org.ctx(), [lead.id], clock())
    assert sla.check(org.ctx(), clock() + dt.timedelta(hours=25))["escalations"] == 1
    assert sla.check(org.ctx(), clock() + dt.timedelta(hours=99))["escalations"] == 0
    md = org.lead(division="MD", owner=org.id("md_rep"), assigned_at=clock(),
                  last_activity_at=clock())
    assert sla.check(org.ctx(), clock() + dt.timedelta(hours=49))["escalations"] == 1
    assert org.reload(md).escalation_level == 1  # MD keeps the default 48 h


def test_periodic_jobs_are_registered_and_run_the_check(org, clock):
    from core.jobs import build_huey

    tasks = {getattr(t, "name", None): t for t in build_huey(org.registry).huike_tasks.values()}
    assert {"leads.sla_check", "leads.nurture", "leads.pool_recycle",
            "leads.rescore_nightly", "leads.rescore_open"} <= set(tasks)
    lead = assigned(org)
    from modules.leads.models import Lead
    Lead.update(first_response_due_at=clock() - dt.timedelta(hours=1)).where(
        Lead.id == lead.id).execute()
    assert tasks["leads.sla_check"].call_local() == {"breaches": 1, "escalations": 0}
    assert org.reload(lead).first_response_met is False
