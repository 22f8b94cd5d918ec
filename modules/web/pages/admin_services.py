"""Administration pages' rules: who may open them, users and the department tree.

Every function takes `ctx` first and goes through the door: page access is a Casbin check on
the resource the matching JSON API guards (`security.require`), lists are read with
`security.scoped_select` and serialised with `security.serialise` (hidden fields absent),
and every change is audited in the same transaction. Field rules, row scopes and role
assignments live in `admin_policy` (they call `security.policy.admin`).
"""
from __future__ import annotations

import peewee as pw

import security
from core.db import atomic
from core.web.base import APIError
from modules.base import services as base
from modules.base.handlers import service_errors
from modules.base.models import Department, Division, Role, User, UserRole

# page -> the (act, resource) lines needed to open it; the first line's resource with
# `write` (or the listed edit act) is needed to change anything on it
PAGES = {
    "users": (("read", "model/base_user"), ("write", "model/base_user")),
    "departments": (("read", "model/base_department"), ("write", "model/base_department")),
    "roles": (("read", "model/base_role"), ("read", "model/base_user_role")),
    "fields": (("read", "model/security_casbin_rule"),),
    "scopes": (("read", "model/security_casbin_rule"),),
    "audit": (("read", "model/security_audit"),),
}
EDIT = {
    "users": ("write", "model/base_user"),
    "departments": ("create", "model/base_department"),
    "roles": ("create", "model/base_user_role"),
    "fields": ("write", "model/security_casbin_rule"),
    "scopes": ("write", "model/security_casbin_rule"),
    "audit": None,
}
PER_PAGE = 50


def require_page(ctx, page: str) -> None:
    """403 unless the caller may open the administration page `page`."""
    if ctx.user is None:
        raise APIError(401, "请先登录 / authentication required")
    for act, resource in PAGES[page]:
        security.require(ctx, act, resource)


def can_open(ctx, page: str) -> bool:
    return ctx.user is not None and all(security.can(ctx, a, r) for a, r in PAGES[page])


def can_edit(ctx, page: str) -> bool:
    line = EDIT[page]
    return line is not None and can_open(ctx, page) and security.can(ctx, *line)


def _audit(ctx, action: str, model: str, res_id: int | None, details: dict) -> None:
    from security import audit
    audit.record(ctx, action, model=model, res_id=res_id, details=details)


