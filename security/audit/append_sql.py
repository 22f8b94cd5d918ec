"""The audit append as prepared SQL: the chain-head lock, and the entry's INSERT plus the
head's move, with their text built once per process instead of by peewee on every append.

An append is on the path of every audited write — a web-form capture spends about a third
of its transaction building and running it through the ORM — and it runs while the chain
lock (and, on SQLite, the database write lock) is held, so its cost is paid by every
writer queued behind it. Columns go through their fields' `db_value` exactly as
`AuditEntry.create` would store them.

* SQLite: three statements in the caller's savepoint — the lock (a no-op UPDATE that takes
  the write lock and RETURNs the head, SQLite ≥ 3.35), the INSERT, the head UPDATE.
* PostgreSQL: `SELECT … FOR UPDATE` on the head, then one statement that inserts the entry
  and moves the head (a data-modifying CTE) — atomic on its own, so no savepoint is needed
  when the caller already holds a transaction: two round trips instead of five.
"""
from __future__ import annotations

import functools
import sqlite3

from core.db import database, is_postgres
from security.audit.models import HEAD_ID, AuditEntry, AuditHead

ENTRY_COLUMNS = ("seq", "at", "actor_id", "actor_login", "action", "model", "res_id",
                 "division_id", "ip", "request_id", "via", "details", "prev_hash", "hash")
SQLITE_RETURNING = sqlite3.sqlite_version_info >= (3, 35)


@functools.lru_cache(maxsize=2)
def statements(postgres: bool) -> dict[str, str]:
    """The SQL texts for one backend (placeholders `%s` on PostgreSQL, `?` on SQLite)."""
    mark = "%s" if postgres else "?"
    entry, head = AuditEntry._meta.table_name, AuditHead._meta.table_name
    columns = ", ".join(f'"{name}"' for name in ENTRY_COLUMNS)
    values = ", ".join([mark] * len(ENTRY_COLUMNS))
    insert = f'INSERT INTO "{entry}" ({columns}) VALUES ({values})'
    move = f'UPDATE "{head}" SET "seq" = {mark}, "hash" = {mark} WHERE "id" = {mark}'
    return {
        "lock": (f'SELECT "seq", "hash" FROM "{head}" WHERE "id" = %s FOR UPDATE' if postgres
                 else f'UPDATE "{head}" SET "seq" = "seq" WHERE "id" = ? RETURNING "seq", "hash"'),
        "insert": insert,
        "move": move,
        "append": (f'WITH entry AS ({insert} RETURNING "id") {move} '
                   'RETURNING (SELECT "id" FROM entry)'),
    }


@functools.lru_cache(maxsize=1)
def _converters() -> tuple:
    fields = AuditEntry._meta.fields
    return tuple(fields[name].db_value for name in ENTRY_COLUMNS)


def _params(fields: dict) -> list:
    return [convert(fields[name]) for name, convert in zip(ENTRY_COLUMNS, _converters())]


def lock_head() -> tuple[int, str] | None:
    """Take the chain lock and return the head's (seq, hash); None when the row is missing.
    Older SQLite without RETURNING: the no-op UPDATE, then a read."""
    postgres = is_postgres()
    if postgres or SQLITE_RETURNING:
        row = database.execute_sql(statements(postgres)["lock"], (HEAD_ID,)).fetchone()
        return (row[0], row[1]) if row else None
    database.execute_sql(f'UPDATE "{AuditHead._meta.table_name}" SET "seq" = "seq" '
                         'WHERE "id" = ?', (HEAD_ID,))
    head = AuditHead.get_or_none(AuditHead.id == HEAD_ID)
    return (head.seq, head.hash) if head else None


def append(fields: dict) -> int:
    """Insert the entry (every `ENTRY_COLUMNS` key in `fields`) and move the head to it, under
    the lock `lock_head` took; returns the entry's id."""
    postgres = is_postgres()
    sql = statements(postgres)
    move = (fields["seq"], fields["hash"], HEAD_ID)
    if postgres:
        return database.execute_sql(sql["append"], (*_params(fields), *move)).fetchone()[0]
    pk = database.execute_sql(sql["insert"], _params(fields)).lastrowid
    database.execute_sql(sql["move"], move)
    return pk
