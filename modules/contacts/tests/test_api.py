"""The contacts API over HTTP as real signed-in users: accounts with warnings, pool and claim
conflicts, contacts scoped by their account, field rules on reads and writes, timeline,
overdue tasks, handover; and lists whose query count does not grow with the rows."""
from __future__ import annotations

from modules.contacts import accounts, people
from modules.contacts.models import Account
from modules.contacts.paging import ListParams
from modules.contacts.tests.conftest import CODE_A
from tests.test_scope_org import count_queries


def test_requires_sign_in(http, org):
    assert http.get("/api/v1/accounts").status_code == 401
    assert http.post("/api/v1/handover", json={}).status_code == 401


def test_create_with_warnings_and_scoped_reads(clients, org):
    rep1, rep2 = clients("rep1"), clients("rep2")
    first = rep1.post("/api/v1/accounts", json={"name": "上海振华重工（集团）股份有限公司",
                                                "credit_code": CODE_A, "value_tier": "A"})
    assert first.status_code == 201, first.text
    account = first.json()["account"]
    assert account["owner_name"] == "李娜" and first.json()["warnings"] == []
    again = rep2.post("/api/v1/accounts", json={"name": "上海振华重工股份有限公司",
                                                "credit_code": CODE_A.lower()})
    assert again.status_code == 201
    warnings = again.json()["warnings"]
    assert {w["kind"] for w in warnings} == {"name", "credit_code"}
    assert all("account_id" not in w and "name" not in w for w in warnings)
    assert "振华" not in again.text.split('"warnings"')[1]
    check = clients("mgr").post("/api/v1/accounts/check-duplicates", json={"credit_code": CODE_A})
    assert sorted(w["account_id"] for w in check.json()["warnings"]) == sorted(
        a.id for a in Account.select())
    bad = rep1.post("/api/v1/accounts", json={"name": "x", "credit_code": "91350100M000100Y4"})
    assert bad.status_code == 422 and "credit_code" in bad.json()["error"]["fields"]
    assert rep2.get(f"/api/v1/accounts/{account['id']}").status_code == 404
    assert rep1.get(f"/api/v1/accounts/{account['id']}").json()["name"].startswith("上海振华")
    assert [a["id"] for a in rep1.get("/api/v1/accounts").json()["items"]] == [account["id"]]


def test_forbidden_field_writes_list_every_field(clients, org):
    rep1 = clients("rep1")
    created = rep1.post("/api/v1/accounts", json={"name": "甲一"}).json()["account"]
    response = rep1.patch(f"/api/v1/accounts/{created['id']}",
                          json={"owner": org.id("rep2"), "name_key": "x", "name": "甲"})
    assert response.status_code == 403
    assert response.json()["error"]["fields"] == {"owner": "read-only", "name_key": "read-only"}
    assert Account.get_by_id(created["id"]).name == "甲一"
    fin = clients("fin")
    response = fin.patch(f"/api/v1/accounts/{created['id']}", json={"name": "改"})
    assert response.status_code == 403


