"""Transactional outbox: external side effects written with the business change, delivered later.

`enqueue()` inserts a message in the caller's transaction (so it exists if and only if the
change committed). The worker's `drain()` delivers due messages through the handler that a
module registered for the topic; a failure is retried with exponential backoff
(`backoff_seconds * 2**(attempts-1)`, capped), and after `max_attempts` the message is
dead-lettered until someone retries it (`huike outbox retry`, or the admin API).
The idempotency key makes enqueueing the same effect twice a no-op, and is handed to the
handler so the receiving system can deduplicate too.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from core import early_release
from core.db import atomic, database, in_transaction, is_postgres, on_commit, utcnow
from core.models import OutboxMessage

log = logging.getLogger("huike.outbox")

PENDING, DONE, DEAD = "pending", "done", "dead"
_kickers: list[Callable[[], None]] = []


class UnknownTopic(Exception):
    """No module registered a handler for a message's topic."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_seconds: int = 30
    backoff_max_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings) -> "RetryPolicy":
        section = settings["outbox"]
        return cls(section["max_attempts"], section["backoff_seconds"],
                   section["backoff_max_seconds"])

    def delay(self, attempts: int) -> dt.timedelta:
        seconds = self.backoff_seconds * (2 ** max(attempts - 1, 0))
        return dt.timedelta(seconds=min(seconds, self.backoff_max_seconds))


def add_kicker(kick: Callable[[], None]) -> None:
    """Register a callable that asks the worker to drain soon (set up by `core.jobs`)."""
    if kick not in _kickers:
        _kickers.append(kick)


def _kick() -> None:
    for kick in _kickers:
        try:
            kick()
        except Exception:  # the periodic drain picks the message up anyway
            log.warning("could not schedule an outbox drain", exc_info=True)


def enqueue(topic: str, payload: dict[str, Any],
            idempotency_key: str | None = None) -> OutboxMessage:
    """Write a message in the current transaction; the same key twice returns the first one."""
    key = idempotency_key or f"{topic}:{uuid.uuid4().hex}"
    with atomic():
        existing = OutboxMessage.get_or_none(OutboxMessage.idempotency_key == key)
        if existing is not None:
            return existing
        message = OutboxMessage.create(topic=topic, payload=payload, idempotency_key=key)
    on_commit(_kick)
    return message


def enqueue_many(messages: Iterable[tuple[str, dict[str, Any], str]], chunk: int = 500) -> int:
    """`enqueue` for batch paths (imports, bulk assignment): `(topic, payload, key)` triples
    written with one INSERT per `chunk` in the current transaction; keys already queued are
    skipped. Returns how many triples were given."""
    rows = [{"topic": topic, "payload": payload, "idempotency_key": key}
            for topic, payload, key in messages]
    with contextlib.nullcontext() if in_transaction() else atomic():  # no SAVEPOINT needed
        for start in range(0, len(rows), chunk):
            OutboxMessage.insert_many(rows[start:start + chunk]).on_conflict_ignore().execute()
    if rows:
        on_commit(_kick)
    return len(rows)


def _due(now: dt.datetime, limit: int):
    query = (OutboxMessage.select()
             .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    return query


def _claim(message_id: int):
    query = OutboxMessage.select().where(OutboxMessage.id == message_id,
                                         OutboxMessage.status == PENDING)
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return query.first()


def deliver_one(message_id: int, handlers: dict[str, Callable], policy: RetryPolicy,
                now: dt.datetime | None = None) -> str | None:
    """Deliver one message in its own transaction; return its new status (None if taken)."""
    now = now or utcnow()
    with atomic():
        message = _claim(message_id)
        if message is None:
            return None
        handler = handlers.get(message.topic)
        try:
            if handler is None:
                raise UnknownTopic(f"no handler registered for topic {message.topic!r}")
            with atomic():  # a savepoint: the handler's own writes roll back on failure
                handler(message.payload, message)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= policy.max_attempts:
                message.status = DEAD
                log.error("outbox message %s (%s) dead after %s attempts: %s", message.id,
                          message.topic, message.attempts, message.last_error)
            else:
                message.next_attempt_at = now + policy.delay(message.attempts)
            message.save()
            return message.status
        message.status, message.processed_at, message.last_error = DONE, now, None
        message.attempts += 1
        message.save()
        return DONE


def durable_before_sending() -> None:
    """PostgreSQL: return once every commit this session can see is on disk. Some writers
    commit asynchronously — early-released captures (`core.early_release`), import batches —
    so a message can be visible before its commit is flushed; a crash then would lose the
    lead a notice was already sent for. The flush marker's synchronous commit flushes the WAL
    past every commit that preceded it (one round trip a drain, not a message). Outside a
    transaction only (inside one the marker would commit with it); SQLite: commits are
    durable when visible."""
    if is_postgres() and not in_transaction() and early_release.supported(database):
        early_release.wait_durable(database)


def drain(handlers: dict[str, Callable], policy: RetryPolicy, now: dt.datetime | None = None,
          limit: int = 100) -> dict[str, int]:
    """Deliver every due message (up to `limit`) — after the commits that wrote them are
    durable (`durable_before_sending`); return counts by resulting status."""
    now = now or utcnow()
    counts = {DONE: 0, PENDING: 0, DEAD: 0}
    due = [m.id for m in _due(now, limit)]
    if due:
        durable_before_sending()
    for message_id in due:
        status = deliver_one(message_id, handlers, policy, now)
        if status is not None:
            counts[status] += 1
    return counts


def list_messages(status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
    query = OutboxMessage.select().order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(query)


def retry(ids: Iterable[int] | None = None) -> int:
    """Put dead letters (all, or the given ids) back in the queue, due now; return how many."""
    query = OutboxMessage.update(status=PENDING, attempts=0, next_attempt_at=utcnow(),
                                 last_error=None).where(OutboxMessage.status == DEAD)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    with atomic():
        count = query.execute()
    if count:
        on_commit(_kick)
    return count


def as_dict(message: OutboxMessage) -> dict[str, Any]:
    return {"id": message.id, "topic": message.topic, "payload": message.payload,
            "idempotency_key": message.idempotency_key, "status": message.status,
            "attempts": message.attempts, "next_attempt_at": message.next_attempt_at,
            "last_error": message.last_error, "created_at": message.created_at,
            "processed_at": message.processed_at}
