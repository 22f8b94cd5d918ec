"""List plumbing shared by every contacts list endpoint: sort, keyset pagination, field selection.

- `sort=name` / `sort=-created_at`: only among the fields a list declares sortable, and only
  fields the caller may read in clear (sorting by a hidden or masked value would leak it).
- `after=<cursor>`: the opaque cursor of the previous page's last row (sort value + id), so
  pages stay stable while rows are added; `limit` ≤ 200 (default 50).
- `fields=name,owner`: the caller's readable fields to return (`id` always).

`ListParams.parse(get)` reads them from query arguments (400 naming the bad one);
`apply(query, ...)` adds ORDER BY / WHERE / LIMIT; `next_cursor(rows)` builds the cursor.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import peewee as pw

from core.web.base import APIError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
FAR_FUTURE = dt.datetime(9999, 12, 31)


def bad_request(name: str, message: str) -> APIError:
    return APIError(400, f"参数 {name} 有误 / invalid parameter {name}: {message}",
                    fields={name: message})


@dataclass(frozen=True)
class Sort:
    """A sortable column; `null_as` stands in for NULL so keyset comparisons stay total."""

    field: pw.Field
    null_as: Any = None

    @property
    def expression(self):
        if self.null_as is None:
            return self.field
        return pw.fn.COALESCE(self.field, self.null_as)

    def value(self, row: dict):
        found = row.get(self.field.name)
        return self.null_as if found is None else found


def _encode(value) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    return value


def _decode(value) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return dt.datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "d" in value:
        return dt.date.fromisoformat(value["d"])
    return value


def _checked_cursor(spec: Sort, after: tuple) -> tuple:
    """The cursor's values if they have the sort column's type (400 otherwise: a cursor
    from another sort, or forged)."""
    from modules.contacts.common import as_pk

    value, last_id = after
    field = spec.field
    if isinstance(field, pw.DateTimeField):
        ok = isinstance(value, dt.datetime)
    elif isinstance(field, pw.DateField):
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    elif isinstance(field, (pw.IntegerField, pw.AutoField)):
        ok = as_pk(value) is not None and isinstance(value, int)
    else:
        ok = isinstance(value, str)
    if not ok or not isinstance(last_id, int) or as_pk(last_id) is None:
        raise bad_request("after", "游标无效 / malformed cursor")
    return value, last_id


@dataclass
class ListParams:
    sort: str
    descending: bool
    after: tuple | None
    limit: int
    fields: list[str] | None = field(default=None)

    @classmethod
    def parse(cls, get: Callable[[str], str | None], default_sort: str = "-id") -> "ListParams":
        raw_sort = get("sort") or default_sort
        descending = raw_sort.startswith("-")
        limit_raw = get("limit")
        if limit_raw in (None, ""):
            limit = DEFAULT_LIMIT
        elif not (limit_raw.isascii() and limit_raw.isdigit()) or int(limit_raw) == 0:
            raise bad_request("limit", "正整数 / a positive integer")
        else:
            limit = min(int(limit_raw), MAX_LIMIT)
        after = None
        if get("after"):
            try:
                decoded = json.loads(base64.urlsafe_b64decode(get("after").encode("ascii")))
                after = (_decode(decoded[0]), decoded[1])
            except (ValueError, TypeError, IndexError, KeyError, AttributeError):
                raise bad_request("after", "游标无效 / malformed cursor") from None
        fields = [name.strip() for name in (get("fields") or "").split(",") if name.strip()]
        return cls(raw_sort.lstrip("-"), descending, after, limit, fields or None)

    def apply(self, ctx, model, query: pw.ModelSelect, sorts: dict[str, Sort]) -> pw.ModelSelect:
        """ORDER BY the chosen sort then id, WHERE after the cursor, LIMIT limit + 1."""
        from modules.contacts.common import read_level

        spec = sorts.get(self.sort)
        if spec is None:
            raise bad_request("sort", "可选 / one of: " + ", ".join(sorted(sorts)))
        if read_level(ctx, model, spec.field.name) not in ("read", "write"):
            raise bad_request("sort", "不能按不可见字段排序 / cannot sort by a field you "
                              "cannot read in clear")
        key, expr = model._meta.primary_key, spec.expression
        if self.after is not None:
            value, last_id = _checked_cursor(spec, self.after)
            if self.descending:
                query = query.where((expr < value) | ((expr == value) & (key < last_id)))
            else:
                query = query.where((expr > value) | ((expr == value) & (key > last_id)))
        order = (expr.desc(), key.desc()) if self.descending else (expr.asc(), key.asc())
        return query.order_by(*order).limit(self.limit + 1)

    def page(self, rows: list[dict], sorts: dict[str, Sort],
             pk: str = "id") -> tuple[list, str | None]:
        """Cut the extra row fetched by `apply`; return `(rows, next cursor or None)`."""
        if len(rows) <= self.limit:
            return rows, None
        rows = rows[: self.limit]
        last = rows[-1]
        token = json.dumps([_encode(sorts[self.sort].value(last)), last[pk]])
        return rows, base64.urlsafe_b64encode(token.encode("ascii")).decode("ascii")

    def select_fields(self, model, items: list[dict]) -> list[dict]:
        """Keep only the requested fields (400 for names the model does not have)."""
        if not self.fields:
            return items
        unknown = [name for name in self.fields if name not in model._meta.fields
                   and name not in EXTRA_FIELDS]
        if unknown:
            raise bad_request("fields", "未知字段 / unknown fields: " + ", ".join(unknown))
        wanted = {"id", *self.fields}
        return [{key: value for key, value in item.items() if key in wanted} for item in items]


# computed output fields lists may add next to model fields (selectable by name too)
EXTRA_FIELDS = frozenset({"owner_name", "assignee_name", "tags", "overdue", "account_name"})
