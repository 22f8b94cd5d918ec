"""Row scopes compiled to SQL: which records of a model the caller may read or write.

A business model declares where its scope columns are (class attributes):

    __scope__ = {"owner": "owner", "division": "division", "region": "region"}  # any may be absent
    __scope_parent__ = "account"   # children follow the parent record's scope

and should index `(division, owner)` (`Meta.indexes`): the own/subordinates predicates
then run on that index, already in id order.

Levels (narrowest to widest): `none`, `own` (owner is me), `subordinates` (owner is me or
below me in the manager chain — a recursive CTE), `department` (owner in my department),
`department_subtree` (owner anywhere under my department — one materialised-path predicate),
`region` (record region among my regions), `division` (any record of the division), `all`
(no row filter; held through a `*` domain by a `*` rule it spans every division). Every
level from `own` upwards includes the caller's own records. A level that needs a column the
model lacks grants nothing beyond what the other columns allow (no owner → no own records).
Models without a division column are not split by division.

Children (`__scope_parent__`) follow the parent's scope for the same op: `parent IN (parents
in scope)`, recursively (activity → contact → account). Rows whose parent is NULL follow the
child's own `__scope__` if it declares one, else nobody sees them.

`compile_scope(ctx, Model, level, division_id)` is the pure level → SQL step;
`scope(ctx, Model, op)` applies it to the caller's level (`security.permissions(ctx)`: the
widest across the roles that apply in the current division), within the current division,
inherits a parent's scope, and ORs in record shares (`security.shares`). The result is a
peewee expression with subqueries — nothing is filtered in Python — cached per request; the
subqueries' SQL text is rendered once per process (`security.fragments`).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce

import peewee as pw

from modules.base.models import Department, User, UserRegion
from security.fragments import subquery
from security.policy.names import SCOPE_LEVELS, model_name

TRUE = pw.SQL("1 = 1")
FALSE = pw.SQL("1 = 0")
READ_OPS = ("read", "get", "list", "count", "search", "export")
WRITE_OPS = ("write", "update", "delete")


def scope_op(op: str) -> str:
    """The scope an operation needs: `read` (list, get, count, search, export) or `write`
    (update, delete)."""
    if op in READ_OPS:
        return "read"
    if op in WRITE_OPS:
        return "write"
    raise ValueError(f"unknown scope operation {op!r}")


def any_of(terms) -> pw.Node:
    """OR of expressions, folding the TRUE/FALSE constants away."""
    kept = []
    for term in terms:
        if term is None or term is FALSE:
            continue
        if term is TRUE:
            return TRUE
        kept.append(term)
    return reduce(operator.or_, kept) if kept else FALSE


def both(left, right) -> pw.Node:
    """AND of two expressions, folding the constants."""
    if left is FALSE or right is FALSE:
        return FALSE
    if left is TRUE:
        return right
    if right is TRUE:
        return left
    return left & right


class _InSubquery(pw.Expression):
    """`lhs IN (subquery)`. peewee renders an IN's right side a second time only to see
    whether it is the empty list `()`; for nested scopes (children of children) that makes
    compiling quadratic. A subquery is never that empty list."""

    def _is_rhs_empty(self, rhs, ctx):
        return False


def in_subquery(lhs, query: pw.Select) -> pw.Expression:
    return _InSubquery(lhs, pw.OP.IN, query)


# ------------------------------------------------------------------ the caller's org facts
@dataclass(frozen=True)
class OrgFacts:
    """Where the caller sits (from the authenticated user row, no query)."""

    user_id: int | None
    department_id: int | None


def org_facts(ctx) -> OrgFacts:
    user = ctx.user
    if user is None:
        return OrgFacts(None, None)
    return OrgFacts(user.id, user.department_id)


def department_path(ctx) -> str | None:
    """The caller's department path `/1/4/9/` (one query, once per request)."""
    def build():
        dept_id = org_facts(ctx).department_id
        if dept_id is None:
            return None
        return Department.select(Department.path).where(Department.id == dept_id).scalar()

    return ctx.cached("security.department_path", build)


