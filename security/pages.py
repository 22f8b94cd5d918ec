"""One page of a scoped list, fetched the cheap way: ids first, then only the page's rows.

`fetch_page(query)` takes the list query a service built the usual way — `scoped_select`
(the door's row scope and permitted columns), the filters, the keyset condition, ORDER BY and
LIMIT — and, when the WHERE holds a subquery (a restricted caller's scope), runs it as a
*deferred join* in one statement:

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
same values as `query.dicts()` — without peewee's per-row cursor wrapper, and skipping the
`python_value` calls that could only return their argument (stock integer and text fields).
An unrestricted query runs as it is (same conversion); other shapes (joins, computed
columns) run as `query.dicts()`.
"""
from __future__ import annotations

import peewee as pw

from core.db import database
from security.scopes import in_subquery

MAX_ENTRIES = 4096  # column lists: models × the role field sets in use
_columns: dict[tuple, str] = {}  # (database class, model, column names) → rendered list


def _has_subquery(node) -> bool:
    """Does a WHERE expression hold a subquery (a scope's `IN (SELECT …)`)? Nodes of kinds
    not looked into count as yes: deferring is always correct, only sometimes slower."""
    if node is None or isinstance(node, (pw.Field, pw.Column, pw.Value)):
        return False
    if isinstance(node, pw.Expression):
        return _has_subquery(node.lhs) or _has_subquery(node.rhs)
    if isinstance(node, pw.SQL):
        return "SELECT" in node.sql.upper()
    if isinstance(node, (pw.NodeList, pw.Function)):
        return any(_has_subquery(part) for part in
                   (node.nodes if isinstance(node, pw.NodeList) else node.arguments))
    if isinstance(node, (list, tuple)):
        return any(_has_subquery(part) for part in node)
    return isinstance(node, pw.Node) or not isinstance(node, (int, float, str, bytes, bool))


def _deferrable(query: pw.ModelSelect) -> bool:
    """Is `query` worth splitting into ids-then-rows, and can it be? Its WHERE holds a
    subquery (a restricted scope; an unrestricted page is the table's last rows, read
    directly), it selects only its model's fields from that model alone, has a LIMIT and no
    grouping, DISTINCT, OFFSET, CTE, window or FOR UPDATE."""
    return bool(
        _fields_only(query) and query._limit is not None and not query._offset
        and not query._distinct and not query._group_by and not query._having
        and not getattr(query, "_cte_list", None) and not getattr(query, "_windows", None)
        and not getattr(query, "_for_update", None) and _has_subquery(query._where))


def _fields_only(query: pw.ModelSelect) -> bool:
    """Only the model's own fields selected, no join: rows convert field by field."""
    return bool(query._returning and not query._joins and query._from_list == [query.model]
                and all(isinstance(node, pw.Field) and node.model is query.model
                        for node in query._returning))


def _column_list(model, fields) -> str:
    """`"id", "name", …` — unqualified: the outer query has one table in FROM."""
    key = (type(database.obj), model, tuple(f.column_name for f in fields))
    text = _columns.get(key)
    if text is None:
        if len(_columns) >= MAX_ENTRIES:
            _columns.clear()
        context = database.get_sql_context()
        text = context.sql(pw.CommaNodeList([pw.Entity(f.column_name) for f in fields])).query()[0]
        _columns[key] = text
    return text


def deferred_sql(query: pw.ModelSelect) -> tuple[str, list]:
    """The `(sql, params)` of the deferred join for `query` (see the module docstring)."""
    model = query.model
    pk = model._meta.primary_key
    fields = list(query._returning)
    inner = query.select(pk)
    outer = (model.select(pw.SQL(_column_list(model, fields)))
             .where(in_subquery(pk, inner)).order_by(*(query._order_by or ())))
    return outer.sql()


def fetch_page(query: pw.ModelSelect) -> list[dict]:
    """The rows of a scoped, ordered, limited select as dicts (as `query.dicts()` would give),
    fetched as a deferred join when the query allows it."""
    if _deferrable(query):
        sql, params = deferred_sql(query)
    elif _fields_only(query):
        sql, params = query.sql()
    else:
        return list(query.dicts())
    plan = tuple((field.name, *_converter(field)) for field in query._returning)
    rows = database.execute_sql(sql, params).fetchall()
    return [{name: (convert(value) if same is None
                    or (value is not None and type(value) is not same) else value)
             for (name, same, convert), value in zip(plan, row)}
            for row in rows]


def _converter(field: pw.Field) -> tuple[type | None, object]:
    """`(type, python_value)` of one selected field: a value already of `type` (or None) is
    what `python_value` would return unchanged — peewee's stock integer and text fields only
    coerce — so the call is skipped; `type` None: always call (dates, JSON, ciphertexts)."""
    target = field
    if isinstance(field, pw.ForeignKeyField):
        if type(field).python_value is not pw.ForeignKeyField.python_value:
            return None, field.python_value
        target = field.rel_field
    kind = type(target)
    if kind.python_value is pw.Field.python_value:
        if kind.adapt is pw.IntegerField.adapt:
            return int, target.python_value
        if kind.adapt is pw._StringField.adapt:
            return str, target.python_value
    return None, field.python_value
