"""Cleaning one lead's input — the same rules for the API, the web form and every import row.

`clean(raw, refs, ...)` takes field → raw value (strings from a file, JSON values from the API)
and returns `(values, errors)`: values normalised for storage (phones as `phone_display`,
e-mails lower-cased, budgets as Decimal, sources as codes, regions as ids, `company_key`
derived) and every problem at once, keyed by field, each message zh_CN then English. It
touches no database (`Refs` carries the region lookup), so the import can run it on a million
rows in a tight loop.
"""
from __future__ import annotations

import decimal
import functools
from dataclasses import dataclass, field

from modules.leads.models import SOURCES, STATUSES
from modules.leads.normalise import (clean_email, company_key, parse_budget, phone_display,
                                     region_id, source_code)

TEXT_LIMITS = {"name": 100, "company": 200, "title": 100, "campaign": 100, "industry": 64,
               "need": 4000, "wechat": 100, "lost_reason": 200}
CHANNELS = ("mobile", "email", "wechat")
INPUT_FIELDS = ("name", "company", "title", "mobile", "email", "wechat", "source", "campaign",
                "region", "industry", "budget", "need")
REQUIRED = "必填 / required"


@dataclass
class Refs:
    """Reference data a row is checked against (loaded once per request or import run)."""

    regions: dict[str, int] = field(default_factory=dict)  # label → id (normalise.region_index)
    region_ids: frozenset = frozenset()

    @classmethod
    def load(cls) -> "Refs":
        """The regions as they are now (one query; the label index is rebuilt only when
        they changed)."""
        from modules.base.models import Region
        from modules.leads import rawsql

        rows = tuple(rawsql.run(f'SELECT "id", "code", "name", "name_en" FROM '
                                f'"{Region._meta.table_name}"').fetchall())
        return _refs(rows)


@functools.lru_cache(maxsize=8)
def _refs(rows: tuple) -> Refs:
    from types import SimpleNamespace

    from modules.leads.normalise import region_index

    regions = [SimpleNamespace(id=i, code=c, name=n, name_en=e) for i, c, n, e in rows]
    return Refs(region_index(regions), frozenset(r.id for r in regions))


def _text(name: str, value, values: dict, errors: dict) -> None:
    if value.__class__ is not str:
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            errors[name] = "必须是文本 / must be text"
            return
    text = value.strip()
    if len(text) > TEXT_LIMITS[name]:
        errors[name] = f"最多 {TEXT_LIMITS[name]} 个字符 / at most {TEXT_LIMITS[name]} characters"
    else:
        values[name] = text


def _region(value, refs: Refs, values: dict, errors: dict) -> None:
    if isinstance(value, bool):
        found = None
    elif isinstance(value, int):
        found = value if value in refs.region_ids else None
    else:
        found = region_id(refs.regions, value)
    if found is None:
        errors["region"] = "未知区域 / unknown region"
    else:
        values["region"] = found


def _source(value, values: dict, errors: dict, lenient: bool) -> None:
    code = value if value in SOURCES else source_code(str(value))
    if code is not None:
        values["source"] = code
    elif lenient:  # an import keeps what the file said and files it under "other"
        values["source"] = "other"
        values["source_label"] = str(value).strip()[:100]
    else:
        errors["source"] = "可选 / one of: " + ", ".join(SOURCES)


def _channel(name: str, value, values: dict, errors: dict) -> None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        errors[name] = "必须是文本 / must be text"
        return
    if name == "mobile":
        shown = phone_display(str(value))
        if shown is None:
            errors[name] = "手机号无效 / not a phone number"
        else:
            values[name] = shown
    elif name == "email":
        try:
            values[name] = clean_email(str(value))
        except ValueError as exc:
            errors[name] = str(exc)
    else:
        _text(name, str(value), values, errors)


def _budget(value, values: dict, errors: dict) -> None:
    try:
        values["budget"] = parse_budget(value if not isinstance(value, float) else repr(value))
    except ValueError as exc:
        errors["budget"] = str(exc)


def _status(value, values: dict, errors: dict) -> None:
    if value not in STATUSES or value == "converted":
        errors["status"] = "可选 / one of: " + ", ".join(s for s in STATUSES if s != "converted")
    else:
        values["status"] = value


def _blank_value(name: str, values: dict, errors: dict) -> None:
    if name == "name":
        errors[name] = REQUIRED
    elif name == "source":
        values[name] = "other"
    else:
        values[name] = None


def clean(raw: dict, refs: Refs, *, creating: bool = True, lenient_source: bool = False,
          extra: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Normalise the lead fields in `raw` (others are ignored unless named in `extra`);
    return `(values, errors)`. Blank values clear a field (None); `name` is required when
    creating and cannot be cleared."""
    values: dict = {}
    errors: dict = {}
    for name, value in raw.items():
        if name not in KNOWN and name not in extra:
            continue
        if value is None or (value.__class__ is str and not value.strip()):
            _blank_value(name, values, errors)
        elif name in TEXT_LIMITS and name != "wechat":
            _text(name, value, values, errors)
        elif name in CHANNELS:
            _channel(name, value, values, errors)
        elif name == "source":
            _source(value, values, errors, lenient_source)
        elif name == "region":
            _region(value, refs, values, errors)
        elif name == "budget":
            _budget(value, values, errors)
        elif name == "status":
            _status(value, values, errors)
    if creating and "name" not in raw:
        errors["name"] = REQUIRED
    if values.get("company") is not None:
        values["company_key"] = company_key(values["company"])
    elif "company" in values:
        values["company_key"] = None
    return values, errors


KNOWN = frozenset(INPUT_FIELDS)