def subordinates_query(user_id) -> pw.Select:
    """Ids of everyone below `user_id` in the manager chain (any depth), as a recursive CTE
    subquery; `UNION` (not ALL) makes it stop on a cyclic chain."""
    base = (User.select(User.id).where(User.manager == user_id)
            .cte("security_subordinates", recursive=True, columns=("id",)))
    below = User.alias("security_sub_user")
    cte = base.union(below.select(below.id).join(base, on=(below.manager == base.c.id)))
    return cte.select_from(cte.c.id)


def department_users(department_id) -> pw.Select:
    return User.select(User.id).where(User.department == department_id)


def subtree_users(path: str) -> pw.Select:
    """Users whose department lies under `path` (one indexed path predicate)."""
    from modules.base.services import subtree_predicate

    dept = Department.alias("security_scope_dept")
    return (User.select(User.id).join(dept, on=(User.department == dept.id))
            .where(subtree_predicate(dept.path, path)))


def region_ids(user_id) -> pw.Select:
    return UserRegion.select(UserRegion.region).where(UserRegion.user == user_id)


# ------------------------------------------------------------------ compilation
def scope_columns(model) -> dict[str, pw.Field]:
    """The model's declared scope columns `{"owner"|"division"|"region": field}`."""
    declared = getattr(model, "__scope__", None) or {}
    unknown = set(declared) - {"owner", "division", "region"}
    if unknown:
        raise ValueError(f"{model.__name__}.__scope__ has unknown keys {sorted(unknown)}")
    fields = model._meta.fields
    try:
        return {key: fields[column] for key, column in declared.items() if column}
    except KeyError as exc:
        raise ValueError(f"{model.__name__}.__scope__ names no field {exc.args[0]!r}") from None


def level_predicate(ctx, model, level: str, columns: dict | None = None) -> pw.Node:
    """The row predicate of one level, before any division restriction (over `columns`:
    the model's scope columns unless given, e.g. a child's mirrors of them)."""
    if level not in SCOPE_LEVELS:
        raise ValueError(f"unknown scope level {level!r}")
    if level in ("division", "all"):
        return TRUE
    if level == "none":
        return FALSE
    org = org_facts(ctx)
    if org.user_id is None:
        return FALSE
    columns = scope_columns(model) if columns is None else columns
    owner, region = columns.get("owner"), columns.get("region")
    own = owner == org.user_id if owner is not None else FALSE
    if level == "own":
        return own
    if level == "region":
        mine = (in_subquery(region, subquery(("regions",), region_ids, [org.user_id]))
                if region is not None else None)
        return any_of([own, mine])
    if owner is None:
        return FALSE
    if level == "subordinates":
        return own | in_subquery(owner, subquery(("subordinates",), subordinates_query,
                                                 [org.user_id]))
    path = department_path(ctx) if org.department_id is not None else None
    if path is None:
        return own
    if level == "department":
        return own | in_subquery(owner, subquery(("department_users",), department_users,
                                                 [org.department_id]))
    # department_subtree: the path is part of the text (its LIKE pattern must be a constant
    # for the index to serve it), so each department has its own cached text
    return own | in_subquery(owner, subquery(("subtree_users", path),
                                             lambda: subtree_users(path), []))


def compile_scope(ctx, model, level: str, division_id: int | None,
                  columns: dict | None = None) -> pw.Node:
    """Records of `model` that `level` grants the caller within division `division_id`
    (None: in every division). Models without a division column are not split by division.
    `columns` (default: the model's scope columns) lets a child apply its parent's rules to
    its mirrors of the parent's columns (`security.mirrors`)."""
    columns = scope_columns(model) if columns is None else columns
    predicate = level_predicate(ctx, model, level, columns)
    division = columns.get("division")
    if division_id is None or division is None or predicate is FALSE:
        return predicate
    return both(division == division_id, predicate)


