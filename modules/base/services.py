"""Business rules of the org tree and users. Functions take `ctx` first where a caller acts.

Errors are `BaseError` (422) and its subclasses `NotFound` (404) and `Conflict` (409); each
names the offending input in `field`, so handlers answer `{"fields": {field: message}}`.
"""
from __future__ import annotations

import re
from typing import Iterable

import peewee as pw

from core.db import atomic, database, is_postgres, utcnow
from modules.base.models import (
    Company, Department, Division, Region, Role, User, UserRegion, UserRole,
)
from security.passwords import check_policy, hash_password

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PATH_RE = re.compile(r"^/(\d+/)+$")
# Keys of the PostgreSQL transaction-level advisory locks that serialise tree rewrites.
LOCK_DEPARTMENT_TREE = 7_410_001
LOCK_MANAGER_TREE = 7_410_002


class BaseError(ValueError):
    """A rule of the base module was violated; `field` names the offending input."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(BaseError):
    """A referenced record does not exist."""

    status = 404


class Conflict(BaseError):
    """The record would duplicate a unique key (code, login, name)."""

    status = 409


class Forbidden(BaseError):
    """The acting user may not do this."""

    status = 403


def as_text(value, field: str, max_length: int, *, required: bool = True) -> str | None:
    """Strip and bound a text input; empty is an error when `required`."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise BaseError(f"{field} 不能为空 / {field} is required", field)
    value = value.strip()
    if len(value) > max_length:
        raise BaseError(f"{field} 过长 / {field} exceeds {max_length} characters", field)
    return value


def serialise_tree_writes(key: int) -> None:
    """Inside a transaction on PostgreSQL, take an advisory lock so two concurrent tree
    rewrites (moves, manager changes) cannot each pass the cycle check and together form a
    cycle. SQLite serialises writers already."""
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


# ---------------------------------------------------------------- company and divisions
def ensure_company(name: str = "汇客示例集团") -> Company:
    company = Company.select().order_by(Company.id).first()
    return company or Company.create(name=name)


def create_division(code: str, name: str, company: Company | None = None) -> Division:
    code = as_text(code, "code", 32)
    name = as_text(name, "name", 200)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", code):
        raise BaseError("编码只能含字母、数字、- 和 _ / code may hold letters, digits, - and _",
                        "code")
    if Division.get_or_none(Division.code == code):
        raise Conflict(f"事业部编码已存在 / division code {code!r} exists", "code")
    return Division.create(company=company or ensure_company(), code=code, name=name)


# ---------------------------------------------------------------- departments
def subtree_predicate(field: pw.Field, path: str) -> pw.Expression:
    """`field` lies in the subtree rooted at materialised path `path` — one predicate that
    an index serves: case-sensitive `LIKE '/1/4/%'` on PostgreSQL (text_pattern_ops index,
    see `models.create_extra_indexes`), `GLOB '/1/4/*'` on SQLite (binary index). peewee
    renders `OP.LIKE` as GLOB on SQLite."""
    if not PATH_RE.match(path or ""):
        raise ValueError(f"not a materialised path: {path!r}")
    wildcard = "%" if is_postgres() else "*"
    return pw.Expression(field, pw.OP.LIKE, path + wildcard)


def subtree(dept: Department):
    """Departments in `dept`'s subtree (itself included) as one indexed predicate."""
    return subtree_predicate(Department.path, dept.path)


def create_department(division: Division, code: str, name: str,
                      parent: Department | None = None) -> Department:
    """Create a department and set its materialised path `/<ancestors>/<id>/`."""
    code = as_text(code, "code", 64)
    name = as_text(name, "name", 200)
    if parent is not None and parent.division_id != division.id:
        raise BaseError("上级部门必须属于同一事业部 / parent must be in the same division", "parent")
    if Department.get_or_none(Department.division == division, Department.code == code):
        raise Conflict(f"部门编码已存在 / department code {code!r} exists in this division",
                       "code")
    with atomic():
        serialise_tree_writes(LOCK_DEPARTMENT_TREE)
        if parent is not None:  # re-read: a concurrent move may have rewritten its path
            parent = Department.get_by_id(parent.id)
        dept = Department.create(division=division, code=code, name=name, parent=parent)
        dept.path = f"{parent.path if parent else '/'}{dept.id}/"
        dept.save()
    return dept


