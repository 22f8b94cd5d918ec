"""Early lock release on PostgreSQL: a transaction's row locks go at its COMMIT, not once
its COMMIT has been flushed to disk — and the caller still answers only after the flush.

Why: a web-form capture holds two hot rows to its end (the round-robin cursor and the audit
chain's head), so concurrent captures queue behind each other's commit *and fsync*. Measured
on the 2-core host, quiet (`bench/bench_leads_capture.py --database-url …`, 2 × 4 clients):
p99 20.0–23.5 ms with durable commits against 10.0 ms with no flush on the post's path at all.

How (`atomic(release_early=True)` in `core.db`): the transaction commits with `SET LOCAL
synchronous_commit TO off` — PostgreSQL releases its locks as soon as the commit record is in
the WAL buffers — and then `wait_durable()` commits a marker synchronously: one transactional
`pg_logical_emit_message`, alone in its implicit transaction (a WAL record of a few bytes, so
the marker has a transaction id and its COMMIT flushes). WAL is flushed in order, so when the
marker's flush returns, the earlier commit is on disk too (and on a synchronous standby, if
the install has one: the marker's commit uses the session's own `synchronous_commit`).
Concurrent waiters share flushes (PostgreSQL's group commit) instead of taking turns.

What others may see: between the commit and the flush other sessions can read the rows
(as with any asynchronous commit); a crash in that window loses them together with anything
committed after them — never an answered request's data, because the answer waits for
`wait_durable`. The outbox dispatcher does not act on such rows either: it waits the same way
before delivering what it read (`core.outbox.durable_before_sending`), so no notice goes out
for a lead a crash then loses. Logical-decoding consumers (if the install runs any) receive
the markers as messages with the prefix `huike.durable` and no content.

An install where the database user may not run `pg_logical_emit_message` (EXECUTE revoked)
keeps plain durable commits (`supported()` asks once per database binding). SQLite is unaffected:
its commit is local and its writer queue already serialises writers.
"""
from __future__ import annotations

PREFIX = "huike.durable"
_MARKER = f"SELECT pg_logical_emit_message(true, '{PREFIX}', '')"
_CHECK = ("SELECT has_function_privilege("
          "'pg_logical_emit_message(boolean, text, text)', 'EXECUTE')")


def supported(database) -> bool:
    """Whether the bound PostgreSQL database's user may write the flush marker — asked once
    per database object (every pooled connection logs in as the same user)."""
    bound = database.obj
    known = getattr(bound, "_huike_early_release", None)
    if known is None:
        known = bool(database.execute_sql(_CHECK).fetchone()[0])
        bound._huike_early_release = known
    return known


def start(database) -> bool:
    """Inside a new transaction: let its COMMIT return (and drop its locks) before the flush,
    when this install allows the marker; False (a plain durable transaction) otherwise."""
    if not supported(database):
        return False
    database.execute_sql("SET LOCAL synchronous_commit TO off")
    return True


def wait_durable(database) -> None:
    """After the commit: return once everything this session committed is flushed — the
    marker's synchronous COMMIT flushes the WAL up to itself, past the earlier commit. One
    round trip: outside a transaction the statement is its own (peewee runs psycopg2 in
    autocommit mode and opens transactions with an explicit BEGIN)."""
    database.execute_sql(_MARKER)
