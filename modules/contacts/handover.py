"""离职交接 — hand a departing user's records over to one or more colleagues.

Providers come from the hook `register_handover(registry)` (this module: accounts and open
tasks; opportunities and leads register theirs). A provider has `label`,
`count(ctx, from_user) -> int` and `move(ctx, from_user, assign) -> [(model, id, to_user)]`,
where `assign(record) -> User` picks the receiver: round-robin over the receivers, except that
records of one account go to one receiver (the account's new owner when the account moved
too), so a customer's opportunities and tasks stay with whoever took the customer.

`execute` runs in one transaction: every provider moves its records, one audit entry
`handover` per moved record (`details = {from, to, from_login, to_login, kind}`), then the
departing user is disabled (audited as an update of `base_user`). Any failure rolls it all back.

Who may: the right `execute action/handover`, and then an administrator (or the system, for
the CLI) or a manager above the departing user in the manager chain; a manager hands over
only to themselves or people below them. Authorisation is on the person, so providers move
every record of the departing user (also ones outside the caller's row scope).
"""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError
from modules.base.models import User
from modules.base.services import subordinates_ids
from modules.contacts.common import as_pk
from modules.contacts.models import Account, Task

ACTION = "action/handover"


class Assigner:
    """Round-robin over receivers, sticky per account."""

    def __init__(self, receivers: list[User]):
        self.receivers = receivers
        self.turn = 0
        self.by_account: dict[int, User] = {}
        self.counts: dict[int, int] = {user.id: 0 for user in receivers}

    def __call__(self, record) -> User:
        if isinstance(record, Account):
            account_id = record.id
        else:
            account_id = getattr(record, "account_id", None)
        user = self.by_account.get(account_id) if account_id is not None else None
        if user is None:
            user = self.receivers[self.turn % len(self.receivers)]
            self.turn += 1
            if account_id is not None:
                self.by_account[account_id] = user
        self.counts[user.id] += 1
        return user


def move_rows(model, rows: list, column: str, assign) -> list[tuple]:
    """Give each row to `assign(row)` with one UPDATE per receiver; `[(model, id, user)]`."""
    groups: dict[int, list[int]] = {}
    receivers: dict[int, User] = {}
    moved = []
    for row in rows:
        user = assign(row)
        receivers[user.id] = user
        groups.setdefault(user.id, []).append(row.id)
        moved.append((model, row.id, user))
    field = model._meta.fields[column]
    for user_id, ids in groups.items():
        values = {field: user_id}
        if "updated_at" in model._meta.fields:
            from core.db import utcnow
            values[model._meta.fields["updated_at"]] = utcnow()
        model.update(values).where(model._meta.primary_key.in_(ids)).execute()
    return moved


class AccountsProvider:
    """Every account the departing user owns (their contacts follow the account)."""

    label = "accounts"

    def count(self, ctx, from_user) -> int:
        return Account.select().where(Account.owner == from_user.id).count()

    def move(self, ctx, from_user, assign) -> list[tuple]:
        rows = list(Account.select(Account.id).where(Account.owner == from_user.id)
                    .order_by(Account.id))
        return move_rows(Account, rows, "owner", assign)


class TasksProvider:
    """The departing user's open tasks (done ones stay as history)."""

    label = "tasks"

    def _open(self, from_user):
        return Task.select(Task.id, Task.account).where(
            (Task.assignee == from_user.id) & Task.done_at.is_null())

    def count(self, ctx, from_user) -> int:
        return self._open(from_user).count()

    def move(self, ctx, from_user, assign) -> list[tuple]:
        return move_rows(Task, list(self._open(from_user).order_by(Task.id)), "assignee", assign)


def providers(registry) -> list:
    return registry.cached("contacts.handover_providers",
                           lambda: registry.collect_list("register_handover", registry=registry))


# ------------------------------------------------------------------ who and to whom
def find_user(ref, field: str) -> User:
    """A user by id or login (422 naming `field`)."""
    text = str(ref).strip() if isinstance(ref, (str, int)) and not isinstance(ref, bool) else ""
    user = None
    if text:
        user = User.get_or_none(User.login == text)
        if user is None and as_pk(text) is not None:
            user = User.get_or_none(User.id == as_pk(text))
    if user is None:
        raise APIError(422, f"没有这个用户 / no user {ref!r}", code="validation_failed",
                       fields={field: "没有这个用户 / no such user"})
    return user