def move_department(dept: Department, new_parent: Department | None) -> Department:
    """Put `dept` (with its whole subtree) under `new_parent` (None: a root).

    Every path in the subtree is rewritten by one UPDATE that swaps the old prefix for the
    new one. Moving a department under itself or one of its descendants is refused."""
    with atomic():
        serialise_tree_writes(LOCK_DEPARTMENT_TREE)
        dept = Department.get_by_id(dept.id)
        if new_parent is not None:
            new_parent = Department.get_by_id(new_parent.id)
            if new_parent.division_id != dept.division_id:
                raise BaseError("上级部门必须属于同一事业部 / parent must be in the same division",
                                "parent_id")
            if new_parent.path.startswith(dept.path):
                raise BaseError("不能移到自身或下级部门之下 / cannot move a department under "
                                "itself or one of its descendants", "parent_id")
        old_path = dept.path
        new_path = f"{new_parent.path if new_parent else '/'}{dept.id}/"
        if new_path != old_path:
            (Department.update(path=pw.Value(new_path).concat(
                pw.fn.SUBSTR(Department.path, len(old_path) + 1)))
             .where(subtree_predicate(Department.path, old_path)).execute())
        Department.update(parent=new_parent.id if new_parent else None,
                          updated_at=utcnow()).where(Department.id == dept.id).execute()
    return Department.get_by_id(dept.id)


def update_department(dept: Department, changes: dict) -> Department:
    """Apply `name`, `code`, `active` and `parent_id` (a move) from `changes`."""
    with atomic():
        if "parent_id" in changes:
            parent_id = changes["parent_id"]
            parent = None if parent_id is None else get_department(parent_id, "parent_id")
            if (parent.id if parent else None) != dept.parent_id:
                dept = move_department(dept, parent)
        if "name" in changes:
            dept.name = as_text(changes["name"], "name", 200)
        if "code" in changes:
            code = as_text(changes["code"], "code", 64)
            clash = Department.get_or_none(Department.division == dept.division_id,
                                           Department.code == code, Department.id != dept.id)
            if clash:
                raise Conflict(f"部门编码已存在 / department code {code!r} exists", "code")
            dept.code = code
        if "active" in changes:
            dept.active = _bool(changes["active"], "active")
        dept.save()
    return dept


