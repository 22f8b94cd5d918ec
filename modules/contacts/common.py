"""Shared pieces of the contacts services: input checks and writes that stay inside the door.

Services raise `core.web.base.APIError` (the project's error type with status and `fields`,
the same the security door raises), so the HTTP layer and the CLI report them unchanged.

- `Checker` collects every bad input before answering 422 with all of them in `fields`.
- `check_input` refuses fields the caller may not write (403 listing every one, field rules
  plus the fields the system maintains itself, e.g. `name_key`, `division`).
- `insert_in_scope` / `update_in_scope` / `delete_in_scope` write and then verify the record
  is (still) inside the caller's write scope, rolling back with 403 `out_of_scope` otherwise:
  nobody creates a record for, or hands one to, an owner outside their scope. Every write is
  audited in the same transaction (`security.audit.record_change`; phones, e-mails hashed).
  They differ from `security.crud.create_scoped` / `update_scoped` in that values the
  service sets itself (owner, division, computed keys) are written without being checked
  as user input, and in the after-write scope check and the audit.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

from core.db import atomic, utcnow
from core.web.base import APIError
from security.crud import not_found, require_model
from security.fields import check_write
from security.scopes import FALSE, any_of, both, scope

SYSTEM_FIELDS = frozenset({"id", "created_at", "updated_at"})
MAX_ID = 2**31 - 1  # record ids are 32-bit integers (PostgreSQL serial)


def unprocessable(fields: Mapping[str, str]) -> APIError:
    return APIError(422, "输入有误 / invalid input: " + ", ".join(sorted(fields)),
                    code="validation_failed", fields=dict(fields))


def as_pk(value) -> int | None:
    """`value` as a record id (a positive 32-bit integer, or its digits), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)


def record_id(value, field: str = "id") -> int:
    """A record id from JSON or a query string (422 naming `field` otherwise)."""
    found = as_pk(value)
    if found is None:
        raise unprocessable({field: "必须是记录编号 / must be a record id"})
    return found


def division_id(ctx) -> int:
    """The division the caller works in (422 when they have none: nothing to file into)."""
    import security

    found = security.permissions(ctx).division_id
    if found is None:
        raise APIError(422, "当前没有所属事业部 / you work in no division", code="no_division",
                       fields={"division": "required"})
    return found


class Checker:
    """Collects input problems; `done()` raises one 422 naming every bad field."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.errors: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(self, field: str, max_length: int, *, required: bool = False,
             nullable: bool = True) -> None:
        """Trimmed text; `required`: must be given (on create); `nullable=False`: may not be
        cleared (on update)."""
        if field not in self.data:
            if required:
                self.fail(field, "必填 / required")
            return
        value = self.data[field]
        if value is None or (isinstance(value, str) and not value.strip()):
            if required or not nullable:
                self.fail(field, "必填 / required")
            else:
                self.values[field] = None
            return
        if not isinstance(value, str):
            self.fail(field, "必须是文本 / must be text")
        elif len(value.strip()) > max_length:
            self.fail(field, f"最多 {max_length} 个字符 / at most {max_length} characters")
        else:
            self.values[field] = value.strip()

    def choice(self, field: str, choices: Iterable[str], *, nullable: bool = False) -> None:
        if field not in self.data:
            return
        value = self.data[field]
        choices = tuple(choices)
        if value is None and nullable:
            self.values[field] = None
        elif value not in choices:
            self.fail(field, "可选值 / one of: " + ", ".join(choices))
        else:
            self.values[field] = value

    def reference(self, field: str, model, *, nullable: bool = True, where=None) -> None:
        """An id of an existing `model` row (optionally also matching `where`)."""
        if field not in self.data:
            return
        value = self.data[field]
        if value is None:
            if nullable:
                self.values[field] = None
            else:
                self.fail(field, "必填 / required")
            return
        pk = as_pk(value)
        if pk is None:
            self.fail(field, "必须是记录编号 / must be a record id")
            return
        query = model.select(model._meta.primary_key).where(model._meta.primary_key == pk)
        if where is not None:
            query = query.where(where)
        if not query.exists():
            self.fail(field, f"没有记录 {value} / no such record")
        else:
            self.values[field] = pk

    def moment(self, field: str, *, nullable: bool = True) -> None:
        """An ISO 8601 date-time; with an offset it is converted to naive UTC."""
        if field not in self.data:
            return
        value = self.data[field]
        if value is None and nullable:
            self.values[field] = None
            return
        parsed = parse_moment(value)
        if parsed is None:
            self.fail(field, "需要 ISO 8601 时间 / ISO 8601 date-time expected")
        else:
            self.values[field] = parsed

    def date(self, field: str) -> None:
        if field not in self.data:
            return
        value = self.data[field]
        if value is None:
            self.values[field] = None
            return
        try:
            self.values[field] = dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(field, "需要日期 YYYY-MM-DD / date YYYY-MM-DD expected")

    def mapping(self, field: str) -> None:
        if field not in self.data:
            return
        value = self.data[field]
        if not isinstance(value, dict):
            self.fail(field, "必须是对象 / must be an object")
        else:
            self.values[field] = value

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise unprocessable(self.errors)
        return self.values


def parse_moment(value) -> dt.datetime | None:
    """ISO 8601 text → naive UTC datetime (None if unparseable)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def check_input(ctx, model, data: Mapping[str, Any], op: str = "write",
                system: Iterable[str] = ()) -> None:
    """403 `forbidden_fields` listing every field of `data` the caller may not write: those
    the field rules refuse and those the system maintains (`system` + ids and timestamps).
    Unknown names answer 400 (from `security.check_write`)."""
    maintained = SYSTEM_FIELDS | frozenset(system)
    forbidden = {name: "read-only" for name in data if name in maintained}
    rest = {name: value for name, value in data.items() if name not in maintained}
    try:
        check_write(ctx, model, rest, op="create" if op == "create" else "write")
    except APIError as exc:
        if exc.code != "forbidden_fields":
            raise
        forbidden.update(exc.fields)
    if forbidden:
        raise APIError(403, "无权修改这些字段 / not allowed to write fields: "
                       + ", ".join(sorted(forbidden)), code="forbidden_fields", fields=forbidden)


