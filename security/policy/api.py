"""The door's decisions: `permissions(ctx)`, `can(ctx, act, resource)`, `require(...)`.

`permissions(ctx)` checks the policy version (at most once a second, or at once after a
NOTIFY), finds the caller's role set and division, and returns the compiled table from the
process-wide cache keyed by (db token, version, role set, division) — compiling it once on a
miss. The table is also memoised in `ctx.cache`, so a request resolves it once.
Contexts without a user: the system (`via` cli/job/import/system) may do everything;
anonymous web callers nothing.
"""
from __future__ import annotations

from security.policy.table import PermissionTable, Rule, empty_table, system_table
from security.policy.names import WILDCARD

CACHE_KEY = "security.permissions"
SYSTEM_VIAS = ("cli", "job", "import", "system")


def permissions(ctx) -> PermissionTable:
    """The compiled permission table of the caller (cached per process and per request)."""
    table = ctx.cache.get(CACHE_KEY)
    if table is None:
        table = ctx.cache[CACHE_KEY] = _resolve(ctx)
    return table


def can(ctx, act: str, resource: str) -> bool:
    """May the caller do `act` on `resource` (`model/lead`, `field/lead/phone`, ...)?"""
    table = ctx.cache.get(CACHE_KEY) or permissions(ctx)
    return table.allows(resource, act)


def require(ctx, act: str, resource: str) -> None:
    """`can` or raise 403 `forbidden`."""
    if not can(ctx, act, resource):
        from core.web.base import APIError
        raise APIError(403, f"没有权限 / forbidden: {act} on {resource}", code="forbidden")


def _resolve(ctx) -> PermissionTable:
    if ctx.user is None:
        return system_table() if ctx.via in SYSTEM_VIAS else empty_table()
    from security.policy.engine import get_enforcer
    from security.policy.subjects import effective
    from security.policy.watch import current_version, state_for

    state = state_for()
    token, version = current_version(state)
    held, (division_id, division_code) = _subjects(ctx, state, (token, version))
    roles = effective(held, division_code)
    key = (token, version, roles, division_code)
    table = state.tables.get(key)
    if table is None:
        with state.lock:
            table = state.tables.get(key)
            if table is None:
                table = compile_table(get_enforcer(state), roles, division_id, division_code, key)
                state.tables[key] = table
    return table


MAX_CACHED_SUBJECTS = 50_000


def _subjects(ctx, state, version_key: tuple) -> tuple[frozenset, tuple]:
    """The caller's held roles and division, cached per process until the policy version
    changes (role assignments bump it), so a warm request spends no query on them."""
    from security.policy.subjects import held_roles, resolve_division

    user = ctx.user
    key = (*version_key, user.id, bool(user.is_admin), user.department_id, ctx.division_id)
    found = state.subjects.get(key)
    if found is None:
        held = held_roles(user)
        found = (held, resolve_division(ctx, held))  # a 403 here is not cached
        if len(state.subjects) >= MAX_CACHED_SUBJECTS:
            state.subjects.clear()
        state.subjects[key] = found
    return found


def compile_table(enforcer, roles: frozenset, division_id, division_code,
                  key: tuple = ()) -> PermissionTable:
    """Read the rules of `roles` that apply in `division_code` from the enforcer's model."""
    held_in: dict[str, str] = {}
    for role, domain in roles:
        if held_in.get(role) != WILDCARD:
            held_in[role] = domain
    rules = []
    for role, where in sorted(held_in.items()):
        for sub, dom, obj, act, *_ in enforcer.get_filtered_policy(0, role):
            if dom == WILDCARD or dom == division_code:
                rules.append(Rule(sub, dom, obj, act, where))
    return PermissionTable(division_code=division_code, division_id=division_id,
                           held=roles, rules=rules, key=key)
