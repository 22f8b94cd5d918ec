"""Records that own a timeline (activities and tasks point at them by `res_model`, `res_id`).

Modules register their parent models through the hook `register_timeline_models(registry)`
returning `{"opportunity": Opportunity}` (this module registers `account` and `contact`).
Keys are the models' security names (`security.model_name`).

Visibility of a child follows its parent: `visible_children(ctx, Child)` is the SQL predicate
"the child's own row scope, OR its parent is in the caller's read scope", one subquery per
registered parent model (models the caller may not read at all add nothing).
"""
from __future__ import annotations

import peewee as pw

from core.web.base import APIError
from modules.contacts.models import Account, Contact
from security.crud import get_or_404
from security.scopes import FALSE, TRUE, any_of, in_subquery, scope


def timeline_models(registry) -> dict[str, type]:
    """`{res_model: Model}` of every registered parent (cached on the registry)."""
    return registry.cached("contacts.timeline_models",
                           lambda: registry.collect_dict("register_timeline_models",
                                                         registry=registry))


def parent_model(ctx, res_model) -> type:
    models = timeline_models(ctx.registry)
    model = models.get(res_model) if isinstance(res_model, str) else None
    if model is None:
        raise APIError(422, f"不支持的关联对象 / unknown record type {res_model!r}",
                       code="validation_failed",
                       fields={"res_model": "可选 / one of: " + ", ".join(sorted(models))})
    return model


def get_parent(ctx, res_model, res_id):
    """The parent record if it is in the caller's read scope (404 otherwise)."""
    model = parent_model(ctx, res_model)
    return model, get_or_404(ctx, model, res_id, "read")


def placement(model, res_id: int) -> tuple[int | None, int | None]:
    """`(account id, division id)` a child of record `res_id` of `model` belongs to."""
    if model is Account:
        row = Account.select(Account.id, Account.division).where(Account.id == res_id).first()
        return row.id, row.division_id
    if model is Contact:
        row = (Account.select(Account.id, Account.division).join(Contact)
               .where(Contact.id == res_id).first())
        return row.id, row.division_id
    columns = [model._meta.primary_key]
    account = model._meta.fields.get("account")
    division = model._meta.fields.get("division")
    columns += [f for f in (account, division) if isinstance(f, pw.ForeignKeyField)]
    row = model.select(*columns).where(model._meta.primary_key == res_id).dicts().first() or {}
    return row.get("account"), row.get("division")


def parent_visible(ctx, res_model_field, res_id_field) -> pw.Node:
    """Children whose parent (`res_model`, `res_id`) is in the caller's read scope."""
    terms = []
    for name, model in timeline_models(ctx.registry).items():
        parents = scope(ctx, model, "read")
        if parents is FALSE:
            continue
        if parents is TRUE:
            terms.append(res_model_field == name)
            continue
        ids = model.select(model._meta.primary_key).where(parents)
        terms.append((res_model_field == name) & in_subquery(res_id_field, ids))
    return any_of(terms)


def visible_children(ctx, model) -> pw.Node:
    """A child model's rows the caller may read: own row scope OR parent visible."""
    return any_of([scope(ctx, model, "read"), parent_visible(ctx, model.res_model, model.res_id)])


def of_parent(model, parent, res_id: int) -> pw.Node:
    """Children of one parent; an account's timeline also gathers the children of its
    contacts and of other records filed under it (`account` column), one indexed query."""
    if parent is Account:
        return model.account == res_id
    return (model.res_model == _name(parent)) & (model.res_id == res_id)


def _name(model) -> str:
    from security.policy.names import model_name
    return model_name(model)
