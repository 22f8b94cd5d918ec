"""Effective access: for a user, a model (and optionally a record and a field), allowed or
denied — and which rule decided it. The admin's answer to "why can (can't) she see this?".

The answer is computed through the same door the user's own requests go through: their
compiled permission table, and for a record `security.scope` — "record X of model M is
inside the user's scope" is `M.select().where(M.id == X, scope(user_ctx, M, op)).exists()`.
"""
from __future__ import annotations

from core.web.base import APIError
from security.context import Context
from security.policy.admin import find_division, find_user, invalid, known_models
from security.policy.api import permissions
from security.policy.names import MODEL_ACTS, model_name


def _step(check: str, decision, **extra) -> dict:
    return {"check": check, **decision.as_dict(), **extra}


def _model_class(registry, name: str):
    for model in registry.models:
        if model_name(model) == name:
            return model
    return None


def _inputs(ctx, user, model, field, act, division):
    problems: dict = {}
    target = find_user(user, problems)
    code, found = find_division(division, problems)
    if division not in (None, "") and found is None and "division" not in problems:
        problems["division"] = "name a division code (or leave it out for the user's default)"
    model_cls = _model_class(ctx.registry, model) if isinstance(model, str) else None
    if model_cls is None:
        problems["model"] = f"unknown model {model!r}"
    elif field and field not in known_models(ctx.registry)[model]:
        problems["field"] = f"unknown field {field!r} of {model}"
    if act not in MODEL_ACTS:
        problems["act"] = f"unknown act {act!r}; use {', '.join(MODEL_ACTS)}"
    if problems:
        raise invalid(problems)
    return target, model_cls, (found.id if found is not None else None)


def _record_step(user_ctx, table, model_cls, model: str, record_id: int, act: str) -> dict:
    """Is the record inside the user's row scope for the op this act needs?"""
    import security

    op = "read" if act in ("read", "export") else "write"
    decision = table.explain(f"scope/{model}", op)
    exists = model_cls.select().where(model_cls._meta.primary_key == record_id).exists()
    scope = getattr(security, "scope", None)
    if not exists:
        inside = False
        reason = f"记录不存在 / no record {model} #{record_id}"
    elif not decision.allowed:
        inside = False
        reason = decision.reason
    elif scope is None:
        raise APIError(503, "行级范围引擎不可用 / row scope engine unavailable")
    else:
        inside = model_cls.select().where(model_cls._meta.primary_key == record_id,
                                          scope(user_ctx, model_cls, op)).exists()
        reason = (f"记录在{decision.level}范围内 / record inside the {decision.level} {op} scope"
                  if inside else
                  f"记录不在{decision.level}范围内 / record outside the {decision.level} {op} scope")
    step = _step("record", decision, id=record_id, exists=exists, scope=decision.level)
    step.update(allowed=inside, reason=reason)
    return step


def effective_access(ctx, *, user, model, record_id=None, field=None, act="read",
                     division=None) -> dict:
    """Explain the decision for `user` doing `act` on `model` (record, field)."""
    target, model_cls, division_id = _inputs(ctx, user, model, field, act, division)
    user_ctx = Context(registry=ctx.registry, user=target, division_id=division_id,
                       request_id=ctx.request_id, via="explain")
    try:
        table = permissions(user_ctx)
    except APIError as exc:  # the user holds no role in that division
        return {"user": target.id, "login": target.login, "division": division,
                "roles": [], "allowed": False, "decided_by": None, "reason": exc.message,
                "steps": []}
    steps = [_step("model", table.explain(f"model/{model}", act))]
    if record_id is not None and act != "create":
        steps.append(_record_step(user_ctx, table, model_cls, model, record_id, act))
    if field:
        wanted = "write" if act in ("write", "create") else "masked"
        steps.append(_step("field", table.explain(f"field/{model}/{field}", wanted)))
    denied = [s for s in steps if not s["allowed"]]
    deciding = denied[0] if denied else steps[-1]
    return {"user": target.id, "login": target.login, "division": table.division_code,
            "roles": [{"role": r, "held_in": d} for r, d in sorted(table.held)],
            "allowed": not denied, "decided_by": deciding, "steps": steps}