def _bool(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise BaseError(f"{field} 必须是布尔值 / {field} must be true or false", field)
    return value


def get_department(dept_id, field: str = "department_id") -> Department:
    dept = Department.get_or_none(Department.id == as_id(dept_id, field))
    if dept is None:
        raise BaseError(f"没有这个部门 / no department {dept_id}", field)
    return dept


def as_id(value, field: str) -> int:
    """A positive integer id from JSON or a query string (422 naming `field` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise BaseError(f"{field} 必须是正整数 / {field} must be a positive integer", field)
    return int(value)


# ---------------------------------------------------------------- users
def create_user(login: str, name: str, password: str | None = None, *, is_admin: bool = False,
                department: Department | None = None, manager: User | None = None,
                email: str | None = None, regions: Iterable[Region] = (),
                min_password_length: int = 10, check: bool = True) -> User:
    login = (login or "").strip()
    if not login or len(login) > 64 or any(c.isspace() for c in login):
        raise BaseError("登录名不能为空且不能含空格 / login must be 1-64 chars without spaces", "login")
    if User.get_or_none(User.login == login):
        raise Conflict(f"登录名已存在 / login {login!r} already exists", "login")
    if email is not None and not EMAIL_RE.match(email):
        raise BaseError("邮箱格式不正确 / malformed email address", "email")
    if password is not None and check:
        check_policy(password, min_password_length, login)
    with atomic():
        user = User.create(login=login, name=name or login, email=email, is_admin=is_admin,
                           department=department, manager=manager,
                           password_hash=hash_password(password) if password else None)
        for region in regions:
            UserRegion.create(user=user, region=region)
    return user


def set_active(user: User, active: bool) -> User:
    """Enable or disable a user. Disabling also ends every session of the user, so
    re-enabling later never revives a session that was open at the time."""
    from security.auth.sessions import revoke_all

    with atomic():
        user.active = active
        user.save()
        if not active:
            revoke_all(user, utcnow())
    return user


def set_password(user: User, password: str, min_length: int = 10) -> None:
    check_policy(password, min_length, user.login)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.save()


def subordinates_ids(user: User) -> list[int]:
    """Everyone below `user` in the manager chain (any depth)."""
    found, frontier = [], [user.id]
    while frontier:
        frontier = [u.id for u in User.select(User.id).where(User.manager.in_(frontier))
                    if u.id not in found]
        found.extend(frontier)
    return found


def set_manager(user: User, manager: User | None) -> User:
    """Make `manager` the user's manager, refusing a cycle (a user above themself)."""
    with atomic():
        serialise_tree_writes(LOCK_MANAGER_TREE)
        seen, cursor = set(), manager.id if manager else None
        while cursor is not None and cursor not in seen:
            if cursor == user.id:
                raise BaseError("上级关系不能形成循环 / the manager chain would form a cycle",
                                "manager_id")
            seen.add(cursor)
            cursor = User.select(User.manager).where(User.id == cursor).scalar()
        user.manager = manager
        user.save()
    return user


def set_regions(user: User, codes: Iterable[str]) -> list[Region]:
    """Replace the user's regions by the regions with these codes."""
    codes = list(codes)
    if not all(isinstance(c, str) for c in codes):
        raise BaseError("区域必须是编码列表 / regions must be a list of codes", "regions")
    regions = list(Region.select().where(Region.code.in_(codes)))
    unknown = sorted(set(codes) - {r.code for r in regions})
    if unknown:
        raise BaseError(f"未知区域 / unknown regions: {', '.join(unknown)}", "regions")
    with atomic():
        UserRegion.delete().where(UserRegion.user == user).execute()
        for region in regions:
            UserRegion.create(user=user, region=region)
    return regions


def update_user(user: User, changes: dict) -> User:
    """Apply `name`, `email`, `department_id`, `manager_id`, `regions` and `active`."""
    with atomic():
        if "name" in changes:
            user.name = as_text(changes["name"], "name", 100)
        if "email" in changes:
            email = as_text(changes["email"], "email", 200, required=False) or None
            if email is not None and not EMAIL_RE.match(email):
                raise BaseError("邮箱格式不正确 / malformed email address", "email")
            user.email = email
        if "department_id" in changes:
            dept_id = changes["department_id"]
            user.department = None if dept_id is None else get_department(dept_id)
        if "active" in changes:
            user.active = _bool(changes["active"], "active")
        user.save()
        if "manager_id" in changes:
            manager_id = changes["manager_id"]
            set_manager(user, None if manager_id is None else get_user(manager_id, "manager_id"))
        if "regions" in changes:
            if not isinstance(changes["regions"], list):
                raise BaseError("区域必须是编码列表 / regions must be a list of codes", "regions")
            set_regions(user, changes["regions"])
    return User.get_by_id(user.id)


def get_user(user_id, field: str = "user_id") -> User:
    user = User.get_or_none(User.id == as_id(user_id, field))
    if user is None:
        raise BaseError(f"没有这个用户 / no user {user_id}", field)
    return user


def region_codes(user: User) -> list[str]:
    return [r.code for r in Region.select(Region.code).join(UserRegion)
            .where(UserRegion.user == user).order_by(Region.sequence)]


# ---------------------------------------------------------------- roles
def assign_role(user: User, role_code: str, division: Division | None = None) -> UserRole:
    """Give `user` the catalogue role `role_code` in `division` (None: every division);
    assigning it twice is a no-op."""
    role = Role.get_or_none(Role.code == role_code)
    if role is None:
        raise BaseError(f"没有这个角色 / no role {role_code!r}", "role")
    found = UserRole.get_or_none(UserRole.user == user, UserRole.role == role,
                                 UserRole.division.is_null() if division is None
                                 else UserRole.division == division)
    if found is not None:
        return found
    from security.policy.watch import bump_version

    with atomic():
        link = UserRole.create(user=user, role=role, division=division)
        bump_version()  # cached role sets of every process are refreshed
    return link


# ---------------------------------------------------------------- records by (model, res_id)
def get_record(registry, model: str, res_id, ctx=None, op: str = "read"):
    """The row `res_id` of the registered model whose table is `model` (attachments and
    tags point at records this way). With a caller's `ctx` the record goes through the
    security door: the model right, and for business records the row scope — a record
    outside it is 404, exactly like a missing one."""
    if not isinstance(model, str) or not model:
        raise BaseError("model 不能为空 / model is required", "model")
    try:
        model_cls = registry.model(model)
    except KeyError:
        raise BaseError(f"未注册的模型 / unknown model {model!r}", "model") from None
    record_id = as_id(res_id, "res_id")
    if ctx is not None and ctx.user is not None:
        from security import crud, require

        if getattr(model_cls, "__scope__", None) or getattr(model_cls, "__scope_parent__", None):
            return crud.get_or_404(ctx, model_cls, record_id, op)
        require(ctx, op, f"model/{security_name(model_cls)}")
    row = model_cls.get_or_none(model_cls._meta.primary_key == record_id)
    if row is None:
        raise BaseError(f"记录不存在 / {model} has no record {res_id}", "res_id")
    return row


def security_name(model_cls) -> str:
    from security import model_name
    return model_name(model_cls)