NESTED_UNDER = {  # a level makes these narrower ones redundant
    "subordinates": {"own"},
    "department": {"own"},
    "department_subtree": {"own", "department"},
    "region": {"own"},
}


def effective_levels(levels: frozenset) -> list[str]:
    """The roles' levels with the redundant ones dropped, in a stable order."""
    names = {level for level, _ in levels}
    for wide in ("all", "division"):
        if wide in names:
            return [wide]
    for wide, narrower in NESTED_UNDER.items():
        if wide in names:
            names -= narrower
    return sorted(names)


def _own_scope(ctx, model, op: str, columns: dict | None = None) -> pw.Node:
    """The model's rows the caller's roles grant: the union of every applying role's level
    (`security.permissions`) within the current division — or everything when `all` comes
    from a cross-division role (held in `*` by a `*` rule). Levels that do not nest
    (subordinates, region) are OR-ed rather than reduced to one "widest" level."""
    import security

    table = security.permissions(ctx)
    levels = table.scope_levels(model_name(model), op)
    if not levels:
        return FALSE
    if ("all", True) in levels:
        return TRUE
    columns = scope_columns(model) if columns is None else columns
    if table.division_id is None and "division" in columns:
        return FALSE  # no current division: no division's records
    return any_of([compile_scope(ctx, model, level, table.division_id, columns)
                   for level in effective_levels(levels)])


def _parent_scope(ctx, model, op: str, parent_name: str) -> pw.Node:
    """Children follow their parent: `parent IN (parents in scope)`; rows without a parent
    follow the child's own `__scope__` when it declares one, else nobody's."""
    field = model._meta.fields.get(parent_name)
    if not isinstance(field, pw.ForeignKeyField):
        raise ValueError(f"{model.__name__}.__scope_parent__ = {parent_name!r} is not a "
                         "foreign key")
    parent = field.rel_model
    parent_scope = scope(ctx, parent, op)
    own = _own_scope(ctx, model, op) if getattr(model, "__scope__", None) else FALSE
    if parent_scope is TRUE:
        if own is TRUE:
            return TRUE
        inherited = field.is_null(False)
    elif parent_scope is FALSE:
        inherited = FALSE
    elif _mirrored(model, parent):
        inherited = _through_mirrors(ctx, model, op, field)
    else:
        inherited = in_subquery(field, parent.select(parent._meta.primary_key)
                                .where(parent_scope))
    return any_of([inherited, both(field.is_null(), own)])


def _mirrored(model, parent) -> bool:
    """Does `model` mirror all of its parent's scope columns (and the parent has no parent
    of its own, so its scope is its own rules plus its shares)?"""
    from security.mirrors import mirror_fields

    mirrors = mirror_fields(model)
    return bool(mirrors) and set(mirrors) == set(scope_columns(parent)) \
        and not getattr(parent, "__scope_parent__", None)


def _through_mirrors(ctx, model, op: str, field: pw.ForeignKeyField) -> pw.Node:
    """The parent's scope on the child's rows without a subquery over the parent: the
    parent's own rules applied to the child's mirror columns, OR the parent's record shares
    by parent id — the same rows as `parent IN (parents in scope)`."""
    from security.mirrors import mirror_fields
    from security.shares import share_predicate

    parent = field.rel_model
    return any_of([_own_scope(ctx, parent, op, mirror_fields(model)),
                   share_predicate(ctx, parent, op, column=field)])


def scope(ctx, model, op: str = "read") -> pw.Node:
    """The caller's row scope on `model` for `op` as one peewee expression (cached per
    request): the role-granted rows (or the parent's scope), OR record shares."""
    from security.shares import share_predicate

    op = scope_op(op)

    def build():
        parent_name = getattr(model, "__scope_parent__", None)
        rows = (_parent_scope(ctx, model, op, parent_name) if parent_name
                else _own_scope(ctx, model, op))
        if rows is TRUE:
            return TRUE
        return any_of([rows, share_predicate(ctx, model, op)])

    return ctx.cached(("security.scope", model_name(model), op), build)
