"""Parsing opportunity input: JSON values → model values, every problem named.

`parse(data, allowed, settings)` returns the clean values or raises a 422
`validation_failed` whose `fields` lists every bad input (unknown keys included), so a
client fixes a form in one round trip.
"""
from __future__ import annotations

import datetime as dt
import decimal

from core.web.base import APIError
from modules.opportunities.models import CATEGORIES

MAX_MONEY = decimal.Decimal("99999999999999.99")
CENT = decimal.Decimal("0.01")
THREATS = ("low", "medium", "high")


def invalid(fields: dict) -> APIError:
    return APIError(422, "输入无效 / invalid input: " + ", ".join(sorted(fields)),
                    code="validation_failed", fields=fields)


def as_money(value) -> decimal.Decimal:
    """A JSON number or numeric string → Decimal with at most 2 places, 0 ≤ x ≤ 10^14."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("必须是金额 / must be an amount")
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise ValueError("必须是金额 / must be an amount") from None
    if not number.is_finite() or number < 0 or number > MAX_MONEY:
        raise ValueError("金额需在 0 到 99999999999999.99 之间 / amount out of range")
    if number != number.quantize(CENT):
        raise ValueError("最多两位小数 / at most 2 decimal places")
    return number.quantize(CENT)


def as_date(value) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("日期格式为 YYYY-MM-DD / date must be YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("日期格式为 YYYY-MM-DD / date must be YYYY-MM-DD") from None


def as_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("必须是记录编号 / must be a record id")
    return value


def as_text(limit: int, required: bool = False):
    def parse(value) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"最多 {limit} 字的文本 / text of at most {limit} characters")
        value = value.strip()
        if required and not value:
            raise ValueError("不能为空 / must not be empty")
        return value
    return parse


def as_choice(choices):
    def parse(value):
        if value not in choices:
            raise ValueError("取值之一 / one of: " + ", ".join(choices))
        return value
    return parse


def as_probability(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError("0–100 的整数 / an integer from 0 to 100")
    return value


def as_custom(value) -> dict:
    if not isinstance(value, dict):
        raise ValueError("必须是对象 / must be an object")
    return value


PARSERS = {
    "name": as_text(200, required=True),
    "account": as_id,
    "contact": as_id,
    "owner": as_id,
    "pipeline": as_id,
    "stage": as_id,
    "amount": as_money,
    "budget": as_money,
    "currency": as_text(3, required=True),
    "expected_close": as_date,
    "forecast_category": as_choice(CATEGORIES),
    "probability": as_probability,
    "description": as_text(10_000),
    "custom": as_custom,
    "lost_reason": as_text(500, required=True),
}
NULLABLE = {"contact", "amount", "budget", "expected_close", "probability"}


def parse(data: dict, allowed: set[str], currency: str, required=()) -> dict:
    """Clean values for the keys of `data` (each must be in `allowed`)."""
    problems, values = {}, {}
    for key in sorted(set(data) - allowed):
        problems[key] = "未知或不可在此修改的字段 / unknown field or not changeable here"
    for key in required:
        if data.get(key) in (None, ""):
            problems[key] = "必填 / required"
    for key in sorted(set(data) & allowed):
        if key in problems:
            continue
        value = data[key]
        if value is None and key in NULLABLE:
            values[key] = None
            continue
        parser = PARSERS.get(key)
        if parser is None:
            continue  # handled by the caller (e.g. competitors)
        try:
            values[key] = parser(value)
        except ValueError as exc:
            problems[key] = str(exc)
    if "currency" in values and values["currency"] != currency:
        problems["currency"] = f"仅支持 {currency} / only {currency} is supported"
    if problems:
        raise invalid(problems)
    return values


def parse_competitor(data, where: str = "") -> dict:
    """`{"name", "strengths"?, "threat"?}` → competitor values."""
    problems, values = {}, {}
    if not isinstance(data, dict):
        raise invalid({where or "competitor": "必须是对象 / must be an object"})
    for key in sorted(set(data) - {"name", "strengths", "threat"}):
        problems[f"{where}{key}"] = "unknown field"
    for key, parser in (("name", as_text(200, required=True)), ("strengths", as_text(2000)),
                        ("threat", as_choice(THREATS))):
        if key in data:
            try:
                values[key] = parser(data[key])
            except ValueError as exc:
                problems[f"{where}{key}"] = str(exc)
    if "name" not in data:
        problems[f"{where}name"] = "必填 / required"
    if problems:
        raise invalid(problems)
    return values
