"""Duplicates of a lead among leads, contacts and accounts (撞单 detection).

Matching never decrypts anything: a lead's mobile, e-mail and WeChat are compared through
their blind indexes (same normalisers and index domains as contacts' mobile/phone, e-mail and
WeChat), its company through `company_key` (contacts' `name_key`, also stored on accounts).

Candidates are searched across the whole install — a customer held by another team is
exactly what a rep must be warned about — one query per kind, each computing in SQL whether
the caller may read the candidate (row scope or the division's pool). Readable
candidates are listed with the fields the caller may see and the reasons they match; the
others are only counted (`hidden`), never identified.

    {"leads": [{"id": 7, "name": "张伟", "company": "…", "status": "new", "owner": 3,
                "match": ["mobile", "company"]}],
     "contacts": [{"id": 2, "name": "…", "account": 5, "match": ["email"]}],
     "accounts": [{"id": 5, "name": "…", "match": ["company"]}],
     "hidden": {"leads": 1, "contacts": 0, "accounts": 0}}
"""
from __future__ import annotations

import operator
from functools import reduce

import peewee as pw

from modules.contacts.models import Account, Contact
from modules.leads.models import Lead
from security.scopes import FALSE, TRUE
from security.serialisation import serialise

LIMIT = 50
LEAD_FIELDS = ("id", "name", "company", "status", "owner", "division")
CONTACT_FIELDS = ("id", "name", "title", "account")
ACCOUNT_FIELDS = ("id", "name", "owner", "division")


def _flag(predicate) -> pw.Node:
    """`1` where the caller may read the row, else `0` (computed in SQL)."""
    if predicate is TRUE:
        return pw.Value(1)
    if predicate is FALSE:
        return pw.Value(0)
    return pw.Case(None, [(predicate, 1)], 0)


def _readable(ctx, model, predicate) -> pw.Node:
    import security

    name = security.model_name(model)
    return predicate if security.can(ctx, "read", f"model/{name}") else FALSE


def keys_of(lead_id: int) -> dict:
    """The match keys of one lead: its blind indexes and company key (no decryption)."""
    return (Lead.select(Lead.mobile_bidx, Lead.email_bidx, Lead.wechat_bidx, Lead.company_key)
            .where(Lead.id == lead_id).dicts().get())


def _any(terms: list) -> pw.Node | None:
    return reduce(operator.or_, terms) if terms else None


def _pick(item: dict, names: tuple) -> dict:
    return {name: item[name] for name in names if name in item}


def _split(ctx, model, rows: list[dict], names: tuple, reasons) -> tuple[list, int]:
    visible = [row for row in rows if row["visible"]]
    items = serialise(ctx, model, visible)
    listed = []
    for row, item in zip(visible, items):
        entry = _pick(item, names)
        entry["id"] = row["id"]
        entry["match"] = reasons(row)
        listed.append(entry)
    return listed, len(rows) - len(visible)


def _lead_matches(ctx, lead_id: int, keys: dict) -> tuple[list, int]:
    from modules.leads.services import readable

    terms = [getattr(Lead, name) == keys[name]
             for name in ("mobile_bidx", "email_bidx", "wechat_bidx", "company_key") if keys[name]]
    match = _any(terms)
    if match is None:
        return [], 0
    visible = _flag(_readable(ctx, Lead, readable(ctx)))
    rows = list(Lead.select(*[Lead._meta.fields[n] for n in LEAD_FIELDS], Lead.mobile_bidx,
                            Lead.email_bidx, Lead.wechat_bidx, Lead.company_key,
                            visible.alias("visible"))
                .where(match & (Lead.id != lead_id) & Lead.merged_into.is_null())
                .order_by(Lead.id).limit(LIMIT).dicts())

    def reasons(row):
        return [name[:-5] if name.endswith("_bidx") else "company"
                for name in ("mobile_bidx", "email_bidx", "wechat_bidx", "company_key")
                if keys[name] and row[name] == keys[name]]

    return _split(ctx, Lead, rows, LEAD_FIELDS, reasons)


def _contact_matches(ctx, keys: dict) -> tuple[list, int]:
    import security

    pairs = [("mobile", Contact.mobile_bidx, keys["mobile_bidx"]),
             ("mobile", Contact.phone_bidx, keys["mobile_bidx"]),
             ("email", Contact.email_bidx, keys["email_bidx"]),
             ("wechat", Contact.wechat_bidx, keys["wechat_bidx"])]
    match = _any([column == value for _, column, value in pairs if value])
    if match is None:
        return [], 0
    visible = _flag(_readable(ctx, Contact, security.scope(ctx, Contact, "read")))
    rows = list(Contact.select(Contact.id, Contact.name, Contact.title, Contact.account,
                               Contact.mobile_bidx, Contact.phone_bidx, Contact.email_bidx,
                               Contact.wechat_bidx, visible.alias("visible"))
                .where(match).order_by(Contact.id).limit(LIMIT).dicts())

    def reasons(row):
        found = []
        for kind, column, value in pairs:
            if value and row[column.name] == value and kind not in found:
                found.append(kind)
        return found

    return _split(ctx, Contact, rows, CONTACT_FIELDS, reasons)


def _account_matches(ctx, keys: dict) -> tuple[list, int]:
    from modules.contacts.pool import readable

    if not keys["company_key"]:
        return [], 0
    visible = _flag(_readable(ctx, Account, readable(ctx)))
    rows = list(Account.select(Account.id, Account.name, Account.owner, Account.division,
                               visible.alias("visible"))
                .where(Account.name_key == keys["company_key"])
                .order_by(Account.id).limit(LIMIT).dicts())
    return _split(ctx, Account, rows, ACCOUNT_FIELDS, lambda row: ["company"])


def find(ctx, lead_id) -> dict:
    """Duplicates of lead `lead_id` (which the caller must be able to read: 404 otherwise)."""
    from modules.leads.services import load_readable

    return summary(ctx, load_readable(ctx, lead_id).id)


def summary(ctx, lead_id: int) -> dict:
    """Duplicates of a lead known to be readable (three queries, whatever the counts)."""
    keys = keys_of(lead_id)
    leads, hidden_leads = _lead_matches(ctx, lead_id, keys)
    contacts, hidden_contacts = _contact_matches(ctx, keys)
    accounts, hidden_accounts = _account_matches(ctx, keys)
    return {"leads": leads, "contacts": contacts, "accounts": accounts,
            "hidden": {"leads": hidden_leads, "contacts": hidden_contacts,
                       "accounts": hidden_accounts}}
