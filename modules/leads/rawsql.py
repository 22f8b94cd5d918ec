"""Raw SQL for the leads hot paths (web-form capture, import batches): statements whose text
is built once per shape and executed with parameters, bypassing peewee's query builder.

Why: peewee builds a tree of nodes per query and per value — 0.3–1 ms for an UPDATE of a
few columns, tens of ms for a 2,000-row `bulk_update` or `insert_many` — which dominated both
the capture latency and the import throughput (pyinstrument, bench/bench_leads_*.py). The
statements here go through `database.execute_sql` / one cursor, so they share the caller's
transaction and connection; values are always parameters, never spliced into the text.

- `run(sql, params)` — one statement (counted by the tests' query counters like any other);
- `many(sql, rows)` — one statement for many parameter rows: SQLite `executemany`,
  PostgreSQL `execute_batch` (pages of 500: one round trip per page, not per row);
- `update_by_id(table, columns, rows)` — `UPDATE … SET col = ? … WHERE id = ?` for many
  rows: SQLite `executemany`, PostgreSQL one `UPDATE … FROM (VALUES …)` per page;
- `insert_rows(table, columns, rows, conflict=None)` — multi-row INSERT (optionally
  `ON CONFLICT (col) DO NOTHING`);
- `load(Model, fields, where, params)` — instances with those fields, like
  `Model.select(*fields).where(…)`, from SQL text built once per shape;
- `json_text(value)` — exactly what `core.db.JSONField.db_value` stores.
"""
from __future__ import annotations

import json
from functools import lru_cache

from core.db import database, is_postgres

PAGE = 500


def json_text(value) -> str | None:
    """The stored form of a JSONField value (same arguments as `JSONField.db_value`)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                 default=str)


def _p() -> str:
    return database.param


def run(sql: str, params=()):
    """Execute one statement in the current transaction; returns the cursor."""
    return database.execute_sql(sql.replace("?", _p()) if _p() != "?" else sql, params)


def many(sql: str, rows: list) -> None:
    """Execute `sql` (written with `?` marks) once per parameter row, in one call."""
    if not rows:
        return
    if not is_postgres():
        database.cursor().executemany(sql, rows)
        return
    from psycopg2.extras import execute_batch

    execute_batch(database.cursor(), sql.replace("?", "%s"), rows, page_size=PAGE)


@lru_cache(maxsize=64)
def _update_sql(table: str, columns: tuple[str, ...], postgres: bool) -> str:
    if postgres:
        sets = ", ".join(f'"{c}" = v."{c}"' for c in columns)
        names = ", ".join(f'"{c}"' for c in ("id", *columns))
        return (f'UPDATE "{table}" AS t SET {sets} FROM (VALUES %s) AS v({names}) '
                'WHERE t."id" = v."id"')
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    return f'UPDATE "{table}" SET {sets} WHERE "id" = ?'


def update_by_id(table: str, columns: tuple[str, ...], rows: list[tuple],
                 template: str | None = None) -> None:
    """Set `columns` of each row id: `rows` are `(id, value, …)` in `columns` order.
    `template` (PostgreSQL) types the VALUES row when a column is not text, e.g.
    `"(%s, %s::int, %s)"`."""
    if not rows:
        return
    postgres = is_postgres()
    sql = _update_sql(table, tuple(columns), postgres)
    if postgres:
        from psycopg2.extras import execute_values

        execute_values(database.cursor(), sql, rows, template=template, page_size=PAGE)
        return
    database.cursor().executemany(sql, [(*row[1:], row[0]) for row in rows])


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], conflict: str | None,
                postgres: bool) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    tail = f' ON CONFLICT ("{conflict}") DO NOTHING' if conflict else ""
    marks = "%s" if postgres else "(" + ", ".join("?" for _ in columns) + ")"
    return f'INSERT INTO "{table}" ({names}) VALUES {marks}{tail}'


def insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple],
                conflict: str | None = None) -> None:
    """Insert parameter rows (values already in their stored form) in the current
    transaction; `conflict` names a unique column whose duplicates are skipped."""
    if not rows:
        return
    postgres = is_postgres()
    sql = _insert_sql(table, tuple(columns), conflict, postgres)
    if postgres:
        from psycopg2.extras import execute_values

        execute_values(database.cursor(), sql, rows, page_size=PAGE)
        return
    if len(rows) == 1:
        database.execute_sql(sql, rows[0])
    else:
        database.cursor().executemany(sql, rows)


@lru_cache(maxsize=128)
def _select_sql(model, fields: tuple[str, ...], where: str, order: str, lock: bool) -> str:
    meta = model._meta
    columns = ", ".join(f'"{meta.fields[name].column_name}"' for name in fields)
    return (f'SELECT {columns} FROM "{meta.table_name}" WHERE {where}'
            + (f" ORDER BY {order}" if order else "") + (" FOR UPDATE" if lock else ""))


def load(model, fields: tuple[str, ...], where: str, params=(), order: str = "",
         for_update: bool = False) -> list:
    """Instances of `model` with only `fields` loaded, like `Model.select(*fields)` gives
    (values through each field's `python_value`), for `WHERE where` (`?` marks) — the SQL
    text is built once per shape. For small reference reads on the capture path (rules,
    policies, cursors, the form), where peewee's query building costs more than the query.
    `for_update` locks the rows on PostgreSQL (SQLite: the transaction holds the database
    write lock already)."""
    sql = _select_sql(model, tuple(fields), where, order, for_update and is_postgres())
    converters = [model._meta.fields[name].python_value for name in fields]
    found = []
    for row in run(sql, params).fetchall():
        instance = model.__new__(model)
        instance.__data__ = {name: (None if value is None else convert(value))
                             for name, convert, value in zip(fields, converters, row)}
        instance._dirty = set()
        instance.__rel__ = {}
        found.append(instance)
    return found


def marks(values) -> str:
    """`?, ?, …` for an IN list (one mark per value; at least one)."""
    return ", ".join("?" for _ in values) or "NULL"