def _out_of_scope() -> APIError:
    return APIError(403, "记录将超出你的数据范围 / the record would be outside your data scope",
                    code="out_of_scope")


def in_write_scope(ctx, model, pk: int, also=None) -> bool:
    """Is record `pk` in the caller's write scope (or matching `also`)?"""
    predicate = any_of([scope(ctx, model, "write"), also])
    if predicate is FALSE:
        return False
    return model.select(model._meta.primary_key).where(
        (model._meta.primary_key == pk) & predicate).exists()


def _snapshot(model, pk: int):
    """`(row, values)` of record `pk` for the audit trail (blind indexes left out)."""
    from security import audit

    row = model.get_or_none(model._meta.primary_key == pk)
    if row is None:
        return None, {}
    return row, {k: v for k, v in audit.snapshot(row).items() if not k.endswith("_bidx")}


def audit_change(ctx, model, pk: int, before: dict, row=None) -> None:
    """Record a create (empty `before`), update or delete (`row` given, gone now) of `pk`;
    the model's maskable fields (`__masks__`: phones, e-mails) are stored only as hashes."""
    from security import audit

    sensitive = set(getattr(model, "__masks__", None) or {})
    if row is not None:
        audit.record_change(ctx, row, before, {}, sensitive=sensitive)
        return
    current, after = _snapshot(model, pk)
    audit.record_change(ctx, current, before, after, sensitive=sensitive)


def insert_in_scope(ctx, model, data: Mapping[str, Any], system: Mapping[str, Any],
                    also=None) -> int:
    """Create a record from checked user `data` plus service-set `system` values; 403 and
    nothing kept unless it lands in the caller's write scope (or matches `also`). Audited."""
    require_model(ctx, model, "create")
    with atomic():
        pk = model.insert({**data, **system}).execute()
        if not in_write_scope(ctx, model, pk, also):
            raise _out_of_scope()
        audit_change(ctx, model, pk, {})
    return pk


def delete_in_scope(ctx, model, pk: int, refuse_with=None) -> None:
    """Delete record `pk` if it is in the caller's write scope (else `refuse_with(pk)` or
    `refuse`: 403 when readable, 404 when not). Audited."""
    require_model(ctx, model, "delete")
    with atomic():
        row, before = _snapshot(model, pk)
        writable = both(model._meta.primary_key == pk, scope(ctx, model, "write"))
        if row is None or writable is FALSE or not model.delete().where(writable).execute():
            raise (refuse_with or (lambda key: refuse(ctx, model, key)))(pk)
        audit_change(ctx, model, pk, before, row=row)


def refuse(ctx, model, pk: int) -> APIError:
    """404 when the caller cannot even read the record, else 403."""
    readable = model.select(model._meta.primary_key).where(
        (model._meta.primary_key == pk) & scope(ctx, model, "read")).exists()
    if readable:
        return APIError(403, f"无权修改此记录 / not allowed to change record {pk}",
                        code="forbidden")
    return not_found(model, pk)


def update_in_scope(ctx, model, pk: int, data: Mapping[str, Any],
                    system: Mapping[str, Any] | None = None) -> None:
    """Write checked `data` (and service-set `system` values) to record `pk` when it is in
    the caller's write scope (404/403 otherwise) and still is afterwards (403, rolled back)."""
    require_model(ctx, model, "update")
    values = {**data, **(system or {})}
    key = model._meta.primary_key
    if values and "updated_at" in model._meta.fields:
        values.setdefault("updated_at", utcnow())
    with atomic():
        if not values:
            if not in_write_scope(ctx, model, pk):
                raise refuse(ctx, model, pk)
            return
        _, before = _snapshot(model, pk)
        writable = both(key == pk, scope(ctx, model, "write"))
        if writable is FALSE or not model.update(values).where(writable).execute():
            raise refuse(ctx, model, pk)
        if not in_write_scope(ctx, model, pk):
            raise _out_of_scope()
        audit_change(ctx, model, pk, before)


def read_level(ctx, model, field: str) -> str:
    """The caller's level on one field (hidden / masked / read / write)."""
    import security

    return security.permitted_fields(ctx, model, "read").level(field)


def without_internal(rows: list[dict]) -> list[dict]:
    """Drop blind-index columns from output: they are lookup keys, not data."""
    for row in rows:
        for key in [k for k in row if k.endswith("_bidx")]:
            del row[key]
    return rows
