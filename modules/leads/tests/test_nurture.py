"""Nurture: idle rules (e-mail through the outbox, tasks for the owner), once per idle period;
engagement events (hot, rescored, high-priority notification); the rules API."""
from __future__ import annotations

import datetime as dt

from core.models import OutboxMessage
from modules.contacts.models import Task
from modules.leads import nurture, sla
from modules.leads.automation_models import LeadEngagement, Notification, NurtureRun
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, server)


def emails() -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.topic == "notify.email")
                .order_by(OutboxMessage.id))


def test_idle_contacted_lead_gets_one_email_per_idle_period(org, clock):
    start = clock()
    lead = org.lead(status="contacted", owner=org.id("rep1"), email="buyer@example.com",
                    status_changed_at=start)
    no_mail = org.lead(status="contacted", owner=org.id("rep1"), status_changed_at=start)
    ctx = org.ctx()
    assert nurture.run(ctx, start + dt.timedelta(days=6)) == {}
    assert nurture.run(ctx, start + dt.timedelta(days=7, hours=1)) == {"emailed": 1,
                                                                       "no_email": 1}
    assert nurture.run(ctx, start + dt.timedelta(days=9)) == {}  # once per idle period
    [message] = emails()
    assert message.payload["template"] == "lead_nurture_contacted"
    assert message.payload["lead_id"] == lead.id
    assert message.payload["recipient"] == {"res_model": "lead", "res_id": lead.id,
                                            "field": "email"}
    assert "buyer@example.com" not in str(message.payload)  # the connector decrypts it
    assert NurtureRun.get(NurtureRun.lead == no_mail.id).outcome == "no_email"
    # new activity starts a new idle period: seven more days, then one more e-mail
    sla.record_response(ctx, [lead.id], start + dt.timedelta(days=10))
    assert nurture.run(ctx, start + dt.timedelta(days=16)) == {}
    assert nurture.run(ctx, start + dt.timedelta(days=17, hours=1)) == {"emailed": 1}
    assert len(emails()) == 2


def test_idle_qualified_lead_gets_a_task_for_its_owner(org, clock):
    start = clock()
    lead = org.lead(status="qualified", owner=org.id("rep2"), status_changed_at=start,
                    need="扩产")
    ownerless = org.lead(status="qualified", status_changed_at=start)
    other_status = org.lead(status="quoting", owner=org.id("rep2"), status_changed_at=start)
    counts = nurture.run(org.ctx(), start + dt.timedelta(days=5, minutes=1))
    assert counts == {"task": 1, "no_owner": 1}
    task = Task.get(Task.res_model == "lead", Task.res_id == lead.id)
    assert task.assignee_id == org.id("rep2")
    assert task.due_at == start + dt.timedelta(days=6, minutes=1)
    assert "回访" in task.title
    assert not Task.select().where(Task.res_id.in_([ownerless.id, other_status.id])).exists()


def test_activity_logged_elsewhere_defers_nurture(org, clock):
    from modules.contacts.activities import log_activity

    start = clock()
    lead = org.lead(status="qualified", owner=org.id("rep1"), status_changed_at=start)
    clock.advance(days=3)
    log_activity(org.ctx("rep1", "IA"), {"res_model": "lead", "res_id": lead.id,
                                         "kind": "visit", "subject": "拜访",
                                         "address": "上海市浦东新区"})
    assert nurture.run(org.ctx(), start + dt.timedelta(days=6)) == {}
    assert nurture.run(org.ctx(), start + dt.timedelta(days=8, minutes=1)) == {"task": 1}