def _parties(from_ref, to_refs) -> tuple[User, list[User]]:
    if isinstance(to_refs, str):
        to_refs = [part for part in to_refs.split(",") if part.strip()]
    if not isinstance(to_refs, list) or not to_refs:
        raise APIError(422, "请指定接收人 / give at least one receiving user",
                       code="validation_failed", fields={"to": "必填 / required"})
    source = find_user(from_ref, "from")
    receivers: list[User] = []
    for ref in to_refs:
        user = find_user(ref, "to")
        if user.id == source.id:
            raise APIError(422, "接收人不能是离职人 / cannot hand over to the departing user",
                           code="validation_failed", fields={"to": "离职人 / departing user"})
        if not user.active:
            raise APIError(422, f"接收人已停用 / receiving user {user.login} is disabled",
                           code="validation_failed", fields={"to": f"{user.login}: disabled"})
        if user.id not in [r.id for r in receivers]:
            receivers.append(user)
    return source, receivers


def _is_admin(ctx) -> bool:
    import security

    return ctx.is_admin or any(role == "admin" for role, _ in security.permissions(ctx).held)


def authorise(ctx, source: User, receivers: list[User]) -> None:
    """403 unless the caller may hand over `source`'s records to `receivers`."""
    import security

    security.require(ctx, "execute", ACTION)
    if ctx.user is not None and source.id == ctx.user.id:
        raise APIError(422, "不能交接自己的记录 / you cannot hand over your own records",
                       code="validation_failed", fields={"from": "yourself"})
    if ctx.user is None or _is_admin(ctx):
        return
    team = set(subordinates_ids(ctx.user))
    if source.id not in team:
        raise APIError(403, "只有管理员或其上级可以办理交接 / only an administrator or a manager "
                       "of the departing user may hand over their records", code="forbidden")
    outside = [u.login for u in receivers if u.id != ctx.user.id and u.id not in team]
    if outside:
        raise APIError(403, "只能交接给自己或下属 / you may hand over only to yourself or your "
                       "team: " + ", ".join(outside), code="forbidden",
                       fields={"to": ", ".join(outside)})


def _person(user: User) -> dict:
    return {"id": user.id, "login": user.login, "name": user.name, "active": user.active}


# ------------------------------------------------------------------ preview and execute
def preview(ctx, from_ref, to_refs) -> dict:
    """What a handover would move: counts per provider (nothing is changed)."""
    source, receivers = _parties(from_ref, to_refs)
    authorise(ctx, source, receivers)
    counts = [{"label": p.label, "count": p.count(ctx, source)} for p in providers(ctx.registry)]
    return {"from": _person(source), "to": [_person(u) for u in receivers], "counts": counts,
            "total": sum(c["count"] for c in counts)}


def _table(model) -> str:
    return model._meta.table_name if hasattr(model, "_meta") else str(model)


def execute(ctx, from_ref, to_refs) -> dict:
    """Move every record of the departing user, audit each, disable the user."""
    from modules.base.services import set_active
    from security import audit

    source, receivers = _parties(from_ref, to_refs)
    authorise(ctx, source, receivers)
    assign = Assigner(receivers)
    moved_counts = []
    with atomic():
        for provider in providers(ctx.registry):
            moved = provider.move(ctx, source, assign) or []
            for model, res_id, to_user in moved:
                audit.record(ctx, "handover", model=_table(model), res_id=res_id,
                             details={"from": source.id, "to": to_user.id,
                                      "from_login": source.login, "to_login": to_user.login,
                                      "kind": provider.label})
            moved_counts.append({"label": provider.label, "count": len(moved)})
        was_active = source.active
        set_active(source, False)
        audit.record(ctx, audit.UPDATE, model=User._meta.table_name, res_id=source.id,
                     details={"changes": {"active": {"old": was_active, "new": False}},
                              "reason": "handover"})
    per_receiver = {u.login: assign.counts[u.id] for u in receivers}
    return {"from": _person(source), "to": [_person(u) for u in receivers],
            "counts": moved_counts, "total": sum(c["count"] for c in moved_counts),
            "per_receiver": per_receiver, "disabled": True}
