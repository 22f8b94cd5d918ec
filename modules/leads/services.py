"""Leads (线索): create, read, list and search, update, delete — through the door.

- Model rights (`model/lead` read/create/write/delete) answer 403; a lead outside the
  caller's row scope answers 404 (403 when readable but not writable).
- Input is cleaned by `validation.clean` (phones via `phonenumbers`, e-mails lower-cased,
  budgets as Decimal, source labels as codes, regions by id or name); every bad field is
  reported at once (422). Fields the caller may not write — by the field rules or because the
  system maintains them (scores, clocks, blind indexes, conversion links; see `EDITABLE`) —
  are refused with 403 listing every one.
- Status moves belong to the status SOP (part 2, `sop.py`); conversion to `convert.py`,
  merging to `merge.py`. A converted or merged lead is frozen (409).
- Writes go through contacts' `insert_in_scope` / `update_in_scope` / `delete_in_scope`
  (scope before and after, audited with phones and e-mails hashed) and new leads through
  `pipeline.after_create` (scoring, assignment) in the same transaction.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import atomic
from core.web.base import APIError
from modules.base.models import User
from modules.contacts.common import (as_pk, check_input, delete_in_scope, division_id,
                                     insert_in_scope, read_level, unprocessable,
                                     update_in_scope, without_internal)
from modules.contacts.paging import ListParams, Sort, bad_request
from modules.leads import pipeline
from modules.leads.models import SOURCES, STATUSES, Lead
from modules.leads.validation import CHANNELS, INPUT_FIELDS, Refs, clean
from security.crud import get_or_404, not_found, require_model, scoped_select
from security.crypto import blind_index_for
from security.fields import permitted_columns
from security.scopes import any_of, both, scope
from security.serialisation import serialise

EDITABLE = frozenset(INPUT_FIELDS) | {"owner", "custom"}
INTERNAL = ("import_key",)  # never answered: a row key of the import, not data
SORTS = {"id": Sort(Lead.id), "name": Sort(Lead.name), "score": Sort(Lead.score),
         "created_at": Sort(Lead.created_at), "updated_at": Sort(Lead.updated_at),
         "last_activity_at": Sort(Lead.last_activity_at, null_as=dt.datetime(1970, 1, 1))}


def maintained() -> tuple[str, ...]:
    """Lead fields no caller writes directly (everything but `EDITABLE` and the id)."""
    return tuple(name for name in Lead._meta.fields if name not in EDITABLE and name != "id")


def frozen(lead) -> APIError | None:
    """409 for a lead that can no longer change (converted, or merged into another)."""
    if lead.merged_into:
        return APIError(409, f"线索已合并到 #{lead.merged_into} / the lead was merged into "
                        f"#{lead.merged_into}", code="merged")
    if lead.status == "converted":
        return APIError(409, "线索已转化 / the lead is already converted", code="converted")
    return None


# ------------------------------------------------------------------ input
def _owner(data: dict, values: dict, errors: dict) -> None:
    if "owner" not in data:
        return
    raw = data["owner"]
    if raw is None:
        values["owner"] = None
        return
    pk = as_pk(raw)
    if pk is None or not User.select(User.id).where((User.id == pk)
                                                    & (User.active == True)).exists():  # noqa: E712
        errors["owner"] = "没有这个在职用户 / no such active user"
    else:
        values["owner"] = pk


def _input(ctx, data: dict, creating: bool) -> dict:
    """Check rights on every given field (403), then clean the values (422)."""
    if not isinstance(data, dict):
        raise APIError(400, "请求体必须是对象 / body must be an object")
    check_input(ctx, Lead, data, "create" if creating else "write", maintained())
    values, errors = clean(data, Refs.load(), creating=creating)
    _owner(data, values, errors)
    if "custom" in data:
        if isinstance(data["custom"], dict):
            values["custom"] = data["custom"]
        else:
            errors["custom"] = "必须是对象 / must be an object"
    if errors:
        raise unprocessable(errors)
    return values


def owner_in_scope(ctx, owner_id: int, division: int) -> bool:
    """Would a lead of `division` owned by `owner_id` be inside the caller's write scope?
    Answered by the door itself: a probe row inserted and rolled back in a savepoint."""
    import security

    if ctx.user is None:
        return True
    with atomic() as savepoint:
        pk = Lead.insert(name="-", division=division, owner=owner_id).execute()
        inside = Lead.select(Lead.id).where((Lead.id == pk)
                                            & security.scope(ctx, Lead, "write")).exists()
        savepoint.rollback()
    return inside


# ------------------------------------------------------------------ writes
def create_lead(ctx, data: dict, division: int | None = None) -> dict:
    """Create a lead in the caller's division, owned by the caller unless an owner is given
    (a field right); scored and assigned (`pipeline.after_create`) in the same transaction.
    Returns `{"lead": ..., "duplicates": ...}` (see `dedupe.summary`)."""
    from modules.leads.dedupe import summary

    require_model(ctx, Lead, "create")
    values = _input(ctx, data, creating=True)
    now = ctx.now()
    system = {"division": division or division_id(ctx), "created_by": ctx.user_id,
              "status": "new", "status_changed_at": now, "created_at": now, "updated_at": now}
    if "owner" not in values:
        system["owner"] = ctx.user_id
    values.setdefault("source", "other")
    with atomic(release_early=True):  # the cursor and audit-head row locks go at COMMIT
        pk = insert_in_scope(ctx, Lead, values, system)
        pipeline.after_create(ctx, [pk])
    return {"lead": get_lead(ctx, pk), "duplicates": summary(ctx, pk)}


SCORE_INPUTS = frozenset({"source", "name", "company", "title", "mobile", "email", "wechat",
                          "region", "industry", "budget", "need", "campaign"})


def update_lead(ctx, lead_id, data: dict) -> dict:
    """Change the editable fields of a lead in the caller's write scope. In the same
    transaction, a change of a field the score reads rescores the lead, and a new owner
    gets it as an assignment does (`assignment.owner_changed`: clocks restarted, notified;
    no owner sends it to the pool)."""
    require_model(ctx, Lead, "update")
    values = _input(ctx, data, creating=False)
    lead = get_or_404(ctx, Lead, lead_id, "read")
    state = Lead.select(Lead.status, Lead.merged_into, Lead.owner).where(
        Lead.id == lead.id).get()
    refusal = frozen(state)  # read apart: the caller's columns may leave these out
    if refusal is not None:
        raise refusal
    with atomic():
        update_in_scope(ctx, Lead, lead.id, values)
        _after_update(ctx, lead.id, values, state.owner_id)
    return get_lead(ctx, lead.id)


def _after_update(ctx, lead_id: int, values: dict, old_owner: int | None) -> None:
    from modules.leads import assignment, scoring

    if SCORE_INPUTS & set(values):
        scoring.rescore_ids(ctx, [lead_id])
    if "owner" in values and values["owner"] != old_owner:
        assignment.owner_changed(ctx, [lead_id], values["owner"])


def delete_lead(ctx, lead_id) -> None:
    pk = as_pk(lead_id)
    if pk is None:
        raise not_found(Lead, lead_id)
    delete_in_scope(ctx, Lead, pk)


# ------------------------------------------------------------------ reads
def present(ctx, rows: list) -> list[dict]:
    """Rows (dicts or instances) as the caller may see them; blind indexes and import keys
    are lookup keys, never answered."""
    import security
    from modules.leads.scoring import readable_parts

    items = without_internal(serialise(ctx, Lead, rows))
    perms = security.permitted_fields(ctx, Lead, "read")
    for item in items:
        for name in INTERNAL:
            item.pop(name, None)
        if "score_breakdown" in item:  # no part may speak of a field the caller cannot read
            item["score_breakdown"], _ = readable_parts(item["score_breakdown"], perms)
    return items


def readable(ctx) -> pw.Node:
    """Leads the caller may open: their row scope OR, for pool users, the ownerless leads of
    their division's public pool (part 2, `pool.pool_predicate`). Lists use the row scope
    alone; the pool has its own list."""
    from modules.leads.pool import pool_predicate

    return any_of([scope(ctx, Lead, "read"), pool_predicate(ctx)])


def load_readable(ctx, lead_id):
    """The lead (permitted columns) if the caller may open it, else 404."""
    require_model(ctx, Lead, "read")
    pk = as_pk(lead_id)
    row = None if pk is None else (Lead.select(*permitted_columns(ctx, Lead))
                                   .where(both(Lead.id == pk, readable(ctx))).first())
    if row is None:
        raise not_found(Lead, lead_id)
    return row


def get_lead(ctx, lead_id) -> dict:
    return present(ctx, [load_readable(ctx, lead_id)])[0]


def _clear(ctx, name: str) -> None:
    """Filtering by a field one cannot read in clear would leak it (400)."""
    if read_level(ctx, Lead, name) not in ("read", "write"):
        raise bad_request(name, "不能按不可见字段筛选 / cannot filter by a field you cannot "
                          "read in clear")


def _id(name: str, raw: str) -> int:
    pk = as_pk(raw)
    if pk is None:
        raise bad_request(name, "需要编号 / id expected")
    return pk


def filters(ctx, get) -> list[pw.Node]:
    """WHERE terms from query arguments: status, source, owner (id / `me` / `none`), region,
    industry, campaign, hot, score_min, created_after/before, q (name or company contains),
    exact mobile / email / wechat through the blind indexes, merged (default: hide)."""
    terms: list[pw.Node] = []
    for name, choices in (("status", STATUSES), ("source", SOURCES)):
        if get(name):
            wanted = get(name).split(",")
            if any(w not in choices for w in wanted):
                raise bad_request(name, "可选 / one of: " + ", ".join(choices))
            _clear(ctx, name)
            terms.append(getattr(Lead, name).in_(wanted))
    for name in ("industry", "campaign"):
        if get(name):
            _clear(ctx, name)
            terms.append(getattr(Lead, name) == get(name))
    if get("owner"):
        _clear(ctx, "owner")
        raw = get("owner")
        terms.append(Lead.owner.is_null() if raw == "none" else
                     Lead.owner == (ctx.user_id if raw == "me" else _id("owner", raw)))
    if get("region"):
        _clear(ctx, "region")
        terms.append(Lead.region == _id("region", get("region")))
    if get("hot") in ("1", "true"):
        _clear(ctx, "hot")
        terms.append(Lead.hot == True)  # noqa: E712
    if get("score_min"):
        _clear(ctx, "score")
        if not get("score_min").lstrip("-").isdigit():
            raise bad_request("score_min", "需要整数 / integer expected")
        terms.append(Lead.score >= int(get("score_min")))
    terms.extend(_time_filters(ctx, get))
    if get("q"):
        text = get("q").strip()
        _clear(ctx, "name")
        match = Lead.name.contains(text)
        if read_level(ctx, Lead, "company") in ("read", "write"):
            match |= Lead.company.contains(text)
        terms.append(match)
    for name in CHANNELS:
        if get(name):
            if read_level(ctx, Lead, name) not in ("read", "write"):
                raise APIError(403, f"无权按 {name} 查找 / not allowed to search by {name}",
                               code="forbidden_fields", fields={name: "masked"})
            index = Lead._meta.fields[f"{name}_bidx"]
            terms.append(index == blind_index_for(index, get(name)))
    if get("merged") not in ("1", "true"):
        terms.append(Lead.merged_into.is_null())
    return terms


def _time_filters(ctx, get) -> list[pw.Node]:
    from modules.contacts.common import parse_moment

    terms = []
    for name, op in (("created_after", "ge"), ("created_before", "lt")):
        if get(name):
            moment = parse_moment(get(name))
            if moment is None:
                raise bad_request(name, "需要 ISO 8601 时间 / ISO 8601 date-time expected")
            terms.append(Lead.created_at >= moment if op == "ge" else Lead.created_at < moment)
    return terms


def list_leads(ctx, params: ListParams, get) -> dict:
    """A page of the leads in the caller's read scope (keyset pagination, field selection)."""
    query = scoped_select(ctx, Lead, "list")
    for term in filters(ctx, get):
        query = query.where(term)
    if params.fields and any(n.endswith("_bidx") or n in INTERNAL for n in params.fields):
        raise bad_request("fields", "内部字段 / internal fields cannot be selected")
    rows = list(params.apply(ctx, Lead, query, SORTS).dicts())
    rows, cursor = params.page(rows, SORTS)
    return {"items": params.select_fields(Lead, present(ctx, rows)), "next": cursor}
