"""Concurrent appenders, each on its own connection, keep one gap-free verifiable chain."""
from __future__ import annotations

import threading

import peewee as pw

from core.db import atomic, database, is_postgres
from modules.base.models import Tag
from security import audit
from security.context import Context

THREADS = 8
PER_THREAD = 30


def _appender(install, worker: int, errors: list, start: threading.Barrier) -> None:
    """Append PER_THREAD entries: single appends, and pairs inside one business transaction."""
    database.connect(reuse_if_open=True)
    try:
        ctx = Context(registry=install.registry, user=install.admin, request_id=f"w{worker}")
        start.wait()
        done = 0
        while done < PER_THREAD:
            if done % 3 == 0 and done + 2 <= PER_THREAD:
                with atomic():
                    tag = Tag.create(name=f"w{worker}-{done}")
                    audit.record(ctx, "create", model="base_tag", res_id=tag.id)
                    audit.record(ctx, "update", model="base_tag", res_id=tag.id,
                                 details={"worker": worker})
                done += 2
            else:
                audit.record(ctx, "read_sensitive", details={"worker": worker, "n": done})
                done += 1
    except Exception as exc:  # reported to the main thread
        errors.append(exc)
    finally:
        database.close()


def test_concurrent_writers_keep_the_chain(install):
    errors: list = []
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_appender, args=(install, w, errors, start))
               for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    total = THREADS * PER_THREAD
    seqs = [row.seq for row in audit.AuditEntry.select(audit.AuditEntry.seq)
            .order_by(audit.AuditEntry.seq)]
    assert seqs == list(range(1, total + 1))
    per_worker = {}
    for entry in audit.AuditEntry.select():
        per_worker[entry.request_id] = per_worker.get(entry.request_id, 0) + 1
    assert per_worker == {f"w{w}": PER_THREAD for w in range(THREADS)}
    result = audit.verify(batch_size=50)
    assert result.ok and result.entries == total


def test_append_in_a_transaction_with_an_older_snapshot(install):
    """Caller's transaction read first (older snapshot), then another connection appended.

    PostgreSQL: the head row lock reads the committed head, so the append lands after the
    other one. SQLite: upgrading a stale read snapshot to a write is refused ("database is
    locked") — the append fails rather than fork the chain. Either way the chain verifies."""
    ctx = Context(registry=install.registry, user=install.admin)
    audit.record(ctx, "login")
    snapshot_taken, other_committed = threading.Event(), threading.Event()
    outcome: dict = {}

    def caller() -> None:
        database.connect(reuse_if_open=True)
        try:
            with atomic():
                outcome["seen"] = audit.AuditEntry.select().count()
                snapshot_taken.set()
                other_committed.wait(30)
                outcome["entry"] = audit.record(ctx, "export", details={"rows": 1})
        except pw.OperationalError as exc:
            outcome["error"] = exc
        finally:
            database.close()

    thread = threading.Thread(target=caller)
    thread.start()
    assert snapshot_taken.wait(30)
    if is_postgres():
        audit.record(ctx, "logout")  # commits while the caller's transaction is open
        other_committed.set()
    else:
        # SQLite: atomic() begins IMMEDIATE, so the caller holds the write lock from its first
        # statement; the other writer waits (busy timeout) and appends after the caller commits.
        other_committed.set()
        audit.record(ctx, "logout")
    thread.join(60)
    assert outcome["seen"] == 1
    assert "error" not in outcome, outcome
    assert outcome["entry"].seq == (3 if is_postgres() else 2)
    result = audit.verify()
    assert result.ok and result.entries == 3

