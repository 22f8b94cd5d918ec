"""Duplicate warnings for accounts: same normalised name (`names.name_key`) or same credit code.

Candidates are searched across the whole install (a customer registered in another team is
still a likely duplicate), in one query that also computes, in SQL, whether the caller may
read each one (row scope or pool). Readable candidates are named:

    {"kind": "name" | "credit_code", "account_id": 7, "name": "上海振华重工…", "pool": false}

(`name` masked or left out as the field rules say). Candidates the caller may not read are
never identified: one generic warning per kind, without id, name or owner —

    {"kind": "name", "message": "已存在相似客户（归属他人） / a similar account exists (owned by
     someone else)"}
"""
from __future__ import annotations

import peewee as pw

from modules.contacts.common import read_level
from modules.contacts.models import Account
from modules.contacts.names import name_key
from modules.contacts.pool import readable
from security.masking import masker, mask_kind
from security.scopes import FALSE, TRUE

LIMIT = 20
HIDDEN_MESSAGE = ("已存在相似客户（归属他人） / a similar account exists (owned by someone "
                  "else)")


def _visible_flag(ctx):
    predicate = readable(ctx)
    if predicate is TRUE:
        return pw.Value(1)
    if predicate is FALSE:
        return pw.Value(0)
    return pw.Case(None, [(predicate, 1)], 0)


def duplicate_warnings(ctx, name: str | None, credit_code: str | None,
                       exclude: int | None = None) -> list[dict]:
    """Warnings about existing accounts matching `name` (by key) or `credit_code`."""
    key = name_key(name) if name else ""
    terms = []
    if key:
        terms.append(Account.name_key == key)
    if credit_code:
        terms.append(Account.credit_code == credit_code)
    if not terms:
        return []
    match = terms[0] if len(terms) == 1 else (terms[0] | terms[1])
    if exclude is not None:
        match &= Account.id != exclude
    rows = (Account.select(Account.id, Account.name, Account.name_key, Account.credit_code,
                           Account.owner, _visible_flag(ctx).alias("visible"))
            .where(match).order_by(Account.id).limit(LIMIT).dicts())
    name_level = read_level(ctx, Account, "name")
    mask = masker(mask_kind(Account, "name"))
    owner_visible = read_level(ctx, Account, "owner") != "hidden"
    warnings: list[dict] = []
    hidden_kinds: list[str] = []
    for row in rows:
        kinds = []
        if credit_code and row["credit_code"] == credit_code:
            kinds.append("credit_code")
        if key and row["name_key"] == key:
            kinds.append("name")
        for kind in kinds:
            if not row["visible"]:
                if kind not in hidden_kinds:
                    hidden_kinds.append(kind)
                continue
            warning = {"kind": kind, "account_id": row["id"]}
            if owner_visible:
                warning["pool"] = row["owner"] is None
            if name_level != "hidden":
                warning["name"] = mask(row["name"]) if name_level == "masked" else row["name"]
            warnings.append(warning)
    warnings.extend({"kind": kind, "message": HIDDEN_MESSAGE} for kind in hidden_kinds)
    return warnings
