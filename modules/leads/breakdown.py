"""Score breakdowns stored by reference: each distinct breakdown once, each lead a pointer.

A breakdown explains a score in both languages — seven parts of `{"rule", "label", "kind",
"points", "detail"}` are ~940 bytes of JSON, two thirds of an imported lead's row — yet an
import's 100k leads have only a few hundred distinct ones. So the text of a breakdown
(`template`: a fired budget rule's amount replaced by `scoring.AMOUNT`) is stored once in
`leads_score_template`, keyed by a digest of itself, and the lead stores
`{"t": digest}` — or `{"b": amount detail, "t": digest}` — about 40 bytes. A 100k import then
writes a third of the bytes (SQLite: 14.4k → 16.4–17.1k rows/s, the WAL and its checkpoints
shrinking with the rows; docs/benchmarks.md).

Content-addressed: a digest names one text in every database, so parsed templates are
cached per process without regard to which install or transaction stored them, and a row
is never changed once written. `Lead.score_breakdown` (`models.BreakdownField`) reads both
this form and the full list written before (and by ORM saves), always as the full list.
"""
from __future__ import annotations

import hashlib
import json
import threading

AMOUNT = "\u2063budget\u2063"  # placeholder of a fired budget rule's detail in a template
DIGEST_HEX = 16  # 64 bits: distinct breakdowns of an install number thousands, not billions

_parsed: dict[str, list] = {}  # digest → parsed template (content-addressed: always valid)
PARSED_MAX = 20_000  # distinct breakdowns kept parsed per process (rule combinations: ~100s)
_lock = threading.Lock()


def digest(template: str) -> str:
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:DIGEST_HEX]


def pointer(key: str, detail: str | None) -> str:
    """The stored form. `detail` (a budget rule's `预算 / budget 176000.00`) holds digits, a
    point, letters, spaces and a slash: nothing JSON would escape."""
    if detail is None:
        return f'{{"t": "{key}"}}'
    return f'{{"b": "{detail}", "t": "{key}"}}'


class Store:
    """The templates one unit of work points at — an import run, a web-form post, a rescore
    call: `pointer` digests each distinct template once, `flush` saves the new ones with an
    `INSERT … ON CONFLICT DO NOTHING` in the caller's transaction, so they commit with the
    lead rows that point at them. Scoring can run before that transaction (the web form
    scores before it takes the write lock): nothing is written until `flush`. A store
    must not outlive a rolled-back transaction it flushed into (each unit of work makes its
    own: `store_of(ctx)`)."""

    def __init__(self):
        self.known: dict[str, str] = {}  # template → digest (saved, or pending)
        self.pending: dict[str, str] = {}  # digest → template not saved yet

    def pointer(self, template: str, detail: str | None = None) -> str:
        key = self.known.get(template)
        if key is None:
            key = self.known[template] = digest(template)
            self.pending[key] = template
        return pointer(key, detail)

    def flush(self) -> None:
        if not self.pending:
            return
        from modules.leads import rawsql
        from modules.leads.models import ScoreTemplate

        rows, p = list(self.pending.items()), rawsql._p()
        marks = ", ".join(f"({p}, {p})" for _ in rows)
        rawsql.run(f'INSERT INTO "{ScoreTemplate._meta.table_name}" ("digest", "body") '
                   f'VALUES {marks} ON CONFLICT ("digest") DO NOTHING',
                   [value for row in rows for value in row])
        with _lock:
            _make_room(len(rows))
            for key, template in rows:
                _parsed.setdefault(key, json.loads(template))
        self.pending = {}


STORE = "leads.breakdown.store"


def store_of(ctx) -> Store:
    """The store of this context's unit of work (kept in `ctx.cache`)."""
    found = ctx.cache.get(STORE)
    if found is None:
        found = ctx.cache[STORE] = Store()
    return found


def expand(stored) -> list:
    """The full breakdown of a stored value: a pointer (`{"t": …}`) or a list (as is)."""
    if stored.__class__ is not dict:
        return stored
    items = _parsed.get(stored.get("t"))
    if items is None:
        items = _load(stored.get("t"))
    detail = stored.get("b")
    if detail is None:
        return [dict(item) for item in items]
    return [dict(item, detail=detail) if item.get("detail") == AMOUNT else dict(item)
            for item in items]


def _make_room(coming: int) -> None:
    """Keep the cache bounded (caller holds `_lock`): start afresh when it would overflow."""
    if len(_parsed) + coming > PARSED_MAX:
        _parsed.clear()


def _load(key: str) -> list:
    """Read the templates this process has not parsed yet — all of them at once (up to the
    cache's size; then the one asked for), so a page of leads pointing at many new templates
    costs one query, not one each."""
    from modules.leads import rawsql
    from modules.leads.models import ScoreTemplate

    table, p = ScoreTemplate._meta.table_name, rawsql._p()
    rows = rawsql.run(f'SELECT "digest", "body" FROM "{table}" LIMIT {PARSED_MAX}').fetchall()
    if not any(found == key for found, _body in rows):
        rows += rawsql.run(f'SELECT "digest", "body" FROM "{table}" WHERE "digest" = {p}',
                           (key,)).fetchall()
    with _lock:
        _make_room(len(rows))
        for found, body in rows:
            if found not in _parsed:
                _parsed[found] = json.loads(body)
        items = _parsed.get(key)
    if items is None:  # the pointer's template row is gone: say so rather than fail a page
        return [{"rule": "unknown", "label": "评分明细不可用 / breakdown unavailable",
                 "kind": "unknown", "points": 0, "detail": key}]
    return items
