"""Admin API of the policy engine (`/api/v1/security/...`).

Access to it goes through the door too: reading or changing roles needs `model/base_role`,
assignments `model/base_user_role`, rules and explanations `model/security_casbin_rule`
(the seeded `admin` role holds `*`, so IT admins may do all of it). Whoever may change
assignments or rules can grant themselves anything: give those rights to admins only.
"""
from __future__ import annotations

from core.web.base import BaseHandler
from security.policy import admin, explain
from security.policy.api import require
from security.policy.names import WILDCARD


class PolicyHandler(BaseHandler):
    def guard(self, act: str, resource: str):
        self.require_user()
        require(self.ctx, act, resource)

    def arg(self, name: str, default=None):
        return self.get_query_argument(name, default)

    def int_arg(self, name: str):
        value = self.arg(name)
        if value in (None, ""):
            return None
        if not value.isdigit():
            raise admin.invalid({name: "must be a positive integer"})
        return int(value)


class RolesHandler(PolicyHandler):
    def get(self):
        self.guard("read", "model/base_role")
        self.write_json({"roles": admin.list_roles()})

    def post(self):
        self.guard("create", "model/base_role")
        role = admin.create_role(self.ctx, self.json_body())
        self.write_json(admin.role_dict(role), 201)


class RoleHandler(PolicyHandler):
    def get(self, code: str):
        self.guard("read", "model/base_role")
        self.write_json(admin.role_dict(admin.get_role(code)))

    def patch(self, code: str):
        self.guard("write", "model/base_role")
        self.write_json(admin.role_dict(admin.update_role(self.ctx, code, self.json_body())))


class AssignmentsHandler(PolicyHandler):
    def get(self):
        self.guard("read", "model/base_user_role")
        self.write_json({"assignments": admin.list_assignments(
            self.arg("user"), self.arg("role"), self.arg("division"))})

    def post(self):
        self.guard("create", "model/base_user_role")
        self.write_json(admin.assign(self.ctx, self.json_body()), 201)

    def delete(self):
        self.guard("delete", "model/base_user_role")
        data = self.json_body() or {k: self.arg(k) for k in ("user", "role", "division")}
        admin.unassign(self.ctx, data)
        self.set_status(204)
        self.finish()


class RulesHandler(PolicyHandler):
    def target(self):
        role = self.arg("role")
        if not role:
            raise admin.invalid({"role": "required"})
        return role, self.arg("domain") or WILDCARD

    def get(self):
        self.guard("read", "model/security_casbin_rule")
        self.write_json(admin.get_rules(*self.target()))

    def put(self):
        self.guard("write", "model/security_casbin_rule")
        role, domain = self.target()
        self.write_json(admin.put_rules(self.ctx, role, domain, self.json_body()))


class EffectiveAccessHandler(PolicyHandler):
    def get(self):
        self.guard("read", "model/security_casbin_rule")
        if not self.arg("user") or not self.arg("model"):
            raise admin.invalid({k: "required" for k in ("user", "model") if not self.arg(k)})
        self.write_json(explain.effective_access(
            self.ctx, user=self.arg("user"), model=self.arg("model"),
            record_id=self.int_arg("id"), field=self.arg("field") or None,
            act=self.arg("act") or "read", division=self.arg("division") or None))


def routes() -> list:
    prefix = r"/api/v1/security"
    return [
        (prefix + r"/roles", RolesHandler),
        (prefix + r"/roles/([a-z][a-z0-9_]*)", RoleHandler),
        (prefix + r"/assignments", AssignmentsHandler),
        (prefix + r"/rules", RulesHandler),
        (prefix + r"/effective-access", EffectiveAccessHandler),
    ]

