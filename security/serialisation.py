"""Rows → JSON-ready dicts under the caller's field rules.

`serialise(ctx, Model, rows)` keeps only readable fields, masks masked ones, writes money
(decimals) as strings, dates and datetimes as ISO 8601, foreign keys as ids. The per-model
*plan* — a tuple of `(name, transform)` — is built once per request; the per-row work is one
tight loop over it. Rows may be model instances (their loaded `__data__` is read, no lazy
foreign-key loads) or dicts (`query.dicts()`).
"""
from __future__ import annotations

import base64
import decimal
from typing import Any, Callable, Iterable

import peewee as pw

from security.crypto.blind import BlindIndexField
from security.fields import permitted_fields
from security.sensitive_reads import collector, sensitive_fields
from security.policy.names import model_name
from security.masking import mask_kind, masker

Transform = Callable[[Any], Any] | None


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _decimal(places: int | None) -> Callable[[Any], str]:
    """Decimals (money) as plain strings, at the field's scale when it declares one."""
    quantum = decimal.Decimal(1).scaleb(-places) if places is not None else None

    def convert(value) -> str:
        if not isinstance(value, decimal.Decimal):
            value = decimal.Decimal(str(value))
        if quantum is not None:
            value = value.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
        return format(value, "f")

    return convert


def _bytes(value) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def field_transform(field: pw.Field) -> Transform:
    """How one field's python value becomes JSON (None: as is)."""
    if isinstance(field, pw.DecimalField):
        return _decimal(field.decimal_places)
    if isinstance(field, (pw.DateTimeField, pw.DateField, pw.TimeField)):
        return _iso
    if isinstance(field, pw.UUIDField):
        return str
    if isinstance(field, pw.BlobField):
        return _bytes
    return None


def _chain(first: Transform, then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    if first is None:
        return then
    return lambda value: then(first(value))


def field_plan(ctx, model) -> tuple[tuple[str, Transform], ...]:
    """The caller's `(name, transform)` plan for `model` (built once per request)."""

    def build():
        perms = permitted_fields(ctx, model, "read")
        fields = model._meta.fields
        plan = []
        for name in perms.readable:
            if isinstance(fields[name], BlindIndexField):
                continue  # search keys, never data: no role receives them
            transform = field_transform(fields[name])
            if name in perms.masked:
                transform = _chain(transform, masker(mask_kind(model, name)))
            plan.append((name, transform))
        clear = sorted(sensitive_fields(model) & (set(perms.readable) - set(perms.masked)))
        pk = model._meta.primary_key.name
        if clear and ctx.user is not None and plan and plan[0][0] == pk:
            note = collector(ctx, model_name(model), clear)  # audited at the request's end
            plan[0] = (pk, _chain(plan[0][1], lambda value: (note(value), value)[1]))
        return tuple(plan)

    return ctx.cached(("security.plan", model_name(model)), build)


def apply_plan(plan, rows: Iterable[Any]) -> list[dict]:
    """Apply a field plan to model instances or dicts."""
    out = []
    append = out.append
    for row in rows:
        data = row if isinstance(row, dict) else row.__data__
        get = data.get
        item = {}
        for name, transform in plan:
            value = get(name)
            item[name] = value if value is None or transform is None else transform(value)
        append(item)
    return out


def serialise(ctx, model, rows: Iterable[Any]) -> list[dict]:
    """Rows of `model` as dicts with only the fields the caller may read, masked as ruled."""
    return apply_plan(field_plan(ctx, model), rows)


def serialise_one(ctx, model, row: Any) -> dict:
    return apply_plan(field_plan(ctx, model), (row,))[0]

