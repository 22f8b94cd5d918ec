"""Policy administration: roles, assignments and rules — validation, versioning, audit, HTTP."""
from __future__ import annotations

import pytest

import security
from core.web.base import APIError
from modules.base.models import Role
from security.audit.models import AuditEntry
from security.policy import admin, watch
from tests.support import ADMIN_LOGIN, ADMIN_PASSWORD, login
from tests.test_policy_kit import PASSWORD, build_org, org  # noqa: F401


def rejected(call, status: int) -> APIError:
    with pytest.raises(APIError) as caught:
        call()
    assert caught.value.status_code == status, caught.value.message
    return caught.value


def permission_changes() -> list[dict]:
    return [entry.details for entry in AuditEntry.select().where(
        AuditEntry.action == "permission_change").order_by(AuditEntry.seq)]


# ---------------------------------------------------------------------- roles
def test_create_and_update_a_role_bumps_the_version_and_is_audited(org):
    ctx = org.ctx("admin")
    version = watch.read_version()[1]
    role = admin.create_role(ctx, {"code": "key_account", "name": "大客户经理",
                                   "cross_division": True})
    assert role.cross_division and watch.read_version()[1] == version + 1
    admin.update_role(ctx, "key_account", {"name": "大客户总监", "requires_2fa": True})
    assert Role.get(Role.code == "key_account").requires_2fa
    ops = [d["op"] for d in permission_changes()]
    assert ops[-2:] == ["role.create", "role.update"]
    assert permission_changes()[-1]["after"]["name"] == "大客户总监"


def test_role_validation_names_the_fields(org):
    ctx = org.ctx("admin")
    assert set(rejected(lambda: admin.create_role(ctx, {"code": "Bad Code", "name": "x"}),
                        422).fields) == {"code"}
    error = rejected(lambda: admin.create_role(ctx, {"code": "ok_code", "cross_division": "yes",
                                                     "colour": "red"}), 422)
    assert set(error.fields) == {"name", "cross_division", "colour"}
    assert rejected(lambda: admin.create_role(ctx, {"code": "sales_rep", "name": "x"}), 409)
    assert rejected(lambda: admin.update_role(ctx, "ghost", {"name": "x"}), 404)
    assert "code" in rejected(lambda: admin.update_role(ctx, "finance", {"code": "fin"}),
                              422).fields


# ---------------------------------------------------------------------- assignments
def test_assignment_validation(org):
    ctx = org.ctx("admin")
    error = rejected(lambda: admin.assign(ctx, {"user": "ghost", "role": "pilot",
                                                "division": "XX"}), 422)
    assert set(error.fields) == {"user", "role", "division"}
    error = rejected(lambda: admin.assign(ctx, {"user": "nobody", "role": "sales_rep",
                                                "division": "*"}), 422)
    assert "cross-division" in error.fields["division"]
    assert admin.assign(ctx, {"user": "nobody", "role": "sales_rep", "division": "MD"}) == {
        "user": org.users["nobody"].id, "login": "nobody", "role": "sales_rep",
        "division": "MD"}
    rejected(lambda: admin.assign(ctx, {"user": org.users["nobody"].id, "role": "sales_rep",
                                        "division": "MD"}), 409)
    assert admin.list_assignments(user="nobody") == [
        {"user": org.users["nobody"].id, "login": "nobody", "role": "sales_rep",
         "division": "MD"}]
    assert {a["login"] for a in admin.list_assignments(division="*")} == {"auditor"}
    admin.unassign(ctx, {"user": "nobody", "role": "sales_rep", "division": "MD"})
    rejected(lambda: admin.unassign(ctx, {"user": "nobody", "role": "sales_rep",
                                          "division": "MD"}), 404)
    assert [d["op"] for d in permission_changes()][-2:] == ["assignment.add",
                                                           "assignment.remove"]


