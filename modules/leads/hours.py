"""Working hours and local days (Asia/Shanghai by default, `[locale] timezone`).

A working-hours spec is `{"weekdays": [1, 2, 3, 4, 5], "ranges": [["09:00", "12:00"],
["13:30", "18:00"]]}`: ISO weekdays (1 = Monday) and local time ranges, start inclusive, end
exclusive (an end of "24:00" means midnight). Times are stored and compared in naive UTC; only
these helpers look at the local clock.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_of(registry=None) -> ZoneInfo:
    """The install's business time zone."""
    name = DEFAULT_ZONE
    if registry is not None:
        name = registry.settings["locale"].get("timezone") or DEFAULT_ZONE
    return _zone(name)


def to_local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Naive UTC → naive local time."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def local_day_start(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The naive UTC instant at which the local day containing `moment` began."""
    local = to_local(moment, zone)
    midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate(spec, field: str) -> dict[str, str]:
    """Problems with a working-hours spec as `{field: message}` (empty when fine)."""
    if spec is None:
        return {}
    bad = {field: '需要 {"weekdays": [1..7], "ranges": [["09:00", "18:00"]]} / expected '
                  'weekdays 1-7 and HH:MM ranges'}
    if not isinstance(spec, dict) or set(spec) - {"weekdays", "ranges"}:
        return bad
    weekdays, ranges = spec.get("weekdays"), spec.get("ranges")
    if (not isinstance(weekdays, list) or not weekdays
            or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
                       for d in weekdays)):
        return bad
    if not isinstance(ranges, list) or not ranges:
        return bad
    for item in ranges:
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(t, str) and _is_time(t) for t in item)
                or _minutes(item[0]) >= _minutes(item[1])):
            return bad
    return {}


def _is_time(text: str) -> bool:
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        return False
    hours, minutes = int(parts[0]), int(parts[1])
    return (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0)


def within(spec, moment: dt.datetime, zone: ZoneInfo) -> bool:
    """Is naive-UTC `moment` inside the working hours `spec` (None: always)?"""
    if not spec:
        return True
    local = to_local(moment, zone)
    if local.isoweekday() not in spec["weekdays"]:
        return False
    minute = local.hour * 60 + local.minute
    return any(_minutes(start) <= minute < _minutes(end) for start, end in spec["ranges"])
