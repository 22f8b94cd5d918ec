"""One page of a scoped list, fetched the cheap way: ids first, then only the page's rows.

`fetch_page(query)` takes the list query a service built the usual way — `scoped_select`
(the door's row scope and permitted columns), the filters, the keyset condition, ORDER BY and
LIMIT — and runs it as a *deferred join* in one statement:

    SELECT <permitted columns> FROM t
    WHERE t.id IN (SELECT t.id FROM t WHERE <scope> AND <filters> ORDER BY <sort> LIMIT n)
    ORDER BY <sort>

Why: a restricted caller's scope is an `IN (subquery)` over the parent table (contacts follow
their account). The plain query reads *every* row in scope in full to sort them (a rep with
1,000 accounts at 1M contacts: ~1,000 scattered rows, each with four ciphertexts); the inner
query here finds the page's ids on the indexes alone (`(account_id, rowid)` on SQLite) and only
the page's rows are read. The inner query is the caller's own peewee query, rendered by peewee
each time, so the scope expression stays the only source of truth; the outer part never
depends on the caller: its column list is rendered once per process and model.

Rows come back as dicts keyed by field name with each field's `python_value` applied — the
same values as `query.dicts()` — without peewee's cursor wrapper (a third of a 50-row page's
Python time). Queries this shape does not fit (joins, grouping, DISTINCT, OFFSET, no LIMIT,
non-field columns) run as `query.dicts()` unchanged.
"""
from __future__ import annotations

import peewee as pw

from core.db import database

_columns: dict[tuple, str] = {}  # (database class, model, column names) → rendered list


def _plain(query: pw.ModelSelect) -> bool:
    """Can `query` be split into ids-then-rows? One model, no join, no grouping, no
    DISTINCT, no OFFSET, a LIMIT, and only that model's own fields selected."""
    model = query.model
    return bool(
        query._limit is not None and not query._offset and not query._distinct
        and not query._group_by and not query._having and not query._joins
        and not getattr(query, "_cte_list", None) and not getattr(query, "_windows", None)
        and query._from_list == [model] and query._where is not None and query._returning
        and all(isinstance(node, pw.Field) and node.model is model
                for node in query._returning))


def _column_list(model, fields) -> str:
    """`"id", "name", …` — unqualified: the outer query has one table in FROM."""
    key = (type(database.obj), model, tuple(f.column_name for f in fields))
    text = _columns.get(key)
    if text is None:
        context = database.get_sql_context()
        text = context.sql(pw.CommaNodeList([pw.Entity(f.column_name) for f in fields])).query()[0]
        _columns[key] = text
    return text


class _IdsIn(pw.Expression):
    """`pk IN (subquery)` rendered once (peewee renders an IN's right side twice, the second
    time only to test for an empty list — a subquery never is)."""

    def _is_rhs_empty(self, rhs, ctx):
        return False


def deferred_sql(query: pw.ModelSelect) -> tuple[str, list]:
    """The `(sql, params)` of the deferred join for `query` (see the module docstring)."""
    model = query.model
    pk = model._meta.primary_key
    fields = list(query._returning)
    inner = query.select(pk)
    outer = (model.select(pw.SQL(_column_list(model, fields)))
             .where(_IdsIn(pk, pw.OP.IN, inner)).order_by(*query._order_by))
    return outer.sql()


def fetch_page(query: pw.ModelSelect) -> list[dict]:
    """The rows of a scoped, ordered, limited select as dicts (as `query.dicts()` would give),
    fetched as a deferred join when the query allows it."""
    if not _plain(query):
        return list(query.dicts())
    sql, params = deferred_sql(query)
    fields = list(query._returning)
    names = [field.name for field in fields]
    converters = [field.python_value for field in fields]
    pairs = tuple(zip(names, converters))
    cursor = database.execute_sql(sql, params)
    return [{name: convert(value) for (name, convert), value in zip(pairs, row)}
            for row in cursor.fetchall()]