def test_pool_claim_conflict_and_release(clients, org):
    mgr, rep1, rep2 = clients("mgr"), clients("rep1"), clients("rep2")
    pooled = mgr.post("/api/v1/accounts", json={"name": "公海客户", "owner": None})
    assert pooled.status_code == 201, pooled.text
    pool_id = pooled.json()["account"]["id"]
    listed = rep1.get("/api/v1/accounts/pool").json()["items"]
    assert [a["id"] for a in listed] == [pool_id]
    assert clients("fin").get("/api/v1/accounts/pool").status_code == 403
    claimed = rep1.post(f"/api/v1/accounts/{pool_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["owner"] == org.id("rep1")
    conflict = rep2.post(f"/api/v1/accounts/{pool_id}/claim")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["fields"] == {} and "李娜" not in conflict.text
    seen = mgr.post(f"/api/v1/accounts/{pool_id}/claim")
    assert seen.status_code == 409 and seen.json()["error"]["fields"] == {"owner": "李娜"}
    assert clients("md_rep").post(f"/api/v1/accounts/{pool_id}/claim").status_code == 404
    released = rep1.post(f"/api/v1/accounts/{pool_id}/release")
    assert released.status_code == 200 and released.json()["owner"] is None
    assert rep2.post(f"/api/v1/accounts/{pool_id}/claim").status_code == 200


def test_contacts_inherit_scope_and_finance_sees_masks(clients, org):
    rep1, rep2, fin = clients("rep1"), clients("rep2"), clients("fin")
    a1 = rep1.post("/api/v1/accounts", json={"name": "甲一"}).json()["account"]["id"]
    a2 = rep2.post("/api/v1/accounts", json={"name": "乙二"}).json()["account"]["id"]
    made = rep1.post("/api/v1/contacts", json={"account": a1, "name": "张总", "title": "总经理",
                                               "mobile": "13812345678", "birthday": "1975-03-08"})
    assert made.status_code == 201, made.text
    contact = made.json()
    assert contact["mobile"] == "13812345678" and "mobile_bidx" not in contact
    assert rep2.post("/api/v1/contacts", json={"account": a2, "name": "王采购"}).status_code == 201
    assert [c["name"] for c in rep1.get("/api/v1/contacts").json()["items"]] == ["张总"]
    assert [c["name"] for c in rep2.get("/api/v1/contacts").json()["items"]] == ["王采购"]
    assert rep2.get(f"/api/v1/contacts/{contact['id']}").status_code == 404
    assert rep2.patch(f"/api/v1/contacts/{contact['id']}", json={"title": "x"}).status_code == 404
    seen = fin.get(f"/api/v1/contacts/{contact['id']}").json()
    assert seen["mobile"] == "138****5678" and "birthday" not in seen
    listed = fin.get("/api/v1/contacts").json()["items"]
    assert {c["name"] for c in listed} == {"张总", "王采购"}
    assert "13812345678" not in fin.get("/api/v1/contacts").text
    assert fin.get("/api/v1/contacts?mobile=13812345678").status_code == 403
    found = rep1.get("/api/v1/contacts?mobile=138 1234 5678").json()["items"]
    assert [c["id"] for c in found] == [contact["id"]]
    assert fin.post("/api/v1/contacts", json={"account": a1, "name": "x"}).status_code == 403
    assert fin.get("/api/v1/contacts?sort=mobile").status_code == 400


def test_timeline_tasks_and_overdue_over_http(clients, org):
    rep1, rep2 = clients("rep1"), clients("rep2")
    a1 = rep1.post("/api/v1/accounts", json={"name": "甲一"}).json()["account"]["id"]
    logged = rep1.post("/api/v1/activities", json={
        "res_model": "account", "res_id": a1, "kind": "visit", "subject": "上门拜访",
        "address": "苏州工业园区星湖街 328 号"})
    assert logged.status_code == 201, logged.text
    task = rep1.post("/api/v1/tasks", json={"title": "寄样品", "res_model": "account",
                                            "res_id": a1, "due_at": "2020-01-01T00:00:00Z"})
    assert task.status_code == 201, task.text
    timeline = rep1.get(f"/api/v1/timeline/account/{a1}")
    assert timeline.status_code == 200
    body = timeline.json()
    assert [a["subject"] for a in body["activities"]] == ["上门拜访"]
    assert [t["title"] for t in body["tasks"]] == ["寄样品"] and body["tasks"][0]["overdue"]
    assert rep2.get(f"/api/v1/timeline/account/{a1}").status_code == 404
    assert rep1.get("/api/v1/timeline/spaceship/1").status_code == 422
    overdue = rep1.get("/api/v1/tasks?overdue=1&assignee=me").json()["items"]
    assert [t["title"] for t in overdue] == ["寄样品"]
    assert rep2.get("/api/v1/tasks?overdue=1&assignee=me").json()["items"] == []
    done = rep1.post(f"/api/v1/tasks/{overdue[0]['id']}/complete", json={})
    assert done.status_code == 200 and done.json()["done_at"]
    assert rep1.get("/api/v1/tasks?overdue=1&assignee=me").json()["items"] == []
    assert rep2.post(f"/api/v1/tasks/{overdue[0]['id']}/complete").status_code == 404


def test_handover_over_http(clients, org):
    rep1 = clients("rep1")
    for name in ("甲一", "甲二"):
        rep1.post("/api/v1/accounts", json={"name": name})
    mgr = clients("mgr")
    preview = mgr.get("/api/v1/handover/preview?from=rep1&to=rep2,mgr")
    assert preview.status_code == 200, preview.text
    assert preview.json()["counts"] == [{"label": "accounts", "count": 2},
                                        {"label": "tasks", "count": 0}]
    assert clients("rep2").get("/api/v1/handover/preview?from=rep1&to=rep2").status_code == 403
    done = mgr.post("/api/v1/handover", json={"from": "rep1", "to": ["rep2", "mgr"]})
    assert done.status_code == 200, done.text
    assert done.json()["per_receiver"] == {"rep2": 1, "mgr": 1}
    assert rep1.get("/api/v1/accounts").status_code == 401  # disabled: the session is over


def test_list_query_count_does_not_grow_with_rows(org):
    ctx = org.ctx("rep1")
    account_id = accounts.create_account(ctx, {"name": "甲"})[0]["id"]

    def measure():
        ctx = org.ctx("rep1")
        get = {}.get
        with count_queries() as statements:
            accounts.list_accounts(ctx, ListParams.parse(get), get)
            people.list_contacts(ctx, ListParams.parse(get), get)
        # the data queries (the door's policy-version check runs at most once a second,
        # so its statements come and go with the clock, not with the rows)
        return len([s for s in statements if "contacts_" in s or "base_tag_link" in s
                    or 'FROM "base_user"' in s])

    people.create_contact(ctx, {"account": account_id, "name": "一"})
    few = measure()
    for index in range(2, 25):
        made = accounts.create_account(ctx, {"name": f"客户{index}"})[0]["id"]
        people.create_contact(ctx, {"account": made, "name": f"联系人{index}"})
    assert measure() == few <= 5  # rows, owner names, tags; contacts, account names


def test_malformed_input_is_a_client_error_never_a_crash(clients, org):
    import base64
    import json

    rep1 = clients("rep1")
    made = rep1.post("/api/v1/accounts", json={"name": "甲一"}).json()["account"]
    assert rep1.get("/api/v1/accounts/99999999999999999999").status_code == 404
    assert rep1.get("/api/v1/timeline/account/99999999999").status_code == 404
    cleared = rep1.patch(f"/api/v1/accounts/{made['id']}", json={"name": None})
    assert cleared.status_code == 422 and "name" in cleared.json()["error"]["fields"]
    huge = rep1.post("/api/v1/contacts", json={"account": 10**30, "name": "x"})
    assert huge.status_code == 422 and "account" in huge.json()["error"]["fields"]
    for cursor in ("nope", base64.urlsafe_b64encode(json.dumps([5, 1]).encode()).decode(),
                   base64.urlsafe_b64encode(json.dumps(["x", 10**12]).encode()).decode()):
        response = rep1.get(f"/api/v1/accounts?sort=name&after={cursor}")
        assert response.status_code == 400, (cursor, response.text)
    for query in ("limit=abc", "limit=%C2%B2", "sort=colour", "fields=colour", "owner=abc",
                  "owner=%C2%B2", "region=99999999999"):
        assert rep1.get(f"/api/v1/accounts?{query}").status_code == 400, query
    assert rep1.post("/api/v1/accounts", data="[1]").status_code == 400
    assert rep1.get("/api/v1/tasks?overdue=maybe").status_code == 400
