"""Policy administration: roles, assignments (role per division) and rules.

Every change runs in one transaction with the policy-version bump (so every process sees it
within the watcher's bound) and is audited when `security.audit.record` exists. Invalid
input raises `APIError` 422 with `fields` naming each bad input; unknown things 404/409.
"""
from __future__ import annotations

import importlib
import re

from core.db import atomic
from core.web.base import APIError
from security.policy.adapter import PeeweeAdapter, subject_for
from security.policy.models import CasbinRule
from security.policy.names import WILDCARD, model_name
from security.policy.rules import RuleError, document_to_lines, lines_to_document
from security.policy.watch import bump_version

ROLE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
ROLE_TEXT = {"name": 100, "name_en": 100, "description": 2000}
ROLE_FLAGS = ("requires_2fa", "cross_division")


def invalid(fields: dict, message: str = "输入无效 / invalid input") -> APIError:
    return APIError(422, message, code="validation_failed", fields=fields)


def audit(ctx, details: dict) -> None:
    """Record a permission change in the audit log when the audit part provides `record`."""
    record = getattr(importlib.import_module("security.audit"), "record", None)
    if record is not None:
        record(ctx, "permission_change", details=details)


# ---------------------------------------------------------------------- roles
def role_dict(role) -> dict:
    return {"code": role.code, "name": role.name, "name_en": role.name_en,
            "description": role.description, "requires_2fa": role.requires_2fa,
            "cross_division": role.cross_division}


def list_roles() -> list[dict]:
    from modules.base.models import Role
    return [role_dict(r) for r in Role.select().order_by(Role.code)]


def get_role(code: str):
    from modules.base.models import Role
    role = Role.get_or_none(Role.code == code)
    if role is None:
        raise APIError(404, f"没有这个角色 / no role {code!r}")
    return role


def _role_values(data: dict, creating: bool) -> dict:
    problems, values = {}, {}
    allowed = {"code", *ROLE_TEXT, *ROLE_FLAGS} if creating else {*ROLE_TEXT, *ROLE_FLAGS}
    for key in sorted(set(data) - allowed):
        problems[key] = "unknown or read-only field"
    for key, limit in ROLE_TEXT.items():
        if key in data:
            if not isinstance(data[key], str) or len(data[key]) > limit:
                problems[key] = f"must be text of at most {limit} characters"
            else:
                values[key] = data[key].strip()
    for key in ROLE_FLAGS:
        if key in data:
            if not isinstance(data[key], bool):
                problems[key] = "must be true or false"
            else:
                values[key] = data[key]
    if (creating or "name" in data) and not values.get("name"):
        problems.setdefault("name", "required")
    if problems:
        raise invalid(problems)
    return values


def create_role(ctx, data: dict):
    from modules.base.models import Role
    code = data.get("code")
    if not isinstance(code, str) or not ROLE_CODE.match(code):
        raise invalid({"code": "2-64 characters: a-z, 0-9, _; starting with a letter"})
    values = _role_values(data, creating=True)
    values.pop("code", None)
    with atomic():
        if Role.get_or_none(Role.code == code):
            raise APIError(409, f"角色已存在 / role {code!r} exists", fields={"code": "taken"})
        role = Role.create(code=code, **values)
        bump_version()
        audit(ctx, {"op": "role.create", "role": role_dict(role)})
    return role


def update_role(ctx, code: str, data: dict):
    values = _role_values(data, creating=False)
    with atomic():
        role = get_role(code)
        before = role_dict(role)
        for key, value in values.items():
            setattr(role, key, value)
        role.save()
        bump_version()
        audit(ctx, {"op": "role.update", "before": before, "after": role_dict(role)})
    return role


# ---------------------------------------------------------------------- assignments
def find_user(value, problems: dict):
    from modules.base.models import User
    if isinstance(value, int) and not isinstance(value, bool):
        user = User.get_or_none(User.id == value)
    elif isinstance(value, str) and value.isdigit():
        user = User.get_or_none(User.id == int(value))
    elif isinstance(value, str) and value:
        user = User.get_or_none(User.login == value)
    else:
        user = None
    if user is None:
        problems["user"] = f"unknown user {value!r}"
    return user


def find_division(value, problems: dict, key: str = "division"):
    """`*` (every division) or a division code -> (code, Division or None)."""
    from modules.base.models import Division
    if value in (None, "", WILDCARD):
        return WILDCARD, None
    division = Division.get_or_none(Division.code == value) if isinstance(value, str) else None
    if division is None:
        problems[key] = f"unknown division {value!r}; use a division code or *"
    return value, division


