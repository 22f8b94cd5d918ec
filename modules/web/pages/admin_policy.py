"""Administration pages' policy views: roles and assignments, the field-rules matrix and the
row scopes, read and changed through `security.policy.admin` (so every change is validated,
audited and bumps the policy version that every process watches).

The matrix shows, for one model and one domain (`*` or a division code), each role's
*effective* level for each field — computed by the door's own `PermissionTable` from the
role's rules in `*` and in that domain — and marks the cells set by an explicit rule. A cell
change replaces the role's rules document with one field rule added, changed or removed.
"""
from __future__ import annotations

import security
from core.web.base import APIError
from modules.base.models import Division, Role
from modules.web.pages.admin_services import require_page
from security.crypto.blind import BlindIndexField
from security.mirrors import ScopeMirrorField
from security.policy import admin as policy_admin
from security.policy.models import CasbinRule
from security.policy.names import FIELD_LEVELS, SCOPE_LEVELS, SCOPE_OPS, WILDCARD, model_name
from security.policy.table import PermissionTable, Rule

DEFAULT = ""  # the "no explicit rule" choice of a cell


# ------------------------------------------------------------------ catalogue
def roles() -> list[dict]:
    return policy_admin.list_roles()


def domains() -> list[str]:
    """`*` and every division code: the domains a rule may live in."""
    return [WILDCARD, *(d.code for d in Division.select(Division.code).order_by(Division.code))]


def model_fields(ctx) -> dict[str, list[str]]:
    """Registered model name -> its rule-able field names in declaration order (blind index
    columns are search keys no role ever receives, so they are left out)."""
    found = {}
    for model in ctx.registry.models:
        names = [f.name for f in model._meta.sorted_fields
                 if not isinstance(f, (BlindIndexField, ScopeMirrorField))]
        found[model_name(model)] = names
    return dict(sorted(found.items()))


def check_target(ctx, model: str | None, domain: str | None, role: str | None = None,
                 field: str | None = None) -> None:
    """422 naming each input that is not a known model / domain / role / field."""
    problems = {}
    fields = model_fields(ctx)
    if model is not None and model not in fields:
        problems["model"] = f"未知模型 / unknown model {model!r}"
    if domain is not None and domain not in domains():
        problems["domain"] = f"未知事业部 / unknown domain {domain!r}"
    if role is not None and Role.get_or_none(Role.code == role) is None:
        problems["role"] = f"未知角色 / unknown role {role!r}"
    if field is not None and model in fields and field not in fields[model]:
        problems["field"] = f"未知字段 / unknown field {field!r}"
    if problems:
        raise APIError(422, "输入无效 / invalid input", fields=problems)


def _role_table(role: str, domain: str) -> tuple[PermissionTable, set[tuple[str, str]]]:
    """The door's table for `role` alone acting in `domain`, and the role's own lines in that
    domain (the ones an edit of this domain can change)."""
    wanted = [WILDCARD] if domain == WILDCARD else [WILDCARD, domain]
    query = CasbinRule.select().where(CasbinRule.ptype == "p", CasbinRule.v0 == role,
                                      CasbinRule.v1.in_(wanted))
    rules, own = [], set()
    for line in query:
        rules.append(Rule(role, line.v1, line.v2, line.v3, domain))
        if line.v1 == domain:
            own.add((line.v2, line.v3))
    table = PermissionTable(division_code=None if domain == WILDCARD else domain,
                            division_id=None, held=frozenset({(role, domain)}), rules=rules)
    return table, own


# ------------------------------------------------------------------ roles and assignments
def assignments(ctx, role: str = "", division: str = "") -> list[dict]:
    require_page(ctx, "roles")
    return policy_admin.list_assignments(None, role or None, division or None)


def assign(ctx, form: dict) -> dict:
    require_page(ctx, "roles")
    security.require(ctx, "create", "model/base_user_role")
    return policy_admin.assign(ctx, {k: (form.get(k) or "").strip()
                                     for k in ("user", "role", "division")})


def unassign(ctx, form: dict) -> None:
    require_page(ctx, "roles")
    security.require(ctx, "delete", "model/base_user_role")
    policy_admin.unassign(ctx, {k: (form.get(k) or "").strip()
                                for k in ("user", "role", "division")})