def test_engagement_marks_the_lead_hot_and_alerts_its_owner(org, clients):
    lead = org.lead(owner=org.id("rep1"), source="website")
    from modules.leads import scoring
    scoring.rescore(org.ctx(), [lead.id])
    before = org.reload(lead).score
    posted = clients("rep1").post(f"/api/v1/leads/{lead.id}/engagements",
                                  json={"kind": "email_click", "details": {"campaign": "双11"}})
    assert posted.status_code == 201, posted.text
    body = posted.json()
    stored = org.reload(lead)
    assert stored.hot is True and body["hot"] is True
    assert stored.score == before + 5 + 10 == body["score"]  # engagement + hot rules
    assert {i["rule"] for i in stored.score_breakdown} >= {"engagement", "hot"}
    note = Notification.get(Notification.kind == "lead_hot")
    assert (note.user_id, note.priority, note.res_id) == (org.id("rep1"), "high", lead.id)
    message = OutboxMessage.get(OutboxMessage.topic == "notify.lead_hot")
    assert message.payload["priority"] == "high"
    assert LeadEngagement.get().details == {"campaign": "双11"}

    bad = clients("rep1").post(f"/api/v1/leads/{lead.id}/engagements",
                               json={"kind": "telepathy", "when": "now"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"kind", "when"}
    assert clients("rep2").post(f"/api/v1/leads/{lead.id}/engagements",
                                json={"kind": "web_visit"}).status_code == 404
    assert clients("mgr").post(f"/api/v1/leads/{lead.id}/engagements",
                               json={"kind": "web_visit"}).status_code == 201
    assert LeadEngagement.select().count() == 2


def test_nurture_rules_api(org, clients):
    admin = clients("admin")
    bad = admin.post("/api/v1/leads/nurture-rules", json={
        "name": "报价跟进", "status": "quoting", "idle_days": 0, "action": "email"})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"idle_days", "template"}
    closed = admin.post("/api/v1/leads/nurture-rules", json={
        "name": "x", "status": "lost", "idle_days": 3, "action": "task", "task_title": "t"})
    assert set(closed.json()["error"]["fields"]) == {"status"}
    made = admin.post("/api/v1/leads/nurture-rules", json={
        "name": "报价跟进", "status": "quoting", "idle_days": 3, "action": "task",
        "task_title": "催报价反馈", "division": org.divisions["MD"].id})
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    switched = admin.patch(f"/api/v1/leads/nurture-rules/{rule_id}", json={"action": "email"})
    assert switched.status_code == 422 and "template" in switched.json()["error"]["fields"]
    listed = clients("md_mgr").get("/api/v1/leads/nurture-rules").json()["items"]
    assert "报价跟进" in {r["name"] for r in listed}
    ia_view = clients("mgr").get("/api/v1/leads/nurture-rules").json()["items"]
    assert "报价跟进" not in {r["name"] for r in ia_view}  # MD's rule: not IA's business
    assert clients("mgr").get(f"/api/v1/leads/nurture-rules/{rule_id}").status_code == 404
    assert clients("md_mgr").delete(f"/api/v1/leads/nurture-rules/{rule_id}").status_code == 403
    assert admin.delete(f"/api/v1/leads/nurture-rules/{rule_id}").status_code == 204


def test_nurture_mail_carries_a_tracking_link_reported_back_publicly(org, server, clock):
    from modules.leads.engagements import engagement_token
    from modules.leads.models_capture import LeadForm
    from tests.support import HttpClient

    LeadForm.create(key="site", name="官网", division=org.divisions["IA"].id, source="website",
                    allowed_origins=["https://www.example.com"], rate_per_minute=100)
    LeadForm.create(key="expo", name="展会", division=org.divisions["IA"].id, source="expo")
    start = clock()
    lead = org.lead(status="contacted", owner=org.id("rep1"), email="cto@example.com",
                    form_key="site", status_changed_at=start)
    other = org.lead(status="contacted", owner=org.id("rep2"), form_key="expo")
    nurture.run(org.ctx(), start + dt.timedelta(days=8))
    [message] = emails()
    tracking = message.payload["tracking"]
    assert tracking == {"form_key": "site", "lead": lead.id,
                        "token": engagement_token("site", lead.id)}
    public = HttpClient(server.base_url)
    url = "/api/v1/forms/site/engagements"
    click = {"lead": lead.id, "token": tracking["token"], "kind": "email_click"}
    answer = public.post(url, json=click, headers={"Origin": "https://www.example.com"})
    assert answer.status_code == 202, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    stored = org.reload(lead)
    assert stored.hot is True and "engagement" in {i["rule"] for i in stored.score_breakdown}
    assert Notification.get(Notification.kind == "lead_hot").user_id == org.id("rep1")
    assert LeadEngagement.get().created_by is None
    # forged or misdirected links (another lead, another form's lead) all look alike: 404
    for body, path in (({**click, "token": "0" * 64}, url),
                       ({**click, "lead": other.id}, url),
                       ({**click, "token": engagement_token("expo", other.id)}, url),
                       ({"lead": other.id, "token": engagement_token("expo", other.id),
                         "kind": "web_visit"}, url),
                       (click, "/api/v1/forms/nope/engagements")):
        assert public.post(path, json=body).status_code == 404, (body, path)
    assert public.post(url, json=click, headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    bad = public.post(url, json={**click, "kind": "telepathy", "x": 1})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"kind", "x"}
    assert LeadEngagement.select().count() == 1