# ---------------------------------------------------------------------- rules
def test_rules_round_trip_and_report_changes(org):
    ctx = org.ctx("admin")
    doc = {"models": {"base_tag": ["read", "write"], "base_region": ["read"]},
           "fields": {"base_tag": {"color": "masked", "*": "read"}},
           "scopes": {"base_tag": {"read": "division", "write": "own"}},
           "actions": []}
    result = admin.put_rules(ctx, "dealer", "MD", doc)
    assert result["changes"] == {"added": 7, "removed": 0}
    fetched = admin.get_rules("dealer", "MD")
    assert fetched["models"] == {"base_region": ["read"], "base_tag": ["read", "write"]}
    assert fetched["fields"] == {"base_tag": {"*": "read", "color": "masked"}}
    assert fetched["scopes"] == {"base_tag": {"read": "division", "write": "own"}}
    again = admin.put_rules(ctx, "dealer", "MD", {**fetched})
    assert again["changes"] == {"added": 0, "removed": 0}
    shrunk = admin.put_rules(ctx, "dealer", "MD", {"models": {"base_tag": ["read"]}})
    assert shrunk["changes"] == {"added": 0, "removed": 6}
    change = permission_changes()[-1]
    assert change["op"] == "rules.put" and len(change["removed"]) == 6
    assert admin.get_rules("admin")["all"] is True


def test_rules_validation_lists_every_problem(org):
    ctx = org.ctx("admin")
    bad = {"models": {"base_tag": ["read", "fly"], "ghost": ["read"]},
           "fields": {"base_tag": {"colour": "read", "name": "visible"}, "*": {"x": "read"}},
           "scopes": {"base_tag": {"read": "team", "delete": "own"}},
           "actions": ["no.such"], "extra": 1, "all": "yes"}
    error = rejected(lambda: admin.put_rules(ctx, "dealer", "MD", bad), 422)
    assert set(error.fields) == {
        "models.base_tag", "models.ghost", "fields.base_tag.colour", "fields.base_tag.name",
        "fields.*", "scopes.base_tag.read", "scopes.base_tag.delete", "actions.no.such",
        "extra", "all"}
    assert set(rejected(lambda: admin.get_rules("pilot", "XX"), 422).fields) == {"role",
                                                                                "domain"}
    assert admin.get_rules("dealer", "MD")["models"] == {}  # nothing was written


# ---------------------------------------------------------------------- HTTP
def test_admin_api_over_http(install, http):
    org = build_org(install)
    login(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    roles = http.get("/api/v1/security/roles")
    assert roles.status_code == 200
    assert "sales_rep" in {r["code"] for r in roles.json()["roles"]}
    created = http.post("/api/v1/security/roles", json={"code": "bid_desk", "name": "投标组"})
    assert created.status_code == 201, created.text
    bad = http.post("/api/v1/security/roles", json={"code": "9x"})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"code"}
    patched = http.patch("/api/v1/security/roles/bid_desk", json={"name_en": "Bid desk"})
    assert patched.json()["name_en"] == "Bid desk"

    assigned = http.post("/api/v1/security/assignments",
                         json={"user": "nobody", "role": "bid_desk", "division": "IA"})
    assert assigned.status_code == 201, assigned.text
    listed = http.get("/api/v1/security/assignments", params={"role": "bid_desk"})
    assert [a["login"] for a in listed.json()["assignments"]] == ["nobody"]

    put = http.put("/api/v1/security/rules", params={"role": "bid_desk", "domain": "IA"},
                   json={"models": {"base_tag": ["read"]}, "fields": {"base_tag": {"x": "read"}}})
    assert put.status_code == 422
    assert put.json()["error"]["fields"] == {"fields.base_tag.x": "unknown field 'x'"}
    put = http.put("/api/v1/security/rules", params={"role": "bid_desk", "domain": "IA"},
                   json={"models": {"base_tag": ["read"]}})
    assert put.status_code == 200 and put.json()["changes"]["added"] == 1
    assert http.get("/api/v1/security/rules", params={"role": "bid_desk", "domain": "IA"}
                    ).json()["models"] == {"base_tag": ["read"]}
    assert security.can(org.ctx("nobody"), "read", "model/base_tag")

    removed = http.delete("/api/v1/security/assignments",
                          params={"user": "nobody", "role": "bid_desk", "division": "IA"})
    assert removed.status_code == 204
    assert not security.can(org.ctx("nobody"), "read", "model/base_tag")


def test_admin_api_is_behind_the_door(install, http):
    build_org(install)
    assert http.get("/api/v1/security/roles").status_code == 401
    login(http, "rep_ia", PASSWORD)
    assert http.get("/api/v1/security/roles").status_code == 403
    answer = http.post("/api/v1/security/assignments",
                       json={"user": "rep_ia", "role": "admin", "division": "*"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert http.get("/api/v1/security/effective-access",
                    params={"user": "rep_ia", "model": "base_user"}).status_code == 403
