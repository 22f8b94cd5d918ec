"""Appending to the audit chain: `record`, `record_change`, `snapshot`.

An append runs in the caller's transaction (a savepoint inside it, or its own transaction
when none is open), so the entry commits or rolls back with the change it describes. On
PostgreSQL inside an open transaction it takes no savepoint: its only write is one atomic
statement (`security.audit.append_sql`), so it cannot half-happen.

Serialising the chain: every append first locks the single chain-head row, then reads the
previous `seq`/`hash` from it, inserts the entry and moves the head.

* PostgreSQL: `SELECT … FOR UPDATE` on the head row. Under READ COMMITTED a second appender
  blocks there until the first transaction ends and then reads the head as committed.
* SQLite: a write statement on the head row comes first (a no-op `UPDATE`), so the database
  write lock is held *before* the head is read. If the transaction is new, that first write
  waits on the busy timeout like `BEGIN IMMEDIATE`. If the caller's transaction has already
  written, it already holds the write lock. If it has only *read* (a deferred transaction
  with an older snapshot) and another connection committed since, SQLite refuses the
  upgrade ("database is locked") instead of writing on a stale head: the append fails, the
  chain never forks.

The head lock is held until the caller's transaction ends, so keep audited transactions
short: every audited write in the install queues on it.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from core.db import atomic, in_transaction, is_postgres
from security.audit import append_sql
from security.audit.chain import (
    GENESIS, entry_hash, mask_sensitive, normalise_details, normalise_time,
)
from security.audit.models import HEAD_ID, AuditEntry, AuditHead

CREATE, UPDATE, DELETE = "create", "update", "delete"
READ_SENSITIVE, REVEAL = "read_sensitive", "reveal"
LOGIN, LOGIN_FAILED, LOGOUT = "login", "login_failed", "logout"
PERMISSION_CHANGE, EXPORT = "permission_change", "export"
KNOWN_ACTIONS = (CREATE, UPDATE, DELETE, READ_SENSITIVE, REVEAL, LOGIN, LOGIN_FAILED, LOGOUT,
                 PERMISSION_CHANGE, EXPORT)
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def ensure_head() -> None:
    """Create the head row, continuing from the last entry if entries already exist."""
    last = AuditEntry.select(AuditEntry.seq, AuditEntry.hash).order_by(
        AuditEntry.seq.desc()).first()
    AuditHead.insert(id=HEAD_ID, seq=last.seq if last else 0,
                     hash=last.hash if last else GENESIS).on_conflict_ignore().execute()


def _lock_head() -> tuple[int, str]:
    """Take the chain lock (see module doc) and return the current head's (seq, hash)."""
    for _ in range(2):
        head = append_sql.lock_head()
        if head is not None:
            return head
        ensure_head()
    raise RuntimeError("审计链头缺失 / audit chain head could not be created")


def _append(fields: dict) -> AuditEntry:
    """Lock the head, chain `fields` onto it, insert the entry and move the head."""
    seq, prev_hash = _lock_head()
    fields["seq"], fields["prev_hash"] = seq + 1, prev_hash
    fields["hash"] = entry_hash(fields)
    pk = append_sql.append(fields)
    return AuditEntry(id=pk, **fields)


def _actor(ctx) -> tuple[int | None, str]:
    user = getattr(ctx, "user", None)
    if user is None:
        return None, ""
    return user.id, (getattr(user, "login", "") or "")[:128]


def record(ctx, action: str, *, model: str | None = None, res_id: int | None = None,
           details: Any = None, sensitive: Iterable[str] = (),
           division_id: int | None = None) -> AuditEntry:
    """Append one entry to the audit chain and return it.

    `ctx` is a `security.context.Context` (its user may be None for system or anonymous
    events); actor, ip, request id, channel (`via`) and time (`ctx.now()`) come from it.
    `action` is one of `KNOWN_ACTIONS` or another lowercase name (`[a-z][a-z0-9_.]*`).
    `model` is the table name and `res_id` the row id the event concerns; `details` is any
    JSON-able value. Values under keys named in `sensitive` (at any depth of `details`) are
    stored only as keyed `hmac-sha256:<hex>` hashes. `division_id` defaults to `ctx.division_id`.
    Runs inside the caller's transaction when one is open."""
    if not isinstance(action, str) or not ACTION_PATTERN.match(action):
        raise ValueError(f"审计动作名无效 / invalid audit action {action!r}")
    details = normalise_details(mask_sensitive(details, sensitive))
    actor_id, actor_login = _actor(ctx)
    fields = {
        "at": normalise_time(ctx.now()),
        "actor_id": actor_id, "actor_login": actor_login,
        "action": action, "model": model,
        "res_id": None if res_id is None else int(res_id),
        "division_id": division_id if division_id is not None else ctx.division_id,
        "ip": (ctx.ip or "")[:64], "request_id": (ctx.request_id or "")[:64],
        "via": (ctx.via or "")[:16],
        "details": details,
    }
    if is_postgres() and in_transaction():
        return _append(fields)  # one atomic write statement: no savepoint needed
    with atomic():
        entry = _append(fields)
    return entry


def snapshot(instance, fields: Iterable[str] | None = None) -> dict:
    """The instance's column values (foreign keys as ids) — pass as `before`/`after`."""
    data = dict(instance.__data__)
    if fields is not None:
        wanted = set(fields)
        data = {key: value for key, value in data.items() if key in wanted}
    return data


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict:
    """`{field: {"old": …, "new": …}}` for every field whose value differs."""
    before, after = before or {}, after or {}
    return {key: {"old": before.get(key), "new": after.get(key)}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)}


def record_change(ctx, instance, before: Mapping[str, Any] | None,
                  after: Mapping[str, Any] | None, sensitive: Iterable[str] = ()
                  ) -> AuditEntry | None:
    """Record a create (empty `before`), delete (empty `after`) or update of `instance`.

    Details are `{"changes": {field: {"old", "new"}}}` for the fields that differ, with
    `sensitive` fields hashed. An update that changed nothing records nothing (returns
    None). Model, row id and division are taken from the instance."""
    if not before and not after:
        raise ValueError("before 和 after 不能都为空 / before and after are both empty")
    action = CREATE if not before else DELETE if not after else UPDATE
    changes = changed_fields(before, after)
    if action == UPDATE and not changes:
        return None
    return record(ctx, action, model=instance._meta.table_name, res_id=instance.get_id(),
                  details={"changes": changes}, sensitive=sensitive,
                  division_id=getattr(instance, "division_id", None))
