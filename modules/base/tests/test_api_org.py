"""`/api/v1/divisions`, `/departments`, `/regions`, `/roles`, `/users` over HTTP: reads for
signed-in users, writes for administrators, validation naming the fields."""
from __future__ import annotations

from modules.base.models import Department


def test_reads_need_a_user_and_writes_an_admin(http, rep_http):
    for path in ["/api/v1/divisions", "/api/v1/departments", "/api/v1/regions",
                 "/api/v1/roles", "/api/v1/users"]:
        assert http.get(path).status_code == 401, path
        assert rep_http.get(path).status_code == 200, path
    assert rep_http.post("/api/v1/divisions", json={"code": "IA", "name": "x"}).status_code == 403
    assert rep_http.post("/api/v1/users", json={"login": "a", "name": "b"}).status_code == 403


def test_regions_and_roles_catalogues(rep_http):
    regions = rep_http.get("/api/v1/regions").json()["regions"]
    assert [r["name"] for r in regions] == ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
    roles = {r["code"] for r in rep_http.get("/api/v1/roles").json()["roles"]}
    assert roles >= {"admin", "sales_rep", "sales_manager", "finance", "dealer", "auditor"}


def test_divisions_and_department_tree(admin_http):
    created = admin_http.post("/api/v1/divisions", json={"code": "IA", "name": "工业自动化事业部"})
    assert created.status_code == 201, created.text
    ia = created.json()["id"]
    duplicate = admin_http.post("/api/v1/divisions", json={"code": "IA", "name": "again"})
    assert duplicate.status_code == 409 and "code" in duplicate.json()["error"]["fields"]
    missing = admin_http.post("/api/v1/divisions", json={"code": "MD"})
    assert missing.status_code == 400 and "name" in missing.json()["error"]["fields"]

    def dept(code, name, parent=None):
        response = admin_http.post("/api/v1/departments", json={
            "division_id": ia, "code": code, "name": name, "parent_id": parent})
        assert response.status_code == 201, response.text
        return response.json()

    sc = dept("IA-SC", "销售中心")
    s1 = dept("IA-S1", "销售一部（华东）", sc["id"])
    g1 = dept("IA-S1-G1", "一组", s1["id"])
    mkt = dept("IA-MKT", "市场部")
    assert g1["path"] == f"/{sc['id']}/{s1['id']}/{g1['id']}/" and g1["depth"] == 2

    tree = admin_http.get(f"/api/v1/departments?division={ia}&tree=1").json()["departments"]
    assert [d["code"] for d in tree] == ["IA-SC", "IA-MKT"]
    assert tree[0]["children"][0]["children"][0]["code"] == "IA-S1-G1"
    under = admin_http.get(f"/api/v1/departments?under={sc['id']}").json()["departments"]
    assert {d["code"] for d in under} == {"IA-SC", "IA-S1", "IA-S1-G1"}

    moved = admin_http.patch(f"/api/v1/departments/{s1['id']}",
                             json={"parent_id": mkt["id"], "name": "销售一部"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["path"] == f"/{mkt['id']}/{s1['id']}/"
    assert Department.get_by_id(g1["id"]).path == f"/{mkt['id']}/{s1['id']}/{g1['id']}/"

    cycle = admin_http.patch(f"/api/v1/departments/{mkt['id']}", json={"parent_id": g1["id"]})
    assert cycle.status_code == 422 and "parent_id" in cycle.json()["error"]["fields"]
    clash = admin_http.patch(f"/api/v1/departments/{g1['id']}", json={"code": "IA-SC"})
    assert clash.status_code == 409
    md = admin_http.post("/api/v1/divisions", json={"code": "MD", "name": "医疗器械事业部"}).json()
    across = admin_http.post("/api/v1/departments", json={
        "division_id": md["id"], "code": "MD-SC", "name": "销售中心", "parent_id": sc["id"]})
    assert across.status_code == 422 and "parent_id" in across.json()["error"]["fields"]
    unknown = admin_http.patch(f"/api/v1/departments/{g1['id']}", json={"colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["fields"]
    assert admin_http.patch("/api/v1/departments/99999", json={}).status_code == 404


def test_users_create_update_and_refuse_cycles(admin_http, install):
    def create(login, name, **extra):
        response = admin_http.post("/api/v1/users", json={"login": login, "name": name, **extra})
        assert response.status_code == 201, response.text
        return response.json()

    director = create("zhang.wei", "张伟", password="Sales-dir-2026", regions=["east", "south"])
    manager = create("wang.fang", "王芳", manager_id=director["id"], email="wang.fang@example.com")
    rep = create("li.na", "李娜", manager_id=manager["id"])
    assert director["regions"] == ["east", "south"] and manager["manager_id"] == director["id"]

    duplicate = admin_http.post("/api/v1/users", json={"login": "li.na", "name": "x"})
    assert duplicate.status_code == 409 and "login" in duplicate.json()["error"]["fields"]
    weak = admin_http.post("/api/v1/users", json={"login": "x.y", "name": "x", "password": "123"})
    assert weak.status_code == 422 and "password" in weak.json()["error"]["fields"]
    bad = admin_http.post("/api/v1/users", json={"login": "x.z", "name": "x", "email": "nope",
                                                 "regions": ["mars"]})
    assert bad.status_code == 422 and "email" in bad.json()["error"]["fields"]
    from modules.base.models import User
    assert User.get_or_none(User.login == "x.z") is None  # nothing half-created

    cycle = admin_http.patch(f"/api/v1/users/{director['id']}", json={"manager_id": rep["id"]})
    assert cycle.status_code == 422 and "manager_id" in cycle.json()["error"]["fields"]
    self_manager = admin_http.patch(f"/api/v1/users/{rep['id']}", json={"manager_id": rep["id"]})
    assert self_manager.status_code == 422

    changed = admin_http.patch(f"/api/v1/users/{rep['id']}", json={
        "name": "李娜娜", "regions": ["north"], "active": False, "manager_id": director["id"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["regions"], body["active"], body["manager_id"]) == \
        ("李娜娜", ["north"], False, director["id"])

    reports = admin_http.get(f"/api/v1/users?manager={director['id']}").json()
    assert {u["login"] for u in reports["users"]} == {"wang.fang", "li.na"}
    active = admin_http.get("/api/v1/users?active=true&q=li").json()["users"]
    assert [u["login"] for u in active] == []
    assert admin_http.get("/api/v1/users?active=maybe").status_code == 400


def test_users_by_department_subtree(admin_http, install):
    from modules.base import services
    ia = services.create_division("IA", "工业自动化事业部")
    sc = services.create_department(ia, "IA-SC", "销售中心")
    s1 = services.create_department(ia, "IA-S1", "销售一部", sc)
    services.create_user("zhang.wei", "张伟", department=sc)
    services.create_user("li.na", "李娜", department=s1)
    direct = admin_http.get(f"/api/v1/users?department={sc.id}").json()["users"]
    assert [u["login"] for u in direct] == ["zhang.wei"]
    subtree = admin_http.get(f"/api/v1/users?department={sc.id}&subtree=1").json()
    assert [u["login"] for u in subtree["users"]] == ["li.na", "zhang.wei"]
    assert subtree["total"] == 2
    first = admin_http.get("/api/v1/users?limit=2").json()
    assert [u["login"] for u in first["users"]] == ["admin", "li.na"] and first["total"] == 3
    rest = admin_http.get(f"/api/v1/users?limit=2&after={first['next']}").json()
    assert [u["login"] for u in rest["users"]] == ["zhang.wei"] and rest["next"] is None