# ------------------------------------------------------------------ users
def list_users(ctx, text: str = "", active: str = "", page: int = 1) -> dict:
    """A page of the user directory as the caller may see it."""
    require_page(ctx, "users")
    where = None
    text = (text or "").strip()
    if text:
        where = User.login.contains(text) | User.name.contains(text)
    if active in ("1", "0"):
        flag = User.active == (active == "1")
        where = flag if where is None else (where & flag)
    query = security.scoped_select(ctx, User, "list", where)
    total = query.count()
    page = max(1, page)
    rows = list(query.order_by(User.login).limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return {"users": _user_dicts(ctx, rows), "total": total, "page": page,
            "pages": max(1, -(-total // PER_PAGE))}


def user_row(ctx, user_id: int) -> dict:
    """One user as the directory shows it (what an htmx row swap re-renders)."""
    require_page(ctx, "users")
    return _user_dicts(ctx, [security.get_or_404(ctx, User, user_id)])[0]


def _user_dicts(ctx, rows: list) -> list[dict]:
    """Users serialised through the door, with department names and `role@division` codes
    (two extra queries for the whole page)."""
    users = security.serialise(ctx, User, rows)
    ids = [u["id"] for u in users]
    roles: dict[int, list[str]] = {}
    if ids:
        links = (UserRole.select(UserRole.user, Role.code, Division.code.alias("division_code"))
                 .join(Role).switch(UserRole).join(Division, pw.JOIN.LEFT_OUTER)
                 .where(UserRole.user.in_(ids)).order_by(Role.code).dicts())
        for link in links:
            roles.setdefault(link["user"], []).append(
                f"{link['code']}@{link['division_code'] or '*'}")
    departments = department_names()
    for user in users:
        user["roles"] = roles.get(user["id"], [])
        user["department_name"] = departments.get(user.get("department"), "")
    return users


def department_names() -> dict[int, str]:
    """Department id -> "division code / name" (reference data for labels and choices)."""
    rows = (Department.select(Department.id, Department.name, Division.code)
            .join(Division).order_by(Division.code, Department.path).tuples())
    return {dept_id: f"{code} / {name}" for dept_id, name, code in rows}


def _form_id(value, field: str, problems: dict) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        problems[field] = "必须是编号 / must be an id"
        return None
    return int(value)


def create_user(ctx, form: dict, min_password_length: int = 10) -> User:
    """Create a (non-admin) user from the page's form: login, name, e-mail, password,
    department and optionally a first role held in the department's division (`*` for a
    cross-division role). Audited; the role assignment goes through the policy admin
    service (audited, bumps the policy version)."""
    require_page(ctx, "users")
    security.require(ctx, "create", "model/base_user")
    problems: dict = {}
    for key in ("login", "name"):
        if not (form.get(key) or "").strip():
            problems[key] = "必填 / required"
    dept_id = _form_id(form.get("department_id"), "department_id", problems)
    role = (form.get("role") or "").strip()
    if role and Role.get_or_none(Role.code == role) is None:
        problems["role"] = f"没有这个角色 / unknown role {role!r}"
    if problems:
        raise APIError(422, "输入无效 / invalid input", fields=problems)
    from security.policy import admin as policy_admin

    with service_errors(), atomic():
        user = base.create_user(form["login"], base.as_text(form["name"], "name", 100),
                                form.get("password") or None,
                                min_password_length=min_password_length)
        changes = {}
        if (form.get("email") or "").strip():
            changes["email"] = form["email"].strip()
        if dept_id is not None:
            changes["department_id"] = dept_id
        if changes:
            user = base.update_user(user, changes)
        _audit(ctx, "create", "base_user", user.id,
               {"login": user.login, "name": user.name, "department": dept_id})
        if role:
            found = Role.get(Role.code == role)
            division = "*" if found.cross_division or user.department is None else \
                user.department.division.code
            policy_admin.assign(ctx, {"user": user.id, "role": role, "division": division})
    return user


def set_user_active(ctx, user_id: int, active: bool) -> User:
    """Enable or disable a user (disabling ends their sessions). Nobody disables themself:
    an administrator locking themself out needs another administrator to undo it."""
    require_page(ctx, "users")
    security.require(ctx, "write", "model/base_user")
    user = security.get_or_404(ctx, User, user_id, "write")
    if not active and user.id == ctx.user_id:
        raise APIError(422, "不能停用自己 / you cannot disable yourself",
                       fields={"active": "self"})
    with atomic():
        user = base.set_active(User.get_by_id(user.id), active)
        _audit(ctx, "update", "base_user", user.id,
               {"login": user.login, "changed": {"active": active}})
    return user


# ------------------------------------------------------------------ departments
def department_tree(ctx) -> list[dict]:
    """Each division the caller may read with its departments in tree order (depth from
    the materialised path) and the number of users in each."""
    require_page(ctx, "departments")
    divisions = security.serialise(ctx, Division,
                                   security.scoped_select(ctx, Division).order_by(Division.code))
    rows = security.serialise(ctx, Department, security.scoped_select(ctx, Department)
                              .order_by(Department.division, Department.path))
    counts = dict(User.select(User.department, pw.fn.COUNT(User.id))
                  .where(User.department.is_null(False)).group_by(User.department).tuples())
    by_division: dict[int, list[dict]] = {}
    for row in rows:
        row["depth"] = (row.get("path") or "/").count("/") - 2
        row["users"] = counts.get(row["id"], 0)
        by_division.setdefault(row.get("division"), []).append(row)
    return [{**d, "departments": by_division.get(d["id"], [])} for d in divisions]


def create_department(ctx, form: dict) -> Department:
    """Add a department to a division, optionally under a parent. Audited."""
    require_page(ctx, "departments")
    security.require(ctx, "create", "model/base_department")
    problems: dict = {}
    division_id = _form_id(form.get("division_id"), "division_id", problems)
    parent_id = _form_id(form.get("parent_id"), "parent_id", problems)
    if division_id is None and "division_id" not in problems:
        problems["division_id"] = "必填 / required"
    if problems:
        raise APIError(422, "输入无效 / invalid input", fields=problems)
    division = Division.get_or_none(Division.id == division_id)
    if division is None:
        raise APIError(422, "没有这个事业部 / no such division",
                       fields={"division_id": "unknown"})
    with service_errors(), atomic():
        parent = base.get_department(parent_id, "parent_id") if parent_id else None
        dept = base.create_department(division, form.get("code"), form.get("name"), parent)
        _audit(ctx, "create", "base_department", dept.id,
               {"code": dept.code, "name": dept.name, "division": division.code})
    return dept