def _assignment_inputs(data: dict, check_cross: bool = True):
    from modules.base.models import Role
    problems: dict = {}
    user = find_user(data.get("user"), problems)
    code = data.get("role")
    role = Role.get_or_none(Role.code == code) if isinstance(code, str) else None
    if role is None:
        problems["role"] = f"unknown role {data.get('role')!r}"
    domain, _ = find_division(data.get("division"), problems)
    if check_cross and role is not None and domain == WILDCARD and not role.cross_division:
        problems["division"] = (f"角色 {role.code} 不是跨事业部角色，必须指定事业部 / role "
                                f"{role.code} is not cross-division: name a division")
    if problems:
        raise invalid(problems)
    return user, role, domain


def assignment_dict(user_role) -> dict:
    division = user_role.division
    return {"user": user_role.user_id, "login": user_role.user.login, "role": user_role.role.code,
            "division": division.code if division else WILDCARD}


def list_assignments(user=None, role=None, division=None) -> list[dict]:
    from modules.base.models import Division, Role, User, UserRole
    import peewee as pw
    query = (UserRole.select(UserRole, User, Role, Division).join(User).switch(UserRole)
             .join(Role).switch(UserRole).join(Division, pw.JOIN.LEFT_OUTER)
             .order_by(User.login, Role.code))
    problems: dict = {}
    if user not in (None, ""):
        found = find_user(user, problems)
        query = query.where(UserRole.user == (found.id if found else 0))
    if role not in (None, ""):
        query = query.where(Role.code == role)
    if division not in (None, ""):
        query = query.where(UserRole.division.is_null() if division == WILDCARD
                            else Division.code == division)
    return [assignment_dict(row) for row in query]


def assign(ctx, data: dict) -> dict:
    user, role, domain = _assignment_inputs(data)
    with atomic():
        if not PeeweeAdapter().add_policy("g", "g", [subject_for(user.id), role.code, domain]):
            raise APIError(409, "已有此分配 / assignment exists")
        bump_version()
        details = {"op": "assignment.add", "user": user.id, "login": user.login,
                   "role": role.code, "division": domain}
        audit(ctx, details)
    return {"user": user.id, "login": user.login, "role": role.code, "division": domain}


def unassign(ctx, data: dict) -> None:
    user, role, domain = _assignment_inputs(data, check_cross=False)
    with atomic():
        if not PeeweeAdapter().remove_policy("g", "g", [subject_for(user.id), role.code, domain]):
            raise APIError(404, "没有此分配 / no such assignment")
        bump_version()
        audit(ctx, {"op": "assignment.remove", "user": user.id, "login": user.login,
                    "role": role.code, "division": domain})


# ---------------------------------------------------------------------- rules
def known_models(registry) -> dict[str, set[str]]:
    return {model_name(m): set(m._meta.fields) for m in registry.models}


def known_actions(registry) -> set[str]:
    return {a["name"] for a in registry.actions if "name" in a}


def _rule_target(role_code, domain) -> tuple[str, str]:
    problems: dict = {}
    from modules.base.models import Role
    if not isinstance(role_code, str) or Role.get_or_none(Role.code == role_code) is None:
        problems["role"] = f"unknown role {role_code!r}"
    domain, _ = find_division(domain, problems, "domain")
    if problems:
        raise invalid(problems)
    return role_code, domain


def current_lines(role: str, domain: str) -> set[tuple[str, str]]:
    query = CasbinRule.select().where(CasbinRule.ptype == "p", CasbinRule.v0 == role,
                                      CasbinRule.v1 == domain)
    return {(rule.v2, rule.v3) for rule in query}


def get_rules(role: str, domain: str = WILDCARD) -> dict:
    role, domain = _rule_target(role, domain)
    return lines_to_document(role, domain, current_lines(role, domain))


def put_rules(ctx, role: str, domain: str, doc: dict) -> dict:
    """Replace every line of `role` in `domain` with the document's."""
    role, domain = _rule_target(role, domain)
    for key in ("role", "domain"):
        if key in doc and doc[key] != {"role": role, "domain": domain}[key]:
            raise invalid({key: f"does not match the query ({role}, {domain})"})
    try:
        wanted = document_to_lines(doc, known_models(ctx.registry), known_actions(ctx.registry))
    except RuleError as exc:
        raise invalid(exc.fields, str(exc)) from None
    adapter = PeeweeAdapter()
    with atomic():
        current = current_lines(role, domain)
        removed, added = sorted(current - wanted), sorted(wanted - current)
        for obj, act in removed:
            adapter.remove_policy("p", "p", [role, domain, obj, act])
        for obj, act in added:
            adapter.add_policy("p", "p", [role, domain, obj, act])
        if removed or added:
            bump_version()
            audit(ctx, {"op": "rules.put", "role": role, "domain": domain,
                        "added": [list(x) for x in added], "removed": [list(x) for x in removed]})
    result = lines_to_document(role, domain, wanted)
    result["changes"] = {"added": len(added), "removed": len(removed)}
    return result
