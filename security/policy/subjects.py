"""Who the caller is to the door: the roles they hold and the division they work in.

Roles come from `base_user_role` (division NULL = domain `*`, every division); an IT admin
(`User.is_admin`) holds `admin` in `*` without a row (see `security.policy.adapter`).
The caller's division: `ctx.division_id` when set (header `X-Division`; it must be a
division where they hold a role, else 403), else their department's division, else the
first division they hold a role in (for `*`-only holders: the first active division).
"""
from __future__ import annotations

import peewee as pw

from security.policy.adapter import ADMIN_ROLE
from security.policy.names import WILDCARD


def held_roles(user) -> frozenset[tuple[str, str]]:
    """`{(role code, division code or "*")}` the user holds."""
    from modules.base.models import Division, Role, UserRole

    query = (UserRole.select(Role.code, Division.code.alias("division_code"))
             .join(Role).switch(UserRole).join(Division, pw.JOIN.LEFT_OUTER)
             .where(UserRole.user == user.id).dicts())
    held = {(row["code"], row["division_code"] or WILDCARD) for row in query}
    if user.is_admin:
        held.add((ADMIN_ROLE, WILDCARD))
    return frozenset(held)


def resolve_division(ctx, held: frozenset) -> tuple[int | None, str | None]:
    """`(division id, code)` the caller acts in; raises 403 for a division they hold no
    role in."""
    from modules.base.models import Department, Division

    domains = {domain for _, domain in held}
    if ctx.division_id is not None:
        division = Division.get_or_none(Division.id == ctx.division_id)
        if division is None or not (WILDCARD in domains or division.code in domains):
            from core.web.base import APIError
            raise APIError(403, "您在该事业部没有角色 / you hold no role in division "
                                f"{ctx.division_id}", code="forbidden")
        return division.id, division.code
    user = ctx.user
    if user.department_id is not None:
        row = (Division.select(Division.id, Division.code).join(Department)
               .where(Department.id == user.department_id).first())
        if row is not None:
            return row.id, row.code
    query = Division.select(Division.id, Division.code).order_by(Division.id)
    named = sorted(domains - {WILDCARD})
    if named:
        query = query.where(Division.code.in_(named))
    elif WILDCARD in domains:
        query = query.where(Division.active == True)  # noqa: E712
    else:
        return None, None
    row = query.first()
    return (row.id, row.code) if row is not None else (None, None)


def effective(held: frozenset, division_code: str | None) -> frozenset:
    """The held roles that apply in `division_code`."""
    return frozenset((role, domain) for role, domain in held
                     if domain == WILDCARD or domain == division_code)
