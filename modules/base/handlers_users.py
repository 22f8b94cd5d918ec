"""`/api/v1/users`: list and read (signed-in users), create and change (administrators).

Field-level visibility (masking e-mail addresses for some roles) and row scopes arrive with
the security door; until then every signed-in user may read the directory."""
from __future__ import annotations

from collections import defaultdict

from core.db import atomic
from core.web.base import APIError
from modules.base import services
from modules.base.handlers import BaseApiHandler, service_errors
from modules.base.models import Department, Region, Role, User, UserRegion, UserRole

USER_FIELDS = {"name", "email", "department_id", "manager_id", "regions", "active"}


def _regions_by_user(ids: list[int]) -> dict[int, list[str]]:
    found = defaultdict(list)
    rows = (UserRegion.select(UserRegion.user, Region.code).join(Region)
            .where(UserRegion.user.in_(ids)).order_by(Region.sequence).tuples())
    for user_id, code in rows:
        found[user_id].append(code)
    return found


def _roles_by_user(ids: list[int]) -> dict[int, list[dict]]:
    found = defaultdict(list)
    rows = (UserRole.select(UserRole.user, Role.code, UserRole.division).join(Role)
            .where(UserRole.user.in_(ids)).order_by(Role.code).tuples())
    for user_id, code, division_id in rows:
        found[user_id].append({"code": code, "division_id": division_id})
    return found


def serialise_users(users: list[User]) -> list[dict]:
    """Users with their region codes and roles (two queries for the whole page)."""
    ids = [u.id for u in users]
    regions, roles = (_regions_by_user(ids), _roles_by_user(ids)) if ids else ({}, {})
    return [{
        "id": u.id, "login": u.login, "name": u.name, "email": u.email,
        "department_id": u.department_id, "manager_id": u.manager_id, "active": u.active,
        "is_admin": u.is_admin, "language": u.language, "timezone": u.timezone,
        "regions": regions.get(u.id, []), "roles": roles.get(u.id, []),
    } for u in users]


class UsersHandler(BaseApiHandler):
    """`GET ?department=&subtree=1&manager=&active=&q=&limit=&after=` (keyset pages by
    login: pass the answer's `next` as `after`);
    `POST {"login", "name", "password"?, "email"?, "department_id"?, "manager_id"?,
    "regions"?: [codes], "is_admin"?}` (admin)."""

    def get(self) -> None:
        self.require_user()
        query = User.select().order_by(User.login)
        dept_id = self.int_arg("department")
        if dept_id is not None:
            with service_errors():
                dept = services.get_department(dept_id, "department")
            query = query.where(User.department.in_(
                Department.select(Department.id).where(services.subtree(dept)))
                if self.bool_arg("subtree") else User.department == dept.id)
        manager_id = self.int_arg("manager")
        if manager_id is not None:
            query = query.where(User.manager == manager_id)
        active = self.bool_arg("active")
        if active is not None:
            query = query.where(User.active == active)
        text = (self.get_query_argument("q", "") or "").strip()
        if text:
            query = query.where(User.login.contains(text) | User.name.contains(text))
        total = query.count()
        after = self.get_query_argument("after", "")
        if after:
            query = query.where(User.login > after)
        limit = max(1, self.int_arg("limit", 200, maximum=1000))
        page = list(query.limit(limit))
        self.write_json({"users": serialise_users(page), "total": total,
                         "next": page[-1].login if len(page) == limit else None})

    def post(self) -> None:
        self.require_admin()
        data = self.body({"login", "name", "password", *USER_FIELDS, "is_admin"},
                         {"login", "name"})
        bad = {k: "类型错误 / wrong type" for k, kind in
               (("login", str), ("password", str), ("is_admin", bool))
               if k in data and data[k] is not None and not isinstance(data[k], kind)}
        if bad:
            raise APIError(422, "字段类型错误 / fields of the wrong type", fields=bad)
        with service_errors(), atomic():
            user = services.create_user(
                data["login"], services.as_text(data["name"], "name", 100),
                data.get("password"), is_admin=data.get("is_admin", False),
                min_password_length=self.app_settings["security"]["password_min_length"])
            rest = {k: v for k, v in data.items() if k in USER_FIELDS - {"name"}}
            user = services.update_user(user, rest)
        self.write_json(serialise_users([user])[0], 201)


class UserHandler(BaseApiHandler):
    """`GET` one user; `PATCH {"name", "email", "department_id", "manager_id", "regions",
    "active"}` (admin). A manager change that would form a cycle is refused (422)."""

    def _get(self, user_id: str) -> User:
        user = User.get_or_none(User.id == int(user_id))
        if user is None:
            raise APIError(404, f"没有这个用户 / no user {user_id}")
        return user

    def get(self, user_id: str) -> None:
        self.require_user()
        self.write_json(serialise_users([self._get(user_id)])[0])

    def patch(self, user_id: str) -> None:
        self.require_admin()
        user = self._get(user_id)
        data = self.body(USER_FIELDS)
        with service_errors():
            user = services.update_user(user, data)
        self.write_json(serialise_users([user])[0])

