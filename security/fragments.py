"""Pre-rendered SQL for the row-scope subqueries.

Every scoped query carries the same few subqueries (record shares, the manager chain, a
department's users, the caller's regions); only their parameters change from caller to
caller. peewee renders a subquery anew each time, which costs more than running it, so each
one is rendered once per process and database kind, with *slots* standing in for the
parameters, and each use binds the caller's values into the cached text (`pw.SQL`).

Slots are values no real parameter takes: large negative integers for ids, strings
wrapped in NUL characters for text (a text slot may be extended, e.g. a LIKE pattern
`<slot>%`, and is replaced where it occurs). A cached subquery is self-contained (no
reference to the outer query), so the table aliases it uses never clash with the outer ones.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, Sequence

import peewee as pw

from core.db import database

INT_SLOT_BASE = -7_340_000_000
MAX_ENTRIES = 4096  # shapes are few; per-department texts (subtrees) are bounded by this
_rendered: dict[tuple, tuple[str, tuple]] = {}


def int_slot(index: int) -> int:
    return INT_SLOT_BASE - index


def str_slot(index: int) -> str:
    return f"\x00slot{index}\x00"


def _slots(values: Sequence[Any]) -> list:
    slots = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"slot values are ids or text, not {value!r}")
        slots.append(int_slot(index) if isinstance(value, int) else str_slot(index))
    return slots


def _binder(param: Any, slots: list) -> tuple:
    """How to produce one rendered parameter from the values: ('value', i),
    ('text', i, before, after) or ('const', param)."""
    if isinstance(param, int) and not isinstance(param, bool) and param in slots:
        return ("value", slots.index(param))
    if isinstance(param, str):
        for index, slot in enumerate(slots):
            if isinstance(slot, str) and slot in param:
                before, _, after = param.partition(slot)
                return ("text", index, before, after)
    return ("const", param)


def _bind(binder: tuple, values: Sequence[Any]) -> Any:
    kind = binder[0]
    if kind == "value":
        return values[binder[1]]
    if kind == "text":
        return binder[2] + values[binder[1]] + binder[3]
    return binder[1]


def rendered(key: Hashable, build: Callable[..., pw.Node],
             values: Sequence[Any]) -> tuple[str, list]:
    """`(sql, params)` of `build(*slots)` rendered once per process and database kind, with
    `values` bound.

    `key` must identify the *shape* of what `build` returns: everything that changes the SQL
    text other than the values."""
    db = database.obj
    cache_key = (type(db), key)
    entry = _rendered.get(cache_key)
    if entry is None:
        if len(_rendered) >= MAX_ENTRIES:
            _rendered.clear()
        slots = _slots(values)
        sql, params = db.get_sql_context().sql(build(*slots)).query()
        entry = _rendered[cache_key] = (sql, tuple(_binder(p, slots) for p in params))
    sql, binders = entry
    return sql, [_bind(binder, values) for binder in binders]


def subquery(key: Hashable, build: Callable[..., pw.Node], values: Sequence[Any]) -> pw.SQL:
    """The cached `rendered(...)` as a parenthesised subquery node for a peewee query."""
    sql, params = rendered(key, build, values)
    return pw.SQL(f"({sql})", params)


class Prepared:
    """A peewee select rendered once (`rendered`), whose rows come back as the query itself
    would give them — model instances with their joined models — for lookups every request
    makes (the session or API token and its user: rendering that two-table join cost a fifth
    of a 50-row list request, pyinstrument)."""

    def __init__(self, key: Hashable, build: Callable[..., pw.ModelSelect]):
        self.key = key
        self.build = build
        self._query: pw.ModelSelect | None = None  # for its row wrapper only

    def first(self, *values):
        """The first row for `values` (ids or text), or None."""
        sql, params = rendered(self.key, self.build, values)
        if self._query is None:
            self._query = self.build(*_slots(values))
        cursor = database.execute_sql(sql, params)
        return next(iter(self._query._get_cursor_wrapper(cursor)), None)
