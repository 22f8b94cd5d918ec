"""Field rules: per role and field, `hidden` / `masked` / `read` / `write`.

The levels come from the caller's compiled permission table
(`security.permissions(ctx).field_level(model, field)`: the most permissive across the
caller's roles; a field without a rule follows the model). The primary key is always
read-only, and so are the fields the system maintains (`__readonly__ = ("created_at",
"updated_at")` by default; a model may declare its own tuple). This module turns them into:

- `permitted_fields(ctx, Model, op)` → `FieldPermissions` (what may be read, masked, written);
- `permitted_columns(ctx, Model)` → the columns to SELECT, so hidden values never leave
  the database;
- `check_write(ctx, Model, data)` → refuses (403) a write touching any field that is not
  writable, listing every such field — never silently dropping one; unknown fields are 400.

Serialising rows with these rules lives in `security.serialisation`. Everything is computed
once per request and model (`ctx.cached`), never per row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from core.web.base import APIError
from security.policy.names import FIELD_LEVELS as LEVELS, model_name

WRITE_OPS = ("write", "create", "update")
SYSTEM_READONLY = ("created_at", "updated_at")
REASONS = {"hidden": "hidden", "masked": "masked", "read": "read-only"}


@dataclass(frozen=True)
class FieldPermissions:
    """The caller's level for every field of one model.

    `names` are the field names usable for `op` (readable ones for reads, writable ones for
    writes), in the model's field order."""

    model: type
    op: str
    levels: Mapping[str, str]

    def level(self, name: str) -> str:
        return self.levels.get(name, "hidden")

    @property
    def readable(self) -> tuple[str, ...]:
        return tuple(n for n, lvl in self.levels.items() if lvl != "hidden")

    @property
    def masked(self) -> frozenset[str]:
        return frozenset(n for n, lvl in self.levels.items() if lvl == "masked")

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(n for n, lvl in self.levels.items() if lvl == "hidden")

    @property
    def writable(self) -> tuple[str, ...]:
        return tuple(n for n, lvl in self.levels.items() if lvl == "write")

    @property
    def names(self) -> tuple[str, ...]:
        return self.writable if self.op in WRITE_OPS else self.readable

    def __contains__(self, name: str) -> bool:
        return name in self.names


def field_levels(table, model, op: str = "read") -> dict[str, str]:
    """Every field of `model` → its level in the permission `table`, in field order.

    The primary key is always readable and never writable: ids address records, they are
    not data. Fields the system maintains (`__readonly__`, by default `created_at` and
    `updated_at`) are at most readable, whatever the rules say; scope mirrors
    (`security.mirrors`) are the database's bookkeeping, hidden from everyone."""
    from security.mirrors import ScopeMirrorField

    name = model_name(model)
    pk = model._meta.primary_key
    readonly = set(getattr(model, "__readonly__", SYSTEM_READONLY))
    levels = {}
    level_of = table.create_field_level if op == "create" else table.field_level
    for field in model._meta.sorted_fields:
        level = level_of(name, field.name)
        if level not in LEVELS:
            raise ValueError(f"field rule for {name}.{field.name} is {level!r}, "
                             f"expected one of {', '.join(LEVELS)}")
        if field is pk or (field.name in readonly and level == "write"):
            level = "read"
        if isinstance(field, ScopeMirrorField):
            level = "hidden"
        levels[field.name] = level
    return levels


def _table(ctx):
    import security

    return security.permissions(ctx)


def permitted_fields(ctx, model, op: str = "read") -> FieldPermissions:
    """The caller's field rules for `model` (computed once per request and model)."""
    kind = "create" if op == "create" else "read"
    levels = ctx.cached(("security.fields", model_name(model), kind),
                        lambda: field_levels(_table(ctx), model, kind))
    return FieldPermissions(model=model, op=op, levels=levels)


def permitted_columns(ctx, model) -> list:
    """The peewee fields the caller may read (masked ones included: they are masked after
    the fetch), primary key first — the column list for a SELECT."""
    perms = permitted_fields(ctx, model, "read")
    fields = model._meta.fields
    return [fields[name] for name in perms.readable]


def check_write(ctx, model, data: Mapping[str, Any], op: str = "write") -> Mapping[str, Any]:
    """Refuse a write unless every field in `data` is writable for the caller.

    Unknown field names → 400 `unknown_fields`; fields the caller may not write → 403
    `forbidden_fields` with `fields = {name: "hidden" | "masked" | "read-only"}` listing all of
    them. Returns `data` unchanged when allowed."""
    known = model._meta.fields
    unknown = sorted(name for name in data if name not in known)
    if unknown:
        raise APIError(400, "未知字段 / unknown fields: " + ", ".join(unknown),
                       code="unknown_fields", fields={name: "unknown" for name in unknown})
    perms = permitted_fields(ctx, model, op)
    forbidden = {name: REASONS.get(perms.level(name), "read-only")
                 for name in data if perms.level(name) != "write"}
    if forbidden:
        raise APIError(403, "无权修改这些字段 / not allowed to write fields: "
                       + ", ".join(sorted(forbidden)), code="forbidden_fields", fields=forbidden)
    return data
