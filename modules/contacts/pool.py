"""The public pool (公海) of accounts and customer protection (one owner per account).

An account whose owner is NULL lies in its division's pool. Callers holding the action right
`action/account.pool` (sales reps and managers by default) see the pool of the division they
work in — `pool_predicate` is OR-ed into account reads next to `security.scope` — and may
claim a pool account, which makes them its owner in one conditional UPDATE (two reps claiming
at once: exactly one wins, the other gets 409).

Claiming an account that someone owns answers 409; the owner's name is in
`fields.owner` only when the caller may read that account and its `owner` field (a manager
sees which of their reps holds it; a rep probing a colleague's account learns only that it
is taken). Accounts of other divisions, or that do not exist, answer 404.
"""
from __future__ import annotations

import peewee as pw

from core.db import atomic, utcnow
from core.web.base import APIError
from modules.base.models import User
from modules.contacts.models import Account
from security.crud import not_found, require_model
from security.masking import mask_name
from security.scopes import FALSE, any_of, scope

POOL_ACTION = "action/account.pool"


def may_use_pool(ctx) -> bool:
    import security

    return security.can(ctx, "execute", POOL_ACTION)


def pool_predicate(ctx) -> pw.Node:
    """Ownerless accounts of the caller's current division, for pool holders (else FALSE)."""
    import security

    if not may_use_pool(ctx):
        return FALSE
    division = security.permissions(ctx).division_id
    if division is None:
        return FALSE
    return Account.owner.is_null() & (Account.division == division)


def readable(ctx) -> pw.Node:
    """Accounts the caller may read: their row scope OR the pool they may browse."""
    return any_of([scope(ctx, Account, "read"), pool_predicate(ctx)])


def _owner_label(ctx, account_id: int, owner_id: int) -> str | None:
    """The owner's name as the caller may see it on this account (None: not at all)."""
    import security

    if not Account.select(Account.id).where(
            (Account.id == account_id) & scope(ctx, Account, "read")).exists():
        return None
    level = security.permitted_fields(ctx, Account, "read").level("owner")
    if level == "hidden":
        return None
    name = User.select(User.name).where(User.id == owner_id).scalar()
    return mask_name(name) if level == "masked" and name else name


def claim(ctx, account_id: int) -> int:
    """Make the caller the owner of pool account `account_id`; returns its id.

    Already the caller's: no change. Owned by another: 409 (owner named only if the caller
    may read it). Not in the caller's division or missing: 404."""
    import security

    require_model(ctx, Account, "read")
    security.require(ctx, "execute", POOL_ACTION)
    if ctx.user is None:
        raise APIError(422, "系统不能认领客户 / the system cannot claim accounts")
    division = security.permissions(ctx).division_id
    with atomic():
        taken = (Account.update(owner=ctx.user.id, updated_at=utcnow())
                 .where((Account.id == account_id) & Account.owner.is_null()
                        & (Account.division == division)).execute())
        if taken:
            _audit(ctx, "claim", account_id, None, ctx.user.id, division)
            return account_id
        row = (Account.select(Account.owner).where(
            (Account.id == account_id) & (Account.division == division)).first())
    if row is None:
        raise not_found(Account, account_id)
    if row.owner_id == ctx.user.id:
        return account_id
    label = _owner_label(ctx, account_id, row.owner_id)
    message = "该客户已有负责人 / this account already has an owner"
    raise APIError(409, message + (f": {label}" if label else ""), code="owned",
                   fields={"owner": label} if label else {})


def release(ctx, account_id: int) -> int:
    """Put an account the caller may write back into its division's pool (owner NULL)."""
    import security
    from modules.contacts.common import refuse

    require_model(ctx, Account, "update")
    security.require(ctx, "execute", POOL_ACTION)
    # Releasing is not an owner *edit*: reps, who may not reassign accounts (owner is
    # read-only for them), may still give up their own. The write scope is the guard.
    with atomic():
        row = Account.select(Account.owner, Account.division).where(
            (Account.id == account_id) & scope(ctx, Account, "write")).first()
        changed = row is not None and (
            Account.update(owner=None, updated_at=utcnow())
            .where((Account.id == account_id) & scope(ctx, Account, "write")).execute())
        if not changed:
            raise refuse(ctx, Account, account_id)
        _audit(ctx, "release", account_id, row.owner_id, None, row.division_id)
    return account_id


def _audit(ctx, action: str, account_id: int, old, new, division_id) -> None:
    """One audit entry per change of hands (`claim` / `release`)."""
    from security import audit

    audit.record(ctx, action, model=Account._meta.table_name, res_id=account_id,
                 details={"changes": {"owner": {"old": old, "new": new}}},
                 division_id=division_id)
