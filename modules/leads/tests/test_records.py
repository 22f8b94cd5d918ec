"""Lead records over HTTP as real signed-in users: normalisation on create, field rules (403
listing every field), row scopes (404 outside), masked channels for marketing, exact search by
phone / e-mail through the blind indexes, keyset pagination and a query count that does not
grow with the rows."""
from __future__ import annotations

from modules.leads import services
from modules.leads.models import Lead
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from tests.test_scope_org import count_queries


def make(org, login_: str = "rep1", **values) -> dict:
    body = {"name": "张伟", "company": "苏州精工机械有限公司", **values}
    return services.create_lead(org.ctx(login_), body)["lead"]


def test_requires_sign_in(anonymous, org):
    assert anonymous.get("/api/v1/leads").status_code == 401
    assert anonymous.post("/api/v1/leads", json={"name": "x"}).status_code == 401


def test_create_normalises_and_hides_lookup_keys(clients, org):
    response = clients("rep1").post("/api/v1/leads", json={
        "name": " 张伟 ", "company": "上海振华重工（集团）股份有限公司", "mobile": "+86 138-0013-8000",
        "email": "Zhang.Wei@Example.COM ", "wechat": "zw_2026", "source": "抖音", "region": "华东",
        "budget": "¥50万", "need": "产线改造"})
    assert response.status_code == 201, response.text
    lead = response.json()["lead"]
    assert (lead["name"], lead["mobile"], lead["email"]) == (
        "张伟", "13800138000", "zhang.wei@example.com")
    assert (lead["source"], lead["budget"], lead["owner"], lead["status"]) == (
        "douyin", "500000.00", org.id("rep1"), "new")
    assert lead["company_key"] == "上海振华重工"
    assert not any(k.endswith("_bidx") or k == "import_key" for k in lead)
    stored = Lead.get_by_id(lead["id"])
    assert stored.mobile == "13800138000" and stored.mobile_bidx
    assert stored.created_by_id == org.id("rep1")
    column = Lead._meta.database.execute_sql(
        f"SELECT mobile FROM leads_lead WHERE id = {int(lead['id'])}").fetchone()[0]
    assert column.startswith("v") and "13800138000" not in column  # stored encrypted


def test_validation_reports_every_field(clients, org):
    response = clients("rep1").post("/api/v1/leads", json={
        "mobile": "12-34", "email": "not-mail", "source": "火星", "region": "月球", "budget": "很多"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {
        "name", "mobile", "email", "source", "region", "budget"}
    assert Lead.select().count() == 0


def test_forbidden_fields_listed_and_nothing_written(clients, org):
    rep1 = clients("rep1")
    response = rep1.post("/api/v1/leads", json={"name": "甲", "owner": org.id("rep2"),
                                                 "score": 99, "mobile_bidx": "x"})
    assert response.status_code == 403
    assert set(response.json()["error"]["fields"]) == {"owner", "score", "mobile_bidx"}
    assert Lead.select().count() == 0
    lead = make(org)
    response = rep1.patch(f"/api/v1/leads/{lead['id']}", json={"status": "lost", "hot": True,
                                                               "need": "改"})
    assert response.status_code == 403
    assert set(response.json()["error"]["fields"]) == {"status", "hot"}
    assert Lead.get_by_id(lead["id"]).need is None
    moved = clients("mgr").patch(f"/api/v1/leads/{lead['id']}", json={"owner": org.id("rep2")})
    assert moved.status_code == 200 and moved.json()["owner"] == org.id("rep2")


def test_row_scopes_on_every_record_route(clients, org):
    lead = make(org, "rep1")
    path = f"/api/v1/leads/{lead['id']}"
    for login_ in ("rep2", "other_mgr", "md_rep"):
        client = clients(login_)
        assert client.get(path).status_code == 404, login_
        assert client.patch(path, json={"need": "x"}).status_code == 404, login_
        assert client.get(path + "/duplicates").status_code == 404, login_
        assert lead["id"] not in [i["id"] for i in client.get("/api/v1/leads").json()["items"]]
    assert clients("mgr").get(path).json()["name"] == "张伟"
    assert clients("rep1").delete(path).status_code == 403  # reps hold no delete right
    assert clients("mgr").delete(path).status_code == 204
    assert Lead.get_or_none(Lead.id == lead["id"]) is None


def test_marketing_sees_division_leads_masked_and_cannot_search_channels(clients, org):
    make(org, "rep1", mobile="13800138000", email="zhang@example.com")
    make(org, "md_rep", name="高", mobile="13900139000")
    mkt = clients("mkt")
    items = mkt.get("/api/v1/leads").json()["items"]
    assert [i["mobile"] for i in items] == ["138****8000"]
    assert items[0]["email"] == "z***@example.com"
    refused = mkt.get("/api/v1/leads", params={"mobile": "13800138000"})
    assert refused.status_code == 403 and refused.json()["error"]["fields"] == {"mobile": "masked"}
    created = mkt.post("/api/v1/leads", json={"name": "市场", "mobile": "13700137000"})
    assert created.status_code == 403


def test_exact_search_by_any_phone_spelling_and_email(clients, org):
    make(org, "rep1", mobile="+86 138-0013-8000", email="Zhang@Example.com")
    make(org, "rep1", name="李娜", company="宁波海天", mobile="13900139000")
    rep1 = clients("rep1")
    for spelling in ("138 0013 8000", "0086 13800138000", "８６１３８００１３８０００"):
        found = rep1.get("/api/v1/leads", params={"mobile": spelling}).json()["items"]
        assert [i["name"] for i in found] == ["张伟"], spelling
    assert [i["name"] for i in rep1.get("/api/v1/leads", params={
        "email": "ZHANG@example.COM"}).json()["items"]] == ["张伟"]
    assert [i["name"] for i in rep1.get("/api/v1/leads", params={"q": "海天"}).json()[
        "items"]] == ["李娜"]
    assert rep1.get("/api/v1/leads", params={"mobile": "12"}).json()["items"] == []


def test_keyset_pages_fields_and_filters(clients, org):
    for n in range(5):
        make(org, "rep1", name=f"客户{n}", source="expo" if n % 2 else "website")
    rep1 = clients("rep1")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "name", **({"after": cursor} if cursor else {})}
        page = rep1.get("/api/v1/leads", params=params).json()
        seen += [i["name"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [f"客户{n}" for n in range(5)]
    slim = rep1.get("/api/v1/leads", params={"fields": "name", "source": "expo"}).json()["items"]
    assert slim == [{"id": i["id"], "name": i["name"]} for i in slim] and len(slim) == 2
    assert rep1.get("/api/v1/leads", params={"fields": "mobile_bidx"}).status_code == 400
    assert rep1.get("/api/v1/leads", params={"status": "nope"}).status_code == 400


def test_list_query_count_does_not_grow(org):
    from modules.contacts.paging import ListParams

    make(org, "rep1", name="a")

    def listed() -> int:
        with count_queries() as statements:
            services.list_leads(org.ctx("mgr"), ListParams.parse(lambda n: None),
                                lambda n: None)
        # the door's own lookups (policy version, roles) come and go with its caches
        return len([sql for sql in statements if "leads_lead" in sql])

    few = listed()
    assert few >= 1
    for n in range(12):
        make(org, "rep2" if n % 2 else "rep1", name=f"b{n}")
    assert listed() == few
