"""Duplicates of a lead among leads, contacts (encrypted channels, matched through blind
indexes) and accounts (normalised names), shown only as far as the caller may see them; and
merging duplicates field by field — scoped, audited, sources closed."""
from __future__ import annotations

from core.db import database
from modules.contacts.models import Account, Activity, Contact
from modules.leads import services
from modules.leads.models import Lead
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from security.audit import AuditEntry


def lead(org, login_="rep1", **values) -> int:
    body = {"name": "张伟", **values}
    return services.create_lead(org.ctx(login_), body)["lead"]["id"]


def test_duplicates_across_leads_contacts_and_accounts(clients, org):
    from modules.leads.normalise import company_key

    mine = Account.create(name="苏州精工机械有限公司", name_key=company_key("苏州精工机械有限公司"),
                          division=org.divisions["IA"], owner=org.users["rep1"])
    theirs = Account.create(name="苏州精工机械股份有限公司", name_key=company_key("苏州精工机械"),
                            division=org.divisions["IA"], owner=org.users["rep3"])
    Contact.create(account=mine, name="张工", mobile="138-0013-8000")
    Contact.create(account=theirs, name="张伟", email="zhang@szjg.cn", wechat="ZW88")
    raw = database.execute_sql("SELECT mobile, email FROM contacts_contact").fetchall()
    assert all(v is None or (v.startswith("v") and "@" not in v and "-" not in v)
               for pair in raw for v in pair)  # encrypted (base64 has neither "@" nor "-")
    other = lead(org, "rep2", name="张伟（重复）", mobile="13800138000")
    target = lead(org, "rep1", mobile="+86 138 0013 8000", email="Zhang@SZJG.cn",
                  wechat="zw88", company="苏州精工机械有限公司")
    found = clients("rep1").get(f"/api/v1/leads/{target}/duplicates").json()
    assert [(c["name"], c["match"]) for c in found["contacts"]] == [("张工", ["mobile"])]
    assert [(a["id"], a["match"]) for a in found["accounts"]] == [(mine.id, ["company"])]
    assert found["leads"] == []
    assert found["hidden"] == {"leads": 1, "contacts": 1, "accounts": 1}
    assert "rep2" not in str(found) and "重复" not in str(found) and "股份" not in str(found)
    seen = clients("mgr").get(f"/api/v1/leads/{target}/duplicates").json()
    assert [(x["id"], x["match"]) for x in seen["leads"]] == [(other, ["mobile"])]
    assert seen["hidden"]["contacts"] == 1 and len(seen["contacts"]) == 1
    full = clients("admin").get(f"/api/v1/leads/{target}/duplicates").json()
    assert sorted(c["name"] for c in full["contacts"]) == ["张伟", "张工"]
    by_name = {c["name"]: c["match"] for c in full["contacts"]}
    assert by_name["张伟"] == ["email", "wechat"]
    assert full["hidden"] == {"leads": 0, "contacts": 0, "accounts": 0}
    assert clients("rep2").get(f"/api/v1/leads/{target}/duplicates").status_code == 404
    created = clients("rep1").post("/api/v1/leads", json={"name": "又一个", "mobile": "13800138000"})
    assert created.json()["duplicates"]["contacts"][0]["name"] == "张工"


def test_merge_picks_fields_closes_sources_and_is_audited(clients, org):
    target = lead(org, "rep1", mobile="13800138000", company="甲公司", need="原需求")
    source = lead(org, "rep2", name="张伟2", mobile="13900139000", email="zw@example.com",
                  company="乙公司")
    Activity.create(kind="call", subject="电话沟通", res_model="lead", res_id=source,
                    division=org.divisions["IA"], owner=org.users["rep2"])
    body = {"target": target, "sources": [source],
            "fields": {"mobile": source, "email": source, "company": source}}
    assert clients("rep1").post("/api/v1/leads/merge", json=body).status_code == 403
    assert clients("mkt").post("/api/v1/leads/merge", json=body).status_code == 403
    merged = clients("mgr").post("/api/v1/leads/merge", json=body)
    assert merged.status_code == 200, merged.text
    result = merged.json()
    assert (result["mobile"], result["email"], result["company"], result["need"]) == (
        "13900139000", "zw@example.com", "乙公司", "原需求")
    assert result["company_key"] == "乙"
    kept = Lead.get_by_id(target)
    assert kept.mobile_bidx == Lead.get_by_id(source).mobile_bidx  # index follows the value
    closed = Lead.get_by_id(source)
    assert (closed.status, closed.merged_into) == ("lost", target)
    assert closed.lost_reason == f"合并到 #{target} / merged into #{target}"
    assert Activity.get().res_id == target
    entry = AuditEntry.get(AuditEntry.action == "merge")
    assert entry.res_id == target and entry.details["sources"] == [source]
    changes = AuditEntry.select().where((AuditEntry.action == "update")
                                        & (AuditEntry.model == "leads_lead"))
    assert changes.count() == 2
    assert "13900139000" not in str([c.details for c in changes])  # phones stored hashed
    listed = [i["id"] for i in clients("mgr").get("/api/v1/leads").json()["items"]]
    assert source not in listed and target in listed
    assert source in [i["id"] for i in clients("mgr").get(
        "/api/v1/leads", params={"merged": "1"}).json()["items"]]
    assert clients("mgr").patch(f"/api/v1/leads/{source}", json={"need": "x"}).status_code == 409
    again = clients("mgr").post("/api/v1/leads/merge", json={"target": target,
                                                             "sources": [source]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "merged"


def test_merge_refusals(clients, org):
    mine = lead(org, "rep1", mobile="13800138000")
    team = lead(org, "rep2", mobile="13800138000")
    other_team = lead(org, "rep3", mobile="13800138000")
    mgr = clients("mgr")
    out_of_scope = mgr.post("/api/v1/leads/merge", json={"target": mine, "sources": [other_team]})
    assert out_of_scope.status_code == 404
    bad = mgr.post("/api/v1/leads/merge", json={
        "target": mine, "sources": [mine, "x"], "fields": {"password": team, "mobile": 999}})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"sources", "fields.password", "fields.mobile"}
    assert mgr.post("/api/v1/leads/merge", json={"target": mine, "sources": []}).status_code == 422
    forced = mgr.post("/api/v1/leads/merge", json={"target": mine, "sources": [team],
                                                   "fields": {"owner": team}})
    assert forced.status_code == 200 and forced.json()["owner"] == org.id("rep2")
    assert Lead.get_by_id(other_team).merged_into is None