# ------------------------------------------------------------------ field matrix
def field_matrix(ctx, model: str, domain: str = WILDCARD) -> dict:
    """`{"fields", "roles", "cells": {field: {role: {"level", "explicit"}}}}` for `model`."""
    require_page(ctx, "fields")
    check_target(ctx, model, domain)
    role_list = roles()
    fields = model_fields(ctx)[model]
    cells: dict[str, dict[str, dict]] = {name: {} for name in fields}
    for role in role_list:
        table, own = _role_table(role["code"], domain)
        explicit = {obj.rsplit("/", 1)[1]: act for obj, act in own
                    if obj.startswith(f"field/{model}/")}
        for name in fields:
            cells[name][role["code"]] = {"level": table.field_level(model, name),
                                         "explicit": explicit.get(name, DEFAULT)}
    return {"model": model, "domain": domain, "fields": fields, "roles": role_list,
            "cells": cells}


def field_cell(ctx, role: str, domain: str, model: str, field: str) -> dict:
    """One cell of the matrix (what an htmx edit re-renders)."""
    check_target(ctx, model, domain, role, field)
    table, own = _role_table(role, domain)
    explicit = dict(own).get(f"field/{model}/{field}", DEFAULT)
    return {"role": role, "domain": domain, "model": model, "field": field,
            "level": table.field_level(model, field), "explicit": explicit}


def set_field_level(ctx, role: str, domain: str, model: str, field: str, level: str) -> dict:
    """Set (or with `""` remove) the field rule of `role` in `domain` for `model.field`."""
    require_page(ctx, "fields")
    security.require(ctx, "write", "model/security_casbin_rule")
    check_target(ctx, model, domain, role, field)
    if level not in (DEFAULT, *FIELD_LEVELS):
        raise APIError(422, "未知级别 / unknown level", fields={"level": level})
    doc = policy_admin.get_rules(role, domain)
    rules = doc["fields"].setdefault(model, {})
    if level:
        rules[field] = level
    else:
        rules.pop(field, None)
    if not rules:
        doc["fields"].pop(model)
    policy_admin.put_rules(ctx, role, domain, doc)
    return field_cell(ctx, role, domain, model, field)


# ------------------------------------------------------------------ row scopes
def scope_rows(ctx, role: str, domain: str = WILDCARD) -> list[dict]:
    """For every model: the role's model rights and its effective read/write scope in
    `domain`, with the explicit scope lines of that domain."""
    require_page(ctx, "scopes")
    check_target(ctx, None, domain, role)
    table, own = _role_table(role, domain)
    rows = []
    for model in model_fields(ctx):
        explicit = {}
        for obj, act in own:
            if obj == f"scope/{model}":
                op, _, level = act.partition(":")
                explicit[op] = level
        rows.append({"model": model,
                     "rights": [a for a in ("read", "create", "write", "delete", "export")
                                if table.allows(f"model/{model}", a)],
                     **{op: {"level": table.scope_level(model, op),
                             "explicit": explicit.get(op, DEFAULT)} for op in SCOPE_OPS}})
    return rows


def scope_row(ctx, role: str, domain: str, model: str) -> dict:
    check_target(ctx, model, domain, role)
    return next(row for row in scope_rows(ctx, role, domain) if row["model"] == model)


def set_scope(ctx, role: str, domain: str, model: str, op: str, level: str) -> dict:
    """Set (or with `""` remove) `role`'s `op` scope on `model` in `domain`."""
    require_page(ctx, "scopes")
    security.require(ctx, "write", "model/security_casbin_rule")
    check_target(ctx, model, domain, role)
    problems = {}
    if op not in SCOPE_OPS:
        problems["op"] = "read / write"
    if level not in (DEFAULT, *SCOPE_LEVELS):
        problems["level"] = f"未知范围 / unknown scope {level!r}"
    if problems:
        raise APIError(422, "输入无效 / invalid input", fields=problems)
    doc = policy_admin.get_rules(role, domain)
    rules = doc["scopes"].setdefault(model, {})
    if level:
        rules[op] = level
    else:
        rules.pop(op, None)
    if not rules:
        doc["scopes"].pop(model)
    policy_admin.put_rules(ctx, role, domain, doc)
    return scope_row(ctx, role, domain, model)
