"""Document numbers per division and year: `LD-2026-000001`, unique and gap-free.

One `base_sequence` row per (division, code, year) holds the last number handed out. A number
is taken with a single `UPDATE … SET last_value = last_value + 1 … RETURNING last_value` inside
the caller's transaction: the row stays locked until that transaction ends, so concurrent
writers queue on it (unique), and a rollback undoes the increment (gap-free). The row is
created race-safely with `INSERT … ON CONFLICT DO NOTHING` the first time a year is used.

The price of gap-free numbering is that writers of the same sequence serialise: keep the
transaction that takes a number short.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
from zoneinfo import ZoneInfo

from core.db import atomic, is_postgres
from modules.base.models import Division, Sequence
from modules.base.services import BaseError

CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,15}$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# SQLite learned UPDATE … RETURNING in 3.35; older libraries update, then read back.
SQLITE_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)


def current_year(timezone: str = "Asia/Shanghai") -> int:
    """The calendar year where the business is (numbers roll over at local midnight)."""
    return dt.datetime.now(ZoneInfo(timezone)).year


def format_number(prefix: str, year: int, value: int, padding: int = 6) -> str:
    return f"{prefix}-{year}-{value:0{padding}d}"


def _increment(division_id: int, code: str, year: int, *, returning: bool = True) -> int | None:
    """Add one to the counter and return the new value (None when the row does not exist).
    Must run inside a transaction: the row lock is held until it ends."""
    where = ((Sequence.division == division_id) & (Sequence.code == code)
             & (Sequence.year == year))
    update = Sequence.update(last_value=Sequence.last_value + 1).where(where)
    if returning:
        rows = list(update.returning(Sequence.last_value).tuples().execute())
        return rows[0][0] if rows else None
    if update.execute() == 0:
        return None
    return Sequence.select(Sequence.last_value).where(where).scalar()


def next_value(division: Division | int, code: str, year: int) -> int:
    """Take the next integer of the (division, code, year) counter in the current
    transaction (opening one if none is open)."""
    division_id = getattr(division, "id", division)
    returning = is_postgres() or SQLITE_HAS_RETURNING
    with atomic():
        value = _increment(division_id, code, year, returning=returning)
        if value is None:
            (Sequence.insert(division=division_id, code=code, year=year, last_value=0)
             .on_conflict_ignore().execute())
            value = _increment(division_id, code, year, returning=returning)
    return value


def next_number(division: Division | int, code: str, *, year: int | None = None,
                prefix: str | None = None, padding: int = 6) -> str:
    """The next document number of `division` for document type `code`, e.g.
    `next_number(ia, "LD")` → `"LD-2026-000001"`. `prefix` defaults to `code`; `year` to the
    current year in China. Numbers restart at 1 each year and are independent per division
    (so a document's unique key is (division, number))."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise BaseError("单据类型编码须为大写字母开头的 1-16 位字母数字 / sequence code must be "
                        "1-16 upper-case letters or digits, starting with a letter", "code")
    if prefix is not None and not PREFIX_RE.match(prefix):
        raise BaseError("前缀只能含字母、数字、- 和 _ / prefix may hold letters, digits, - and _",
                        "prefix")
    year = current_year() if year is None else year
    if not isinstance(year, int) or not 1900 <= year <= 9999:
        raise BaseError("年份无效 / year must be between 1900 and 9999", "year")
    if not isinstance(padding, int) or not 1 <= padding <= 12:
        raise BaseError("位数无效 / padding must be between 1 and 12", "padding")
    value = next_value(division, code, year)
    return format_number(prefix or code, year, value, padding)


def peek(division: Division | int, code: str, year: int | None = None) -> int:
    """The last number handed out (0 if none yet) — for admin screens, not for numbering."""
    division_id = getattr(division, "id", division)
    year = current_year() if year is None else year
    value = (Sequence.select(Sequence.last_value)
             .where((Sequence.division == division_id) & (Sequence.code == code)
                    & (Sequence.year == year)).scalar())
    return value or 0
