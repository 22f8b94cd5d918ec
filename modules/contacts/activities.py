"""Activities (跟进记录): calls, visits (with address), meetings, e-mails and notes on a record.

An activity belongs to one parent record (`res_model`, `res_id`: account, contact, lead,
opportunity, … see `parents`), which must be in the caller's read scope when it is logged;
its owner is the person who logged it, its account and division are the parent's. Anyone who
may read the parent reads its activities (`parents.visible_children`); only the owner (or
whoever's write scope covers the owner, e.g. their manager) edits or deletes one.
"""
from __future__ import annotations

import peewee as pw

from core.web.base import APIError
from modules.contacts.common import (Checker, as_pk, check_input, delete_in_scope,
                                     division_id, insert_in_scope, parse_moment, record_id,
                                     unprocessable, update_in_scope)
from modules.contacts.decorate import add_user_names
from modules.contacts.models import ACTIVITY_KINDS, Activity
from modules.contacts.paging import ListParams, Sort, bad_request
from modules.contacts.parents import (get_parent, of_parent, parent_model, placement,
                                      visible_children)
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import both, scope
from security.serialisation import serialise

MAINTAINED = ("owner", "division", "account")
IMMUTABLE = ("res_model", "res_id")
SORTS = {"occurred_at": Sort(Activity.occurred_at), "id": Sort(Activity.id),
         "created_at": Sort(Activity.created_at)}


def _clean(data: dict, current: dict | None = None) -> dict:
    """Validate input; `current` is the stored `{kind, address}` when updating."""
    creating = current is None
    check = Checker(data)
    check.choice("kind", ACTIVITY_KINDS)
    if creating and "kind" not in data:
        check.fail("kind", "必填 / required")
    check.text("subject", 200, required=creating, nullable=False)
    check.text("content", 20_000)
    check.text("address", 300)
    check.moment("occurred_at", nullable=False)
    values = check.done()
    if "content" in values and values["content"] is None:
        values["content"] = ""
    merged = {**(current or {}), **values}
    if merged.get("kind") == "visit" and not merged.get("address"):
        raise unprocessable({"address": "拜访需填写地址 / a visit needs an address"})
    return values


def log_activity(ctx, data: dict) -> dict:
    """Log an activity on a record the caller may read."""
    require_model(ctx, Activity, "create")
    check_input(ctx, Activity, data, "create", MAINTAINED)
    check = Checker(data)
    check.text("res_model", 32, required=True)
    if "res_id" not in data:
        check.fail("res_id", "必填 / required")
    check.done()
    model, _ = get_parent(ctx, data["res_model"], record_id(data["res_id"], "res_id"))
    res_id = record_id(data["res_id"], "res_id")
    values = _clean({k: v for k, v in data.items() if k not in IMMUTABLE})
    account, division = placement(model, res_id)
    values.setdefault("occurred_at", ctx.now())
    system = {"res_model": data["res_model"], "res_id": res_id, "owner": ctx.user_id,
              "account": account, "division": division or division_id(ctx)}
    pk = insert_in_scope(ctx, Activity, values, system)
    return get_activity(ctx, pk)


def update_activity(ctx, activity_id: int, data: dict) -> dict:
    require_model(ctx, Activity, "update")
    check_input(ctx, Activity, data, "write", MAINTAINED + IMMUTABLE)
    current = (Activity.select(Activity.kind, Activity.address)
               .where(both(Activity.id == activity_id, scope(ctx, Activity, "write")))
               .dicts().first())
    if current is None:
        raise _refuse(ctx, activity_id)
    values = _clean(data, current)
    update_in_scope(ctx, Activity, activity_id, values)
    return get_activity(ctx, activity_id)


def delete_activity(ctx, activity_id: int) -> None:
    delete_in_scope(ctx, Activity, activity_id, lambda pk: _refuse(ctx, pk))


def _refuse(ctx, activity_id: int) -> APIError:
    """403 for an activity the caller reads (e.g. on their account) but may not change,
    404 for one they cannot see."""
    if _select(ctx, Activity.id == activity_id).exists():
        return APIError(403, f"只能修改自己的记录 / not allowed to change activity {activity_id}",
                        code="forbidden")
    return not_found(Activity, activity_id)


def _select(ctx, where) -> pw.ModelSelect:
    require_model(ctx, Activity, "read")
    visible = visible_children(ctx, Activity)
    return Activity.select(*permitted_columns(ctx, Activity)).where(
        visible if where is None else both(visible, where))


def present(ctx, raw: list[dict]) -> list[dict]:
    items = serialise(ctx, Activity, raw)
    add_user_names(ctx, Activity, raw, items, "owner", "owner_name")
    return items


def get_activity(ctx, activity_id) -> dict:
    pk = as_pk(activity_id)
    if pk is None:
        raise not_found(Activity, activity_id)
    row = _select(ctx, Activity.id == pk).dicts().first()
    if row is None:
        raise not_found(Activity, activity_id)
    return present(ctx, [row])[0]


def filters(ctx, get) -> list[pw.Node]:
    """kind, owner (`me` or id), account, res_model + res_id, since / until (occurred_at)."""
    terms = []
    if get("kind"):
        terms.append(Activity.kind == get("kind"))
    if get("owner"):
        raw = get("owner")
        terms.append(Activity.owner == (ctx.user_id if raw == "me" else record_id(raw, "owner")))
    if get("account"):
        terms.append(Activity.account == record_id(get("account"), "account"))
    if get("res_model"):
        parent_model(ctx, get("res_model"))
        terms.append(Activity.res_model == get("res_model"))
        if get("res_id"):
            terms.append(Activity.res_id == record_id(get("res_id"), "res_id"))
    for name, op in (("since", ">="), ("until", "<")):
        if get(name):
            moment = parse_moment(get(name))
            if moment is None:
                raise bad_request(name, "需要 ISO 8601 时间 / ISO 8601 expected")
            terms.append(pw.Expression(Activity.occurred_at, op, moment))
    return terms


def list_activities(ctx, params: ListParams, get, where=None) -> dict:
    query = _select(ctx, where)
    for term in filters(ctx, get):
        query = query.where(term)
    rows = list(params.apply(ctx, Activity, query, SORTS).dicts())
    rows, cursor = params.page(rows, SORTS)
    return {"items": params.select_fields(Activity, present(ctx, rows)), "next": cursor}


def timeline_activities(ctx, parent, res_id: int, params: ListParams, get) -> dict:
    """The activities of one parent record (already checked readable), newest first."""
    return list_activities(ctx, params, get, where=of_parent(Activity, parent, res_id))
