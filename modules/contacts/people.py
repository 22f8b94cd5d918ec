"""Contacts (联系人): the people of an account, their channels and decision-chain role.

A contact belongs to one account and follows its visibility (`Contact.__scope_parent__`): the
door compiles the contact scope as `account IN (accounts in the caller's scope)`, so a rep
sees and edits the contacts of their own accounts only, a manager those of their team's.
Mobile, phone, e-mail and WeChat are stored encrypted with blind indexes; searching by one of
them is an exact match on the blind index, allowed only to callers who may read that field
in clear (otherwise a search would confirm a masked number).
"""
from __future__ import annotations

import re

import peewee as pw

from core.db import database
from core.web.base import APIError
from modules.contacts.common import (Checker, check_input, delete_in_scope, insert_in_scope,
                                     read_level, record_id, update_in_scope)
from modules.contacts.models import DECISION_ROLES, Account, Contact
from modules.contacts.paging import ListParams, Sort, bad_request
from security.crud import get_or_404, require_model, scoped_select
from security.fragments import rendered
from security.pages import fetch_page
from security.crypto import blind_index_for
from security.masking import masker, mask_kind
from security.scopes import scope
from security.serialisation import serialise

CHANNELS = ("mobile", "phone", "email", "wechat")
MAINTAINED = tuple(f"{name}_bidx" for name in CHANNELS)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[\d\s\-()]{7,20}$")
SORTS = {"id": Sort(Contact.id), "name": Sort(Contact.name),
         "created_at": Sort(Contact.created_at), "updated_at": Sort(Contact.updated_at)}


def _clean(ctx, data: dict, creating: bool) -> dict:
    check = Checker(data)
    check.reference("account", Account, nullable=False, where=scope(ctx, Account, "read"))
    if creating and "account" not in data:
        check.fail("account", "必填 / required")
    check.text("name", 100, required=creating, nullable=False)
    check.text("title", 100)
    check.text("department_name", 100)
    for name, limit in (("mobile", 64), ("phone", 64), ("email", 200), ("wechat", 100)):
        check.text(name, limit)
    for name in ("mobile", "phone"):
        value = check.values.get(name)
        if value and not PHONE_RE.match(value):
            check.fail(name, "电话号码格式不正确 / not a phone number")
    if check.values.get("email") and not EMAIL_RE.match(check.values["email"]):
        check.fail("email", "邮箱格式不正确 / malformed e-mail address")
    check.choice("decision_role", DECISION_ROLES, nullable=True)
    check.date("birthday")
    check.mapping("custom")
    return check.done()


def create_contact(ctx, data: dict) -> dict:
    """Add a contact to an account the caller may write (403 otherwise, 422 if they cannot
    even read it — indistinguishable from a missing account)."""
    require_model(ctx, Contact, "create")
    check_input(ctx, Contact, data, "create", MAINTAINED)
    values = _clean(ctx, data, creating=True)
    pk = insert_in_scope(ctx, Contact, values, {})
    return get_contact(ctx, pk)


def update_contact(ctx, contact_id: int, data: dict) -> dict:
    require_model(ctx, Contact, "update")
    check_input(ctx, Contact, data, "write", MAINTAINED)
    values = _clean(ctx, data, creating=False)
    update_in_scope(ctx, Contact, contact_id, values)
    return get_contact(ctx, contact_id)


def delete_contact(ctx, contact_id: int) -> None:
    delete_in_scope(ctx, Contact, contact_id)


def get_contact(ctx, contact_id) -> dict:
    row = get_or_404(ctx, Contact, contact_id, "read")
    return _present(ctx, [row.__data__])[0]


def _present(ctx, raw: list[dict]) -> list[dict]:
    """Serialise under the field rules (the plan never emits blind indexes), add the account
    name (as the caller may see it)."""
    items = serialise(ctx, Contact, raw)
    level = read_level(ctx, Account, "name")
    if level != "hidden" and "account" in (raw[0] if raw else {}):
        names = account_names(sorted({row["account"] for row in raw if row.get("account")}))
        mask = masker(mask_kind(Account, "name"))
        for row, item in zip(raw, items):
            name = names.get(row.get("account"))
            item["account_name"] = mask(name) if level == "masked" and name else name
    return items


def account_names(ids: list[int]) -> dict[int, str]:
    """`{account id: name}` for a page's accounts; the statement's text is rendered once per
    process and page size (`security.fragments`), only the ids change."""
    if not ids:
        return {}
    sql, params = rendered(("contacts.account_names", len(ids)),
                           lambda *slots: Account.select(Account.id, Account.name)
                           .where(Account.id.in_(list(slots))), ids)
    return dict(database.execute_sql(sql, params).fetchall())


def filters(ctx, get) -> list[pw.Node]:
    """WHERE terms: account, q (name), decision_role, and exact channel search
    (mobile / phone / email / wechat) through the blind indexes."""
    terms = []
    if get("account"):
        terms.append(Contact.account == record_id(get("account"), "account"))
    if get("q"):
        terms.append(Contact.name.contains(get("q").strip()))
    if get("decision_role"):
        terms.append(Contact.decision_role == get("decision_role"))
    for name in CHANNELS:
        if get(name):
            if read_level(ctx, Contact, name) not in ("read", "write"):
                raise APIError(403, f"无权按 {name} 查找 / not allowed to search by {name}",
                               code="forbidden_fields", fields={name: "masked"})
            field = Contact._meta.fields[f"{name}_bidx"]
            terms.append(field == blind_index_for(field, get(name)))
    return terms


def list_contacts(ctx, params: ListParams, get) -> dict:
    """A page of the contacts of accounts in the caller's scope."""
    query = scoped_select(ctx, Contact, "list")
    for term in filters(ctx, get):
        query = query.where(term)
    rows = fetch_page(params.apply(ctx, Contact, query, SORTS))
    rows, cursor = params.page(rows, SORTS)
    if params.fields and any(name.endswith("_bidx") for name in params.fields):
        raise bad_request("fields", "内部字段 / internal fields cannot be selected")
    return {"items": params.select_fields(Contact, _present(ctx, rows)), "next": cursor}
