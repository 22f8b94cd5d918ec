"""`GET /api/v1/opportunities`: filters, sort, keyset pagination and field selection, all
in the caller's read scope.

Filters: `pipeline`, `stage`, `owner`, `account`, `status` (open / won / lost — the stage
kind), `forecast_category`, `expected_from` / `expected_to` (dates), `q` (name contains),
`min_amount` / `max_amount`. Sort: `id`, `created_at`, `updated_at`, `name`,
`expected_close` (no date sorts last), `amount` (in cents; no amount sorts as 0); `-` for
descending; ties break on id. The `after` cursor is opaque (base64 of the last row's sort
value and id); `limit` ≤ 200. Sorting or filtering on a field the caller may not read in
clear is refused (403): an order or a filter would leak what the field rules hide.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json

import peewee as pw

from core.web.base import APIError
from modules.opportunities.money import cents
from modules.opportunities.models import CATEGORIES, STAGE_KINDS, Opportunity, Stage
from modules.opportunities.present import clear_fields, present, readable_fields
from modules.opportunities.validation import as_date, as_money

FAR_DATE = dt.date(9999, 12, 31)
SORTS = {
    "id": (lambda: Opportunity.id, int, "id"),
    "created_at": (lambda: Opportunity.created_at, dt.datetime.fromisoformat, "created_at"),
    "updated_at": (lambda: Opportunity.updated_at, dt.datetime.fromisoformat, "updated_at"),
    "name": (lambda: Opportunity.name, str, "name"),
    "expected_close": (lambda: pw.fn.COALESCE(Opportunity.expected_close, FAR_DATE),
                       dt.date.fromisoformat, "expected_close"),
    # integer cents: exact on both databases (SQLite would compare a bound decimal as text)
    "amount": (lambda: cents(pw.fn.COALESCE(Opportunity.amount, 0)), int, "amount"),
}
MAX_LIMIT = 200


def bad(name: str, message: str) -> APIError:
    return APIError(400, f"{name}: {message}", code="bad_request", fields={name: message})


def forbidden(name: str, field: str) -> APIError:
    return APIError(403, f"无权按该字段筛选或排序 / not allowed to filter or sort on {field}",
                    code="forbidden_fields", fields={name: "hidden"})


def _int(args: dict, name: str) -> int | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise bad(name, "integer expected")
    return int(raw)


def _filters(ctx, args: dict) -> list:
    clear = clear_fields(ctx)
    where = []
    for name, column in (("pipeline", Opportunity.pipeline), ("stage", Opportunity.stage),
                         ("owner", Opportunity.owner), ("account", Opportunity.account)):
        value = _int(args, name)
        if value is not None:
            if name not in clear:
                raise forbidden(name, name)
            where.append(column == value)
    status = args.get("status")
    if status:
        if status not in STAGE_KINDS:
            raise bad("status", "one of " + ", ".join(STAGE_KINDS))
        where.append(Opportunity.stage.in_(Stage.select(Stage.id).where(Stage.kind == status)))
    category = args.get("forecast_category")
    if category:
        if category not in CATEGORIES:
            raise bad("forecast_category", "one of " + ", ".join(CATEGORIES))
        if "forecast_category" not in clear:
            raise forbidden("forecast_category", "forecast_category")
        where.append(Opportunity.forecast_category == category)
    where += _range_filters(args, clear)
    if args.get("q"):
        if "name" not in clear:
            raise forbidden("q", "name")
        where.append(Opportunity.name.contains(args["q"][:100]))
    return where


def _range_filters(args: dict, clear: set) -> list:
    where = []
    for name, column, parse, op in (
            ("expected_from", Opportunity.expected_close, as_date, ">="),
            ("expected_to", Opportunity.expected_close, as_date, "<="),
            ("min_amount", Opportunity.amount, as_money, ">="),
            ("max_amount", Opportunity.amount, as_money, "<=")):
        raw = args.get(name)
        if raw in (None, ""):
            continue
        if column.name not in clear:
            raise forbidden(name, column.name)
        try:
            value = parse(raw)
        except ValueError as exc:
            raise bad(name, str(exc)) from None
        where.append(column >= value if op == ">=" else column <= value)
    return where


def _sort(ctx, raw: str | None):
    raw = raw or "-id"
    descending = raw.startswith("-")
    name = raw.lstrip("-")
    if name not in SORTS:
        raise bad("sort", "one of " + ", ".join(SORTS))
    expr_of, parse, field = SORTS[name]
    if field != "id" and field not in clear_fields(ctx):
        raise forbidden("sort", field)
    return name, expr_of(), parse, descending


def encode_cursor(value, pk: int) -> str:
    text = json.dumps([None if value is None else str(value), pk])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(raw: str, parse):
    try:
        padded = raw + "=" * (-len(raw) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        return parse(value), int(pk)
    except (ValueError, TypeError, decimal.InvalidOperation):
        raise bad("after", "malformed cursor") from None


def _keyset(expr, value, pk: int, descending: bool):
    if descending:
        return (expr < value) | ((expr == value) & (Opportunity.id < pk))
    return (expr > value) | ((expr == value) & (Opportunity.id > pk))


def _sort_value(name: str, raw: dict):
    value = raw.get(name)
    if name == "expected_close" and value is None:
        return FAR_DATE
    if name == "amount":
        amount = decimal.Decimal(str(value or 0)) * 100
        return int(amount.to_integral_value(rounding=decimal.ROUND_HALF_UP))
    return value


def _fields(ctx, raw: str | None):
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in Opportunity._meta.fields]
    if unknown:
        raise bad("fields", "unknown: " + ", ".join(unknown))
    return [n for n in names if n in readable_fields(ctx)]


def list_opportunities(ctx, args: dict) -> dict:
    """A page of deals: `{"items": [...], "next": cursor or None}`."""
    import security

    limit = min(_int(args, "limit") or 50, MAX_LIMIT) or 50
    name, expr, parse, descending = _sort(ctx, args.get("sort"))
    fields = _fields(ctx, args.get("fields"))
    where = _filters(ctx, args)
    if args.get("after"):
        where.append(_keyset(expr, *decode_cursor(args["after"], parse), descending))
    query = security.scoped_select(ctx, Opportunity, "list")
    for term in where:
        query = query.where(term)
    order = (expr.desc(), Opportunity.id.desc()) if descending else (expr, Opportunity.id)
    raws = list(query.order_by(*order).limit(limit + 1).dicts())
    more = len(raws) > limit
    raws = raws[:limit]
    cursor = (encode_cursor(_sort_value(name, raws[-1]), raws[-1]["id"])
              if more and raws else None)
    return {"items": present(ctx, raws, fields), "next": cursor}
