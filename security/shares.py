"""Record shares: one record opened to a user or a department (optionally its subtree), for
reading or writing, beyond the row scope the caller's roles give.

Shares are OR-ed into `security.scope(ctx, Model, op)` as one SQL subquery on
`security_share`; a `write` share implies read. Sharing a record needs the record to be in
the sharer's own write scope (else 404), so a share never widens what the sharer controls.
"""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, atomic, database, utcnow
from core.web.base import APIError
from modules.base.models import Department, User
from security.fragments import rendered, subquery
from security.policy.names import model_name

PERMS = ("read", "write")


class Share(BaseModel):
    """`model` is the security name (`model_name(Model)`); exactly one of user/department."""

    model = pw.CharField(max_length=64)
    res_id = pw.BigIntegerField()
    user = pw.ForeignKeyField(User, null=True, on_delete="CASCADE")
    department = pw.ForeignKeyField(Department, null=True, on_delete="CASCADE")
    subtree = pw.BooleanField(default=False)
    perm = pw.CharField(max_length=8, default="read")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "security_share"
        indexes = (
            (("model", "res_id"), False),
            (("model", "user", "perm"), False),
            (("model", "department", "perm"), False),
        )


MODELS = [Share]


def _targets(user_id, department_id=None):
    """Shares reaching a user: to them, to their department, or to a department above it
    with `subtree` (found in SQL: a department whose path prefixes the user's)."""
    targets = Share.user == user_id
    if department_id is not None:
        mine = Department.alias("security_share_mine")
        above = Department.alias("security_share_above")
        ancestors = (Department.select(above.id).from_(above, mine)
                     .where((mine.id == department_id)
                            & (pw.fn.SUBSTR(mine.path, 1, pw.fn.LENGTH(above.path))
                               == above.path)))
        targets |= (Share.department == department_id) | (
            (Share.subtree == True) & Share.department.in_(ancestors))  # noqa: E712
    return targets


def _values(ctx) -> list:
    user = ctx.user
    return [user.id] + ([user.department_id] if user.department_id is not None else [])


def shared_perms(ctx) -> dict[str, frozenset[str]]:
    """`{model name: {perms}}` of the shares reaching the caller — one query per request, so
    scopes skip the share subquery (and keep their index-only plan) for models nobody
    shared with the caller."""
    def build():
        if ctx.user is None:
            return {}
        values = _values(ctx)
        sql, params = rendered(
            ("shared_perms", len(values)),
            lambda *slots: Share.select(Share.model, Share.perm).distinct().where(
                _targets(*slots)), values)
        found: dict[str, set] = {}
        for model, perm in database.execute_sql(sql, params).fetchall():
            found.setdefault(model, set()).add(perm)
        return {model: frozenset(perms) for model, perms in found.items()}

    return ctx.cached("security.shared_perms", build)


def share_predicate(ctx, model, op: str, column: pw.Field | None = None):
    """`Model.id IN (rows shared with the caller)` for op `read` (read or write shares) or
    `write`; None when no share of this model reaches the caller. `column` (default the
    primary key) is what is compared: a child's foreign key to `model` gives its children."""
    from security.scopes import in_subquery

    name = model_name(model)
    perms = PERMS if op == "read" else ("write",)
    if not set(perms) & shared_perms(ctx).get(name, frozenset()):
        return None
    values = _values(ctx)

    def build(name_slot, *slots):
        return (Share.select(Share.res_id)
                .where((Share.model == name_slot) & Share.perm.in_(perms) & _targets(*slots)))

    shared = subquery(("shares", op, len(values)), build, [name, *values])
    return in_subquery(column if column is not None else model._meta.primary_key, shared)


def _check_target(user, department, perm: str) -> None:
    if perm not in PERMS:
        raise APIError(400, f"共享权限只能是 read 或 write / perm must be read or write, got {perm!r}",
                       fields={"perm": "invalid"})
    if (user is None) == (department is None):
        raise APIError(400, "请指定一个用户或一个部门 / give exactly one of user, department",
                       fields={"user": "one of", "department": "one of"})


def share(ctx, model, res_id: int, *, user=None, department=None, perm: str = "read",
          subtree: bool = False) -> Share:
    """Share record `res_id` of `model` with a user or a department (`subtree`: and every
    department below it). Sharing again with the same target updates the share."""
    from security.crud import get_or_404

    _check_target(user, department, perm)
    get_or_404(ctx, model, res_id, "write")
    user_id = getattr(user, "id", user)
    department_id = getattr(department, "id", department)
    name = model_name(model)
    with atomic():
        row = Share.get_or_none(Share.model == name, Share.res_id == res_id,
                                Share.user == user_id, Share.department == department_id)
        if row is None:
            row = Share(model=name, res_id=res_id, user=user_id, department=department_id)
        row.perm, row.subtree, row.created_by = perm, bool(subtree and department_id), ctx.user_id
        row.created_at = ctx.now()
        row.save()
    return row


def unshare(ctx, model, res_id: int, *, user=None, department=None) -> int:
    """Remove the share of `res_id` with that user or department; returns rows removed."""
    from security.crud import get_or_404

    _check_target(user, department, "read")
    get_or_404(ctx, model, res_id, "write")
    return (Share.delete()
            .where((Share.model == model_name(model)) & (Share.res_id == res_id)
                   & (Share.user == getattr(user, "id", user))
                   & (Share.department == getattr(department, "id", department)))
            .execute())


def shares_of(ctx, model, res_id: int) -> list[dict]:
    """Who a record (in the caller's read scope) is shared with."""
    from security.crud import get_or_404

    get_or_404(ctx, model, res_id, "read")
    rows = (Share.select().where((Share.model == model_name(model)) & (Share.res_id == res_id))
            .order_by(Share.id))
    return [{"id": r.id, "user": r.user_id, "department": r.department_id, "perm": r.perm,
             "subtree": r.subtree, "created_by": r.created_by_id,
             "created_at": r.created_at.isoformat()} for r in rows]
