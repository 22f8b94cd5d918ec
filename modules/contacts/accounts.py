"""Accounts (客户): create with duplicate warnings, read, list, update, delete, tags.

Reads go through `pool.readable(ctx)` (the caller's row scope OR the division's pool when
they hold the pool right) with the caller's permitted columns and field rules; writes go
through `common.insert_in_scope` / `update_in_scope` (row scope before and after, field
rules on every user-supplied field). `name_key` (duplicate key), `division` and `created_by`
are maintained here, never taken from input. The owner defaults to the creator; setting it
is a field right (`field/account/owner`): reps read it, managers write it within their
scope, claims, releases and handovers change it through their own services.
"""
from __future__ import annotations

from typing import Any

import peewee as pw

from core.db import atomic
from core.web.base import APIError
from modules.base.models import Region, Tag, TagLink, User
from modules.contacts import credit_code as uscc
from modules.contacts.common import (Checker, as_pk, check_input, delete_in_scope,
                                     division_id, insert_in_scope, read_level, unprocessable,
                                     update_in_scope)
from modules.contacts.decorate import decorate_accounts
from modules.contacts.duplicates import duplicate_warnings
from modules.contacts.models import LIFECYCLE_STAGES, VALUE_TIERS, Account
from modules.contacts.names import name_key
from modules.contacts.paging import ListParams, Sort, bad_request
from modules.contacts.pool import may_use_pool, pool_predicate, readable
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import both, scope
from security.serialisation import serialise

TAG_MODEL = Account._meta.table_name
MAINTAINED = ("name_key", "division", "created_by")
SORTS = {"id": Sort(Account.id), "name": Sort(Account.name),
         "created_at": Sort(Account.created_at), "updated_at": Sort(Account.updated_at)}


# ------------------------------------------------------------------ input
def _clean(ctx, data: dict, account_id: int | None = None) -> dict:
    """Validate account input; every problem is reported at once (422)."""
    check = Checker(data)
    check.text("name", 200, required=account_id is None, nullable=False)
    check.text("short_name", 64)
    check.text("industry", 64)
    check.text("address", 300)
    check.text("website", 200)
    check.choice("value_tier", VALUE_TIERS)
    check.choice("lifecycle", LIFECYCLE_STAGES)
    check.reference("region", Region)
    check.reference("owner", User, where=User.active == True)  # noqa: E712
    check.reference("parent", Account, where=readable(ctx))
    check.mapping("custom")
    if data.get("credit_code") not in (None, ""):
        try:
            check.values["credit_code"] = uscc.validate(data["credit_code"])
        except uscc.CreditCodeError as exc:
            check.fail("credit_code", str(exc))
    elif "credit_code" in data:
        check.values["credit_code"] = None
    values = check.done()
    if account_id is not None and values.get("parent") is not None:
        _refuse_cycle(account_id, values["parent"])
    return values


def _refuse_cycle(account_id: int, parent_id: int) -> None:
    """An account cannot sit under itself or one of its subsidiaries."""
    seen, cursor = set(), parent_id
    while cursor is not None and cursor not in seen:
        if cursor == account_id:
            raise unprocessable({"parent": "不能形成循环 / the group tree would form a cycle"})
        seen.add(cursor)
        cursor = Account.select(Account.parent).where(Account.id == cursor).scalar()


def _tag_ids(value) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool)
                                              for v in value):
        raise unprocessable({"tag_ids": "必须是标签编号列表 / must be a list of tag ids"})
    ids = sorted(set(value))
    usable = {t.id for t in Tag.select(Tag.id).where(Tag.id.in_(ids)
                                                     & Tag.model.in_(["", TAG_MODEL]))}
    missing = [str(i) for i in ids if i not in usable]
    if missing:
        raise unprocessable({"tag_ids": "没有这些客户标签 / no such account tags: "
                             + ", ".join(missing)})
    return ids


def _set_tags(account_id: int, tag_ids: list[int]) -> None:
    TagLink.delete().where((TagLink.model == TAG_MODEL) & (TagLink.res_id == account_id)
                           & TagLink.tag.not_in(tag_ids or [0])).execute()
    for tag_id in tag_ids:
        (TagLink.insert(tag=tag_id, model=TAG_MODEL, res_id=account_id)
         .on_conflict_ignore().execute())


# ------------------------------------------------------------------ create / update / delete
def create_account(ctx, data: dict, division: int | None = None) -> tuple[dict, list[dict]]:
    """Create an account owned by the caller (unless an owner is given and writable);
    return it and the duplicate warnings (accounts with the same name key or credit code)."""
    data = dict(data)
    tag_ids = _tag_ids(data.pop("tag_ids")) if "tag_ids" in data else None
    require_model(ctx, Account, "create")
    check_input(ctx, Account, data, "create", MAINTAINED)
    values = _clean(ctx, data)
    system: dict[str, Any] = {"name_key": name_key(values["name"]),
                              "division": division or division_id(ctx),
                              "created_by": ctx.user_id}
    if "owner" not in values:
        system["owner"] = ctx.user_id
    # a writable owner may be left empty: the account goes straight to the pool
    pool_ok = (Account.owner.is_null() & pool_predicate(ctx)) if may_use_pool(ctx) else None
    with atomic():
        pk = insert_in_scope(ctx, Account, values, system, also=pool_ok)
        if tag_ids is not None:
            _set_tags(pk, tag_ids)
    warnings = duplicate_warnings(ctx, values["name"], values.get("credit_code"), exclude=pk)
    return get_account(ctx, pk), warnings


