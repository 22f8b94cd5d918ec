"""Computed output fields added next to serialised rows, batched (one query per page, never
per row) and under the same field rules as the column they describe:

- `owner_name` / `assignee_name`: only when the caller may see the `owner` / `assignee`
  column, masked (`张**`) when that column is masked for them;
- `tags` of accounts (`[{id, name, color}]`), from the base module's tag links;
- blind-index columns are dropped (lookup keys, not data).
"""
from __future__ import annotations

from modules.base.models import Tag, TagLink, User
from modules.contacts.common import read_level, without_internal
from security.masking import mask_name


def user_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(User.select(User.id, User.name).where(User.id.in_(sorted(ids))).tuples())


def add_user_names(ctx, model, raw: list[dict], items: list[dict], column: str,
                   label: str) -> None:
    """`items[i][label]` = name of user `raw[i][column]`, as the field rule on `column` allows."""
    level = read_level(ctx, model, column)
    if level == "hidden":
        return
    names = user_names(row.get(column) for row in raw)
    for row, item in zip(raw, items):
        name = names.get(row.get(column))
        item[label] = mask_name(name) if (level == "masked" and name) else name


def add_tags(raw: list[dict], items: list[dict], model_name: str) -> None:
    ids = [row["id"] for row in raw]
    found: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        query = (TagLink.select(TagLink.res_id, Tag.id, Tag.name, Tag.color).join(Tag)
                 .where((TagLink.model == model_name) & TagLink.res_id.in_(ids))
                 .order_by(Tag.name).dicts())
        for row in query:
            found[row["res_id"]].append({"id": row["id"], "name": row["name"],
                                         "color": row["color"]})
    for row, item in zip(raw, items):
        item["tags"] = found[row["id"]]


def decorate_accounts(ctx, raw: list[dict], items: list[dict]) -> list[dict]:
    from modules.contacts.models import Account

    add_user_names(ctx, Account, raw, items, "owner", "owner_name")
    add_tags(raw, items, Account._meta.table_name)
    return items


def decorate_contacts(ctx, raw: list[dict], items: list[dict]) -> list[dict]:
    return without_internal(items)
