"""The assignment admin API (rules, user caps) and the notification inbox, over HTTP as real
users: validation naming every field, rights, division scopes, own-inbox only."""
from __future__ import annotations

from modules.leads import assignment
from modules.leads.automation_models import AssignmentRule, Notification, UserLeadCap
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, rule, server)

HOURS = {"weekdays": [1, 2, 3, 4, 5], "ranges": [["09:00", "18:00"]]}


def test_assignment_rules_are_validated_field_by_field(org, clients):
    admin = clients("admin")
    bad = admin.post("/api/v1/leads/assignment-rules", json={
        "name": "", "strategy": "lottery", "team_users": [org.id("rep1"), 99999],
        "match": {"region": ["atlantis"]}, "working_hours": {"weekdays": [8], "ranges": []},
        "max_open": -1, "priority": 1})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {
        "name", "strategy", "team_users", "match", "working_hours", "max_open", "priority"}
    named = admin.post("/api/v1/leads/assignment-rules", json={
        "name": "大客户", "division": org.divisions["IA"].id, "strategy": "named_user",
        "match": {"score_min": 80, "score_max": 20}})
    assert set(named.json()["error"]["fields"]) == {"named_user", "match"}
    made = admin.post("/api/v1/leads/assignment-rules", json={
        "name": "华东团队", "division": org.divisions["IA"].id, "strategy": "least_open",
        "team_users": [org.id("rep1"), org.id("rep2")], "match": {"region": ["east"],
                                                                   "source": ["website"]},
        "working_hours": HOURS, "max_open": 50})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["team_users"] == [org.id("rep1"), org.id("rep2")]
    assert body["working_hours"] == HOURS
    emptied = admin.patch(f"/api/v1/leads/assignment-rules/{body['id']}",
                          json={"team_users": []})
    assert emptied.status_code == 422 and "team_users" in emptied.json()["error"]["fields"]
    moved = admin.patch(f"/api/v1/leads/assignment-rules/{body['id']}",
                        json={"sequence": 5, "active": False})
    assert moved.status_code == 200 and moved.json()["active"] is False


def test_assignment_rules_follow_division_scopes(org, clients):
    ia = rule(org, name="IA 规则")
    md = rule(org, division="MD", name="MD 规则", team_users=[org.id("md_rep")])
    assert [r["name"] for r in clients("mgr").get(
        "/api/v1/leads/assignment-rules").json()["items"]] == ["IA 规则"]
    assert [r["name"] for r in clients("md_mgr").get(
        "/api/v1/leads/assignment-rules").json()["items"]] == ["MD 规则"]
    assert clients("mgr").get(f"/api/v1/leads/assignment-rules/{md.id}").status_code == 404
    assert clients("mgr").patch(f"/api/v1/leads/assignment-rules/{ia.id}",
                                json={"name": "改"}).status_code == 403
    assert clients("rep1").get("/api/v1/leads/assignment-rules").status_code == 403
    admin = clients("admin")
    assert len(admin.get("/api/v1/leads/assignment-rules").json()["items"]) == 2
    assert admin.delete(f"/api/v1/leads/assignment-rules/{md.id}").status_code == 204
    assert AssignmentRule.select().count() == 1


def test_user_caps_api(org, clients):
    admin = clients("admin")
    rep1 = org.id("rep1")
    bad = admin.put(f"/api/v1/leads/user-caps/{rep1}",
                    json={"max_open": "many", "working_hours": {"weekdays": [1]}})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"max_open", "working_hours"}
    put = admin.put(f"/api/v1/leads/user-caps/{rep1}", json={"max_open": 1,
                                                             "working_hours": HOURS})
    assert put.status_code == 200, put.text
    assert admin.put(f"/api/v1/leads/user-caps/{rep1}", json={"max_open": 2}).json()[
        "max_open"] == 2
    assert UserLeadCap.select().count() == 1
    assert admin.put("/api/v1/leads/user-caps/99999", json={}).status_code == 404
    assert clients("rep1").put(f"/api/v1/leads/user-caps/{rep1}",
                               json={"max_open": 999}).status_code == 403
    assert [c["user"] for c in clients("mgr").get("/api/v1/leads/user-caps").json()["items"]] \
        == [rep1]
    assert admin.delete(f"/api/v1/leads/user-caps/{rep1}").status_code == 204
    assert admin.delete(f"/api/v1/leads/user-caps/{rep1}").status_code == 404


def test_notification_inbox_is_personal(org, clients):
    rule(org, team_users=[org.id("rep1"), org.id("rep2")])
    ids = [org.lead(name=f"客户{i}").id for i in range(4)]
    assignment.assign(org.ctx(), ids)
    rep1 = clients("rep1")
    inbox = rep1.get("/api/v1/notifications").json()
    assert inbox["unread"] == 2 and len(inbox["items"]) == 2
    assert {n["res_id"] for n in inbox["items"]} == {ids[0], ids[2]}
    assert all(n["kind"] == "lead_assigned" for n in inbox["items"])
    first = rep1.get("/api/v1/notifications", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next"]
    second = rep1.get("/api/v1/notifications", params={"limit": 1, "after": first["next"]})
    assert second.json()["items"][0]["id"] < first["items"][0]["id"]
    theirs = Notification.get(Notification.user == org.id("rep2"))
    assert rep1.post(f"/api/v1/notifications/{theirs.id}/read").status_code == 404
    assert Notification.get_by_id(theirs.id).read_at is None
    read = rep1.post(f"/api/v1/notifications/{inbox['items'][0]['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"]
    assert rep1.get("/api/v1/notifications", params={"unread": "1"}).json()["unread"] == 1
    assert rep1.post("/api/v1/notifications/read-all").json() == {"marked": 1}
    assert rep1.get("/api/v1/notifications", params={"unread": "1"}).json()["items"] == []
    assert rep1.get("/api/v1/notifications", params={"priority": "urgent"}).status_code == 400
    admin_inbox = clients("admin").get("/api/v1/notifications").json()
    assert admin_inbox["items"] == []  # an admin's wide scope still lists only their own
    assert clients("rep2").get("/api/v1/notifications").json()["unread"] == 2
