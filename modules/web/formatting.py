"""China formats for pages: money as `¥1,234.50`, dates `2026-03-01`, times in Asia/Shanghai.

Values may be python objects (Decimal, datetime, date) or the strings the door's serialisation
produces (decimal strings, ISO 8601). Stored datetimes are naive UTC (see ARCHITECTURE §4)."""
from __future__ import annotations

import datetime as dt
import decimal

try:
    from zoneinfo import ZoneInfo
    SHANGHAI: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database on the host: China has had no DST since 1991
    SHANGHAI = dt.timezone(dt.timedelta(hours=8), "CST")

CURRENCY_SIGNS = {"CNY": "¥", "RMB": "¥"}
EMPTY = "—"


def fmt_money(value, currency: str | None = "CNY", places: int = 2) -> str:
    """`¥1,234.50` for CNY (other currencies as `USD 1,234.50`); empty values as a dash."""
    if value is None or value == "":
        return EMPTY
    try:
        amount = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    quantum = decimal.Decimal(1).scaleb(-places)
    text = f"{amount.quantize(quantum, rounding=decimal.ROUND_HALF_UP):,.{places}f}"
    code = (currency or "CNY").upper()
    sign = CURRENCY_SIGNS.get(code)
    if text.startswith("-"):
        return f"-{sign}{text[1:]}" if sign else f"-{code} {text[1:]}"
    return f"{sign}{text}" if sign else f"{code} {text}"


def _parse(value):
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                return dt.date.fromisoformat(text[:10])
            except ValueError:
                return None
    return value


def to_local(value) -> dt.datetime | None:
    """A datetime (naive = UTC) or ISO string as an aware Asia/Shanghai datetime."""
    value = _parse(value)
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(SHANGHAI)


def fmt_datetime(value) -> str:
    """`2026-03-01 14:05` in Asia/Shanghai; a plain date as `2026-03-01`."""
    parsed = _parse(value)
    if parsed is None:
        return EMPTY if value in (None, "") else str(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.isoformat()
    return to_local(parsed).strftime("%Y-%m-%d %H:%M")


def fmt_date(value) -> str:
    """`2026-03-01`; datetimes are first moved to Asia/Shanghai (the day a Chinese user sees)."""
    parsed = _parse(value)
    if parsed is None:
        return EMPTY if value in (None, "") else str(value)
    if isinstance(parsed, dt.datetime):
        parsed = to_local(parsed).date()
    return parsed.isoformat()
