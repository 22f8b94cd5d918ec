"""Finding the lead an automation endpoint acts on, through the door."""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.common import as_pk
from modules.leads.models import Lead
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import FALSE, both, scope


def writable_lead(ctx, lead_id, *columns) -> Lead:
    """The lead if it is in the caller's write scope (with `columns`, else the permitted
    ones); 403 when the caller can only read it, 404 when not even that."""
    require_model(ctx, Lead, "update")
    pk = as_pk(lead_id)
    if pk is None:
        raise not_found(Lead, lead_id)
    writable = scope(ctx, Lead, "write")
    fields = columns or permitted_columns(ctx, Lead)
    row = (Lead.select(*fields).where(both(Lead.id == pk, writable)).first()
           if writable is not FALSE else None)
    if row is not None:
        return row
    readable = scope(ctx, Lead, "read")
    if readable is not FALSE and Lead.select(Lead.id).where(both(Lead.id == pk, readable)).exists():
        raise APIError(403, f"无权修改此线索 / not allowed to change lead {pk}", code="forbidden")
    raise not_found(Lead, lead_id)
