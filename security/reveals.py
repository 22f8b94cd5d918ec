"""Reveal: the explicit, audited way to see one masked value in clear.

`reveal(ctx, Model, id, field)` returns the clear value of one field of one record when
- the caller may read the model and the record is in their read scope (else 403 / 404),
- the field is not hidden for them (hidden stays hidden: 403 `forbidden_fields`),
- a masked field additionally needs the action right `execute action/reveal`;
and writes an audit entry `reveal` naming model, record and field (never the value).

`POST /api/v1/reveal` `{"model": "lead", "id": 7, "field": "phone"}` →
`{"model", "id", "field", "value"}` is the same service over HTTP.
"""
from __future__ import annotations

from typing import Any

from core.web.base import APIError, BaseHandler
from security.crud import get_or_404, require_model
from security.fields import permitted_fields
from security.policy.names import model_name
from security.serialisation import field_transform

REVEAL_ACTION = "action/reveal"


def reveal(ctx, model, res_id, field: str) -> Any:
    """The clear value of `field` on record `res_id` (JSON-ready), audited."""
    import security
    from security import audit

    if not isinstance(field, str) or field not in model._meta.fields:
        raise APIError(400, f"未知字段 / unknown field {field!r}", code="unknown_fields",
                       fields={str(field): "unknown"})
    require_model(ctx, model, "read")
    level = permitted_fields(ctx, model, "read").level(field)
    if level == "hidden":
        raise APIError(403, f"无权查看字段 / field {field} is hidden for you",
                       code="forbidden_fields", fields={field: "hidden"})
    if level == "masked":
        security.require(ctx, "execute", REVEAL_ACTION)
    record = get_or_404(ctx, model, res_id, "read")  # masked columns are loaded in clear
    value = record.__data__.get(field)
    audit.record(ctx, audit.REVEAL, model=model._meta.table_name, res_id=record.get_id(),
                 details={"field": field, "level": level},
                 division_id=security.permissions(ctx).division_id)
    transform = field_transform(model._meta.fields[field])
    return value if value is None or transform is None else transform(value)


def find_model(registry, name: str):
    """The registered model whose security name is `name` (400 if none)."""
    for model in registry.models:
        if model_name(model) == name:
            return model
    raise APIError(400, f"未知模型 / unknown model {name!r}", code="unknown_model",
                   fields={"model": "unknown"})


class RevealHandler(BaseHandler):
    """`POST /api/v1/reveal` — unmask one value of one record (audited)."""

    def post(self) -> None:
        self.require_user()
        body = self.json_body()
        missing = [key for key in ("model", "id", "field") if key not in body]
        if missing:
            raise APIError(400, "缺少参数 / missing: " + ", ".join(missing),
                           fields={key: "required" for key in missing})
        model = find_model(self.registry, body["model"])
        value = reveal(self.ctx, model, body["id"], body["field"])
        self.write_json({"model": body["model"], "id": body["id"], "field": body["field"],
                         "value": value})


ROUTES = [(r"/api/v1/reveal", RevealHandler)]
# the action descriptor for a module's `register_actions` hook (so the rules API knows it)
ACTIONS = [{"name": "reveal", "label": "查看明文", "label_en": "Reveal a masked value"}]
