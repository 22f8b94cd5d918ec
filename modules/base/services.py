"""Business rules of the org tree and users. Functions take `ctx` first where a caller acts."""
from __future__ import annotations

from typing import Iterable

from core.db import atomic, utcnow
from modules.base.models import Company, Department, Division, Region, User, UserRegion
from security.passwords import check_policy, hash_password


class BaseError(ValueError):
    """A rule of the base module was violated; `field` names the offending input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def ensure_company(name: str = "汇客示例集团") -> Company:
    company = Company.select().order_by(Company.id).first()
    return company or Company.create(name=name)


def create_division(code: str, name: str, company: Company | None = None) -> Division:
    if Division.get_or_none(Division.code == code):
        raise BaseError(f"事业部编码已存在 / division code {code!r} exists", "code")
    return Division.create(company=company or ensure_company(), code=code, name=name)


def create_department(division: Division, code: str, name: str,
                      parent: Department | None = None) -> Department:
    """Create a department and set its materialised path `/<ancestors>/<id>/`."""
    if parent is not None and parent.division_id != division.id:
        raise BaseError("上级部门必须属于同一事业部 / parent must be in the same division", "parent")
    with atomic():
        dept = Department.create(division=division, code=code, name=name, parent=parent)
        dept.path = f"{parent.path if parent else '/'}{dept.id}/"
        dept.save()
    return dept


def subtree(dept: Department):
    """Departments in `dept`'s subtree (itself included) as one indexed predicate."""
    return Department.path.startswith(dept.path)


def create_user(login: str, name: str, password: str | None = None, *, is_admin: bool = False,
                department: Department | None = None, manager: User | None = None,
                email: str | None = None, regions: Iterable[Region] = (),
                min_password_length: int = 10, check: bool = True) -> User:
    login = (login or "").strip()
    if not login or len(login) > 64 or any(c.isspace() for c in login):
        raise BaseError("登录名不能为空且不能含空格 / login must be 1-64 chars without spaces", "login")
    if User.get_or_none(User.login == login):
        raise BaseError(f"登录名已存在 / login {login!r} already exists", "login")
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
    user.active = active
    user.save()
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