def update_account(ctx, account_id: int, data: dict) -> dict:
    data = dict(data)
    tag_ids = _tag_ids(data.pop("tag_ids")) if "tag_ids" in data else None
    require_model(ctx, Account, "update")
    check_input(ctx, Account, data, "write", MAINTAINED)
    values = _clean(ctx, data, account_id)
    system = {"name_key": name_key(values["name"])} if values.get("name") else {}
    with atomic():
        update_in_scope(ctx, Account, account_id, values, system)
        if tag_ids is not None:
            _set_tags(account_id, tag_ids)
    return get_account(ctx, account_id)


def delete_account(ctx, account_id: int) -> None:
    """Delete an account in the caller's write scope (contacts, activities and tasks go with
    it: they belong to it) and its tag links."""
    with atomic():
        delete_in_scope(ctx, Account, account_id)
        TagLink.delete().where((TagLink.model == TAG_MODEL)
                               & (TagLink.res_id == account_id)).execute()


# ------------------------------------------------------------------ read
def get_account(ctx, account_id) -> dict:
    """One account the caller may read (scope or pool), as they may see it; else 404."""
    require_model(ctx, Account, "read")
    pk = as_pk(account_id)
    if pk is None:
        raise not_found(Account, account_id)
    row = (Account.select(*permitted_columns(ctx, Account))
           .where(both(Account.id == pk, readable(ctx))).dicts().first())
    if row is None:
        raise not_found(Account, account_id)
    return decorate_accounts(ctx, [row], serialise(ctx, Account, [row]))[0]


def _filter_level(ctx, name: str) -> None:
    if read_level(ctx, Account, name) not in ("read", "write"):
        raise bad_request(name, "不能按不可见字段筛选 / cannot filter by a field you cannot "
                          "read in clear")


def _id_arg(name: str, raw: str) -> int:
    pk = as_pk(raw)
    if pk is None:
        raise bad_request(name, "需要编号 / id expected")
    return pk


def filters(ctx, get) -> list[pw.Node]:
    """WHERE terms from query arguments: q, lifecycle, value_tier, industry, owner (id, `me`
    or `none`), region, parent, tag, credit_code."""
    terms = []
    if get("q"):
        _filter_level(ctx, "name")
        key = name_key(get("q"))
        terms.append(Account.name.contains(get("q").strip())
                     | (Account.name_key.contains(key) if key else Account.name.contains(get("q"))))
    for name in ("lifecycle", "value_tier", "industry", "credit_code"):
        if get(name):
            _filter_level(ctx, name)
            value = uscc.normalise(get(name)) if name == "credit_code" else get(name)
            terms.append(getattr(Account, name) == value)
    if get("owner"):
        _filter_level(ctx, "owner")
        raw = get("owner")
        terms.append(Account.owner.is_null() if raw == "none" else
                     Account.owner == (ctx.user_id if raw == "me" else _id_arg("owner", raw)))
    for name in ("region", "parent"):
        if get(name):
            _filter_level(ctx, name)
            terms.append(getattr(Account, name) == _id_arg(name, get(name)))
    if get("tag"):
        tagged = TagLink.select(TagLink.res_id).where(
            (TagLink.model == TAG_MODEL) & (TagLink.tag == _id_arg("tag", get("tag"))))
        terms.append(Account.id.in_(tagged))
    return terms


def _list(ctx, where: pw.Node, params: ListParams, terms: list) -> dict:
    query = Account.select(*permitted_columns(ctx, Account)).where(where)
    for term in terms:
        query = query.where(term)
    rows = list(params.apply(ctx, Account, query, SORTS).dicts())
    rows, cursor = params.page(rows, SORTS)
    items = decorate_accounts(ctx, rows, serialise(ctx, Account, rows))
    return {"items": params.select_fields(Account, items), "next": cursor}


def list_accounts(ctx, params: ListParams, get) -> dict:
    """A page of the accounts in the caller's read scope."""
    require_model(ctx, Account, "list")
    return _list(ctx, scope(ctx, Account, "read"), params, filters(ctx, get))


def list_pool(ctx, params: ListParams, get) -> dict:
    """A page of the pool (ownerless accounts of the caller's division)."""
    import security
    from modules.contacts.pool import POOL_ACTION

    require_model(ctx, Account, "list")
    security.require(ctx, "execute", POOL_ACTION)
    return _list(ctx, pool_predicate(ctx), params, filters(ctx, get))


def check_duplicates(ctx, data: dict) -> list[dict]:
    """Warnings for a would-be account `{name?, credit_code?}` (nothing is written)."""
    require_model(ctx, Account, "read")
    name, code = data.get("name"), data.get("credit_code")
    if name is not None and not isinstance(name, str):
        raise unprocessable({"name": "必须是文本 / must be text"})
    if code is not None and not isinstance(code, str):
        raise unprocessable({"credit_code": "必须是文本 / must be text"})
    if not (name or code):
        raise APIError(400, "请提供 name 或 credit_code / give name or credit_code",
                       fields={"name": "required", "credit_code": "required"})
    return duplicate_warnings(ctx, name, uscc.normalise(code) if code else None)
