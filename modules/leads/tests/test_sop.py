"""The status SOP: allowed transitions, required fields per transition, follow-up tasks on
entering a status, rights and field rules, and the admin API that replaces the SOP."""
from __future__ import annotations

import datetime as dt

from modules.contacts.models import Task
from modules.leads.automation_models import SopTransition
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, server)
from security.audit import AuditEntry


def status(client, lead_id: int, **body):
    return client.post(f"/api/v1/leads/{lead_id}/status", json=body)


def test_walk_through_the_sop_with_auto_tasks(org, clients, clock):
    lead = org.lead(owner=org.id("rep1"), assigned_at=clock())
    rep = clients("rep1")
    clock.advance(hours=1)
    moved = status(rep, lead.id, status="contacted")
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "contacted"
    stored = org.reload(lead)
    assert stored.status_changed_at == clock()
    task = Task.get(Task.res_model == "lead", Task.res_id == lead.id)
    assert task.title == "电话回访"
    assert task.assignee_id == org.id("rep1")
    assert task.due_at == clock() + dt.timedelta(days=2)
    assert task.division_id == org.divisions["IA"].id
    timeline = rep.get(f"/api/v1/timeline/lead/{lead.id}").json()
    assert [t["title"] for t in timeline["tasks"]] == ["电话回访"]

    missing = status(rep, lead.id, status="qualified")
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"need": "必填 / required"}
    moved = status(rep, lead.id, status="qualified", need="需要 200 台 PLC")
    assert moved.status_code == 200, moved.text
    assert org.reload(lead).need == "需要 200 台 PLC"
    assert status(rep, lead.id, status="quoting").json()["error"]["fields"].keys() == {"budget"}
    assert status(rep, lead.id, status="quoting", budget="800000").status_code == 200
    assert Task.select().where(Task.res_id == lead.id).count() == 3
    changes = [e.details["changes"]["status"] for e in AuditEntry.select().where(
        AuditEntry.model == "leads_lead", AuditEntry.res_id == lead.id,
        AuditEntry.action == "update").order_by(AuditEntry.seq)
        if "status" in e.details["changes"]]
    assert [c["new"] for c in changes] == ["contacted", "qualified", "quoting"]


def test_disallowed_moves_and_lost_needs_a_reason(org, clients):
    lead = org.lead(owner=org.id("rep1"))
    rep = clients("rep1")
    jump = status(rep, lead.id, status="quoting")
    assert jump.status_code == 422
    assert "contacted" in jump.json()["error"]["fields"]["status"]  # the allowed moves
    assert status(rep, lead.id, status="converted").status_code == 422
    assert status(rep, lead.id, status="won").status_code == 422
    assert status(rep, lead.id).json()["error"]["fields"] == {"status": "必填 / required"}
    lost = status(rep, lead.id, status="lost")
    assert lost.status_code == 422
    assert lost.json()["error"]["fields"] == {"lost_reason": "必填 / required"}
    assert org.reload(lead).status == "new"
    done = status(rep, lead.id, status="lost", lost_reason="预算取消")
    assert done.status_code == 200, done.text
    stored = org.reload(lead)
    assert (stored.status, stored.lost_reason) == ("lost", "预算取消")
    assert Task.select().where(Task.res_id == lead.id).count() == 0  # no task for `lost`
    assert status(rep, lead.id, status="contacted").status_code == 200  # reactivated


def test_status_changes_respect_scopes_and_field_rules(org, clients):
    lead = org.lead(owner=org.id("rep1"))
    assert status(clients("rep2"), lead.id, status="contacted").status_code == 404
    assert status(clients("md_mgr"), lead.id, status="contacted").status_code == 404
    forbidden = status(clients("rep1"), lead.id, status="contacted", owner=org.id("rep2"),
                       score=99)
    assert forbidden.status_code == 403
    assert set(forbidden.json()["error"]["fields"]) == {"owner", "score"}
    assert org.reload(lead).status == "new"
    by_manager = status(clients("mgr"), lead.id, status="contacted")
    assert by_manager.status_code == 200, by_manager.text
    task = Task.get(Task.res_id == lead.id)
    assert task.assignee_id == org.id("rep1")  # the owner does the follow-up
    bad_value = status(clients("rep1"), lead.id, status="qualified", need="x",
                       budget="很多")
    assert bad_value.status_code == 422 and "budget" in bad_value.json()["error"]["fields"]
    anonymous = clients("rep1").__class__(clients("rep1").base_url)
    assert status(anonymous, lead.id, status="qualified").status_code == 401


def test_replace_the_sop_through_the_api(org, clients):
    admin = clients("admin")
    current = admin.get("/api/v1/leads/sop").json()
    assert {"new", "lost"} <= {s["code"] for s in current["statuses"]}
    assert any(t["from_status"] == "new" and t["to_status"] == "contacted"
               for t in current["transitions"])
    bad = admin.put("/api/v1/leads/sop", json={
        "transitions": [{"from": "new", "to": "moon"}, {"from": "new", "to": "new"},
                        {"from": "new", "to": "lost", "required_fields": ["colour"]}],
        "tasks": [{"status": "contacted", "due_days": -1}]})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {
        "transitions[0].to", "transitions[1]", "transitions[2].required_fields",
        "tasks[0].title", "tasks[0].due_days"}
    replaced = admin.put("/api/v1/leads/sop", json={
        "transitions": [{"from": "new", "to": "contacted", "required_fields": ["company"]},
                        {"from": "new", "to": "lost", "required_fields": ["lost_reason"]}],
        "tasks": [{"status": "contacted", "title": "发送公司介绍", "due_days": 0.5}]})
    assert replaced.status_code == 200, replaced.text
    assert SopTransition.select().count() == 2
    lead = org.lead(owner=org.id("rep1"))
    rep = clients("rep1")
    assert status(rep, lead.id, status="contacted").json()["error"]["fields"] == {
        "company": "必填 / required"}
    assert status(rep, lead.id, status="contacted", company="宁德时代").status_code == 200
    assert [t.title for t in Task.select().where(Task.res_id == lead.id)] == ["发送公司介绍"]
    assert rep.get("/api/v1/leads/sop").status_code == 200  # reps read the SOP
    assert rep.put("/api/v1/leads/sop", json={"transitions": []}).status_code == 403
    assert clients("mgr").put("/api/v1/leads/sop", json={"transitions": []}).status_code == 403
    assert SopTransition.select().count() == 2
    assert AuditEntry.select().where(AuditEntry.action == "lead.sop_update").count() == 1
