"""Exact money sums in SQL and calendar months, the same on SQLite and PostgreSQL.

SQLite keeps decimals as binary floating point, so summing amounts there drifts by
fractions of a cent. Sums are therefore taken over integer cents
(`CAST(ROUND(amount * 100) AS BIGINT)`) and weighted sums over cents × probability
(an integer percentage): both are exact integers on both databases, turned back into
`Decimal` in Python and rounded once (half up) after summing.

Months: an expected close is a calendar date; a close time (`closed_at`, naive UTC) is
counted in the month it falls in in the install's time zone (`[locale] timezone`,
Asia/Shanghai by default), so a deal won at 01:00 Beijing time on 1 April counts in April.
"""
from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo

import peewee as pw

from core.db import is_postgres

CENT = decimal.Decimal("0.01")


def cents(column) -> pw.Node:
    """The amount in integer cents (NULL stays NULL)."""
    return pw.Cast(pw.fn.ROUND(column * 100), "BIGINT")


def from_cents(value) -> decimal.Decimal:
    """A SUM of cents → Decimal yuan (no rows: 0.00)."""
    return (decimal.Decimal(str(value or 0)) / 100).quantize(CENT)


def from_cent_percent(value) -> decimal.Decimal:
    """A SUM of cents × percent → Decimal yuan, rounded half up once."""
    return (decimal.Decimal(str(value or 0)) / 10000).quantize(
        CENT, rounding=decimal.ROUND_HALF_UP)


def text(value: decimal.Decimal) -> str:
    return format(value, "f")


def month_of_date(column) -> pw.Node:
    """`YYYY-MM` of a date column."""
    if is_postgres():
        return pw.fn.to_char(column, "YYYY-MM")
    return pw.fn.strftime("%Y-%m", column)


def month_of_time(column, offset_hours: int) -> pw.Node:
    """`YYYY-MM` of a naive UTC timestamp column, in a zone `offset_hours` from UTC."""
    if is_postgres():
        return pw.fn.to_char(column + pw.SQL(f"INTERVAL '{int(offset_hours)} hours'"),
                             "YYYY-MM")
    return pw.fn.strftime("%Y-%m", column, f"{int(offset_hours):+d} hours")


def zone(settings) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings["locale"]["timezone"])


def offset_hours(settings, at: dt.datetime) -> int:
    """Whole hours between the install's zone and UTC at `at` (UTC)."""
    local = at.replace(tzinfo=dt.timezone.utc).astimezone(zone(settings))
    return int(local.utcoffset().total_seconds() // 3600)


def local_today(ctx) -> dt.date:
    now = ctx.now()
    return (now + dt.timedelta(hours=offset_hours(ctx.registry.settings, now))).date()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return add_months(day, 1) - dt.timedelta(days=1)


def period_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(value: str) -> dt.date:
    """`YYYY-MM` → the first day of that month (ValueError otherwise)."""
    if not isinstance(value, str) or len(value) != 7 or value[4] != "-":
        raise ValueError("月份格式为 YYYY-MM / month must be YYYY-MM")
    try:
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise ValueError("月份格式为 YYYY-MM / month must be YYYY-MM") from None


def months_between(start: dt.date, end: dt.date) -> list[str]:
    labels, day = [], month_start(start)
    while day <= end:
        labels.append(period_label(day))
        day = add_months(day, 1)
    return labels


def utc_bounds(settings, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Naive UTC `[start, end)` covering local days `first` .. `last`."""
    tz = zone(settings)

    def utc(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(), tzinfo=tz)
        return local.astimezone(dt.timezone.utc).replace(tzinfo=None)

    return utc(first), utc(last + dt.timedelta(days=1))
