"""The division a page acts in (事业部切换).

The door decides rights per division (Casbin domain). The API takes the `X-Division` header;
pages take the `huike_division` cookie, set by `GET /division/<id>?next=...`. A user who holds
roles in several divisions (or in `*`, every division) gets a switcher in the header; everyone
else acts in their default division (see `security.policy.subjects.resolve_division`). A
cookie naming a division the user no longer holds a role in is ignored, never a 403 loop."""
from __future__ import annotations

from modules.base.models import Division
from security.policy.names import WILDCARD
from security.policy.subjects import held_roles

DIVISION_COOKIE = "huike_division"


def choices(user) -> list[tuple[int, str]]:
    """`[(division id, name)]` the user may act in (active divisions, by id)."""
    domains = {domain for _role, domain in held_roles(user)}
    query = Division.select(Division.id, Division.name).where(Division.active == True)  # noqa: E712
    if WILDCARD not in domains:
        named = sorted(domains - {WILDCARD})
        if not named:
            return []
        query = query.where(Division.code.in_(named))
    return [(row.id, row.name) for row in query.order_by(Division.id)]


def chosen(cookie: str | None, options: list[tuple[int, str]]) -> int | None:
    """The cookie's division id when it is one of `options`, else None (the default)."""
    if cookie and cookie.isascii() and cookie.isdigit():
        wanted = int(cookie)
        if any(division_id == wanted for division_id, _name in options):
            return wanted
    return None
