"""Generic scoped data access: the door every module's list, get, count, search, create,
update, delete and export go through.

Each helper checks the model-level right (`require(ctx, act, "model/<name>")`, 403), applies
the row scope in SQL (`security.scope`), selects only the columns the caller may read
(`permitted_columns`) and checks written fields (`check_write`). A record outside the
caller's scope answers 404 exactly like a missing one, so existence never leaks; a record
the caller may read but not change answers 403.

The update/delete helpers issue one UPDATE/DELETE whose WHERE carries the scope — no model
`save()` hooks run; module services that need hooks do their own writes after
`get_or_404(ctx, Model, id, "write")`.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

import peewee as pw

from core.db import atomic, utcnow
from core.web.base import APIError
from security.fields import check_write, permitted_columns
from security.policy.names import model_name
from security.scopes import TRUE, scope
from security.serialisation import apply_plan, field_plan

MODEL_ACTS = {"read": "read", "get": "read", "list": "read", "count": "read", "search": "read",
              "export": "export", "write": "write", "update": "write", "delete": "delete",
              "create": "create"}


def require_model(ctx, model, op: str) -> None:
    """403 unless the caller may perform `op` on `model` at all."""
    import security

    security.require(ctx, MODEL_ACTS[op], f"model/{model_name(model)}")


def not_found(model, res_id) -> APIError:
    return APIError(404, f"记录不存在 / {model_name(model)} {res_id} not found", code="not_found")


def _record_id(model, res_id) -> int:
    """Record ids are integers; anything else cannot exist (404, not 400: no probing)."""
    if isinstance(res_id, bool):
        raise not_found(model, res_id)
    try:
        return int(res_id)
    except (TypeError, ValueError):
        raise not_found(model, res_id) from None


def _where(ctx, model, op: str, where=None):
    predicate = scope(ctx, model, op)
    if where is None:
        return predicate
    return where if predicate is TRUE else (predicate & where)


def scoped_select(ctx, model, op: str = "read", where=None) -> pw.ModelSelect:
    """`SELECT <permitted columns> FROM model WHERE <scope> [AND where]` after the model
    right check. Hidden columns are never selected."""
    require_model(ctx, model, op)
    return model.select(*permitted_columns(ctx, model)).where(_where(ctx, model, op, where))


def get_or_404(ctx, model, res_id, op: str = "read"):
    """The record `res_id` if it is in the caller's `op` scope (permitted columns loaded),
    else 404."""
    pk = _record_id(model, res_id)
    row = scoped_select(ctx, model, op, model._meta.primary_key == pk).first()
    if row is None:
        raise not_found(model, res_id)
    return row


def get_dict(ctx, model, res_id) -> dict:
    """One record as the caller may see it (hidden fields absent, masked values masked)."""
    return apply_plan(field_plan(ctx, model), [get_or_404(ctx, model, res_id)])[0]


def count(ctx, model, where=None) -> int:
    """How many records in the caller's read scope match `where`."""
    require_model(ctx, model, "count")
    return model.select().where(_where(ctx, model, "read", where)).count()


def list_rows(ctx, model, where=None, order_by=None, limit: int = 50,
              offset: int = 0) -> list[dict]:
    """A page of records in the caller's read scope, serialised (list and search); fetched
    ids-first when the scope is restricted (`security.pages.fetch_page`)."""
    from security.pages import fetch_page

    query = scoped_select(ctx, model, "list", where)
    query = query.order_by(*(order_by or (model._meta.primary_key,)))
    return apply_plan(field_plan(ctx, model), fetch_page(query.limit(limit).offset(offset)))


def export_rows(ctx, model, where=None, order_by=None, batch: int = 1000) -> Iterator[dict]:
    """Every record in the caller's read scope, serialised, streamed (the `export` right).
    The export is audited (model and exported fields) before the first row is produced."""
    from security import audit

    query = scoped_select(ctx, model, "export", where)
    query = query.order_by(*(order_by or (model._meta.primary_key,)))
    plan = field_plan(ctx, model)
    audit.record(ctx, audit.EXPORT, model=model._meta.table_name,
                 details={"fields": [name for name, _ in plan]})
    rows = []
    for row in query.dicts().iterator():
        rows.append(row)
        if len(rows) >= batch:
            yield from apply_plan(plan, rows)
            rows = []
    yield from apply_plan(plan, rows)


def _refuse(ctx, model, res_id: int):
    """After a scoped write touched nothing: 403 if the caller can at least read the record,
    404 otherwise."""
    readable = model.select(model._meta.primary_key).where(
        _where(ctx, model, "read", model._meta.primary_key == res_id)).exists()
    if readable:
        return APIError(403, f"无权修改此记录 / not allowed to change {model_name(model)} {res_id}",
                        code="forbidden")
    return not_found(model, res_id)


def _with_timestamp(model, data: Mapping[str, Any]) -> dict:
    values = dict(data)
    if "updated_at" in model._meta.fields and "updated_at" not in values:
        values["updated_at"] = utcnow()
    return values


def update_scoped(ctx, model, res_id, data: Mapping[str, Any]) -> dict:
    """Write `data` to record `res_id` if every field is writable (403 listing the others)
    and the record is in the caller's write scope (404/403). Returns the record as the
    caller now sees it."""
    require_model(ctx, model, "update")
    check_write(ctx, model, data)
    pk = _record_id(model, res_id)
    key = model._meta.primary_key
    with atomic():
        if data:
            changed = (model.update(_with_timestamp(model, data))
                       .where(_where(ctx, model, "write", key == pk)).execute())
        else:
            changed = model.select(key).where(_where(ctx, model, "write", key == pk)).exists()
        if not changed:
            raise _refuse(ctx, model, pk)
        if data and not model.select(key).where(_where(ctx, model, "write", key == pk)).exists():
            raise APIError(403, "修改后的记录超出你的数据范围 / the record would leave your data "
                           "scope", code="out_of_scope")  # the transaction rolls back
    return get_dict(ctx, model, pk)


def delete_scoped(ctx, model, res_id) -> None:
    """Delete record `res_id` if it is in the caller's write scope (404/403)."""
    require_model(ctx, model, "delete")
    pk = _record_id(model, res_id)
    key = model._meta.primary_key
    with atomic():
        if not model.delete().where(_where(ctx, model, "write", key == pk)).execute():
            raise _refuse(ctx, model, pk)


def create_scoped(ctx, model, data: Mapping[str, Any],
                  system: Mapping[str, Any] | None = None) -> dict:
    """Insert a record whose fields are all writable for the caller; refused (403, nothing
    kept) when the new record would fall outside the caller's write scope — one cannot
    create records for another owner or division than one's scope allows.

    `system` holds values the service itself sets (owner, division, created_by): they are
    not user input, so field rules do not apply to them, but the scope check still does."""
    require_model(ctx, model, "create")
    check_write(ctx, model, data, op="create")
    key = model._meta.primary_key
    with atomic():
        pk = model.insert({**dict(data), **dict(system or {})}).execute()
        if not model.select(key).where(_where(ctx, model, "write", key == pk)).exists():
            raise APIError(403, "新记录超出你的数据范围 / the new record would be outside your "
                           "data scope", code="out_of_scope")
    return get_dict(ctx, model, pk)
