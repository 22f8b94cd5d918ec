"""Editing the automation rules through the door (administrators by default).

Scoring, assignment and nurture rules are plain records: list / get / create / update /
delete under the model rights (`model/lead_scoring_rule`, `model/lead_assignment_rule`,
`model/lead_nurture_rule`; the `admin` role holds `*`) and row scopes (division-bound rules
follow the `division` scope; defaults with no division are reached only with an `all`
scope). Field rules apply (403 listing forbidden fields), input problems are 422 naming
each field (`rules_checks`), every write is audited (contacts' `insert_in_scope` & co).
Pool settings and SLA policies are one row per division plus the default (`division` NULL),
set with PUT; user caps one row per user; the SOP is replaced as a whole. A scoring rule
change queues a rescore of every open lead (`jobs.rescore_soon`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.db import atomic
from core.web.base import APIError
from modules.base.models import Division, User
from modules.contacts.common import (as_pk, check_input, delete_in_scope, insert_in_scope,
                                     update_in_scope)
from modules.contacts.paging import ListParams, Sort
from modules.leads import rules_checks as checks
from modules.leads.automation_models import (AssignmentRule, NurtureRule, PoolSettings,
                                             ScoringRule, SlaPolicy, SopTask, SopTransition,
                                             UserLeadCap)
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import FALSE, any_of, both, scope
from security.serialisation import serialise

SYSTEM = ("created_at", "updated_at")


def _current_division(ctx) -> int | None:
    import security
    return security.permissions(ctx).division_id


def _rescore(ctx) -> None:
    from modules.leads.jobs import rescore_soon
    rescore_soon(ctx.registry)


@dataclass(frozen=True)
class Kind:
    model: type
    clean: Callable  # (ctx, data, current row or None) -> values
    after: Callable | None = None  # (ctx) once a change is written


KINDS = {
    "scoring-rules": Kind(ScoringRule, lambda ctx, d, c: checks.clean_scoring(d, c), _rescore),
    "assignment-rules": Kind(AssignmentRule, lambda ctx, d, c: checks.clean_assignment(
        d, c, _current_division(ctx))),
    "nurture-rules": Kind(NurtureRule, lambda ctx, d, c: checks.clean_nurture(d, c)),
}


def _select(ctx, model, op: str, where=None):
    """Rows in the caller's `op` scope; for reads also the defaults (division NULL), which are
    configuration of every division, not any one division's data."""
    require_model(ctx, model, op)
    predicate = scope(ctx, model, op)
    if op == "read" and "division" in model._meta.fields:
        predicate = any_of([predicate, model.division.is_null()])
    if where is not None:
        predicate = both(predicate, where)
    return model.select(*permitted_columns(ctx, model)).where(predicate)


def _one(ctx, model, pk, op: str = "read"):
    key = as_pk(pk)
    row = _select(ctx, model, op, model.id == key).first() if key is not None else None
    if row is None:
        if op != "read" and key is not None and _select(ctx, model, "read",
                                                        model.id == key).exists():
            raise APIError(403, "无权修改此规则 / not allowed to change this rule",
                           code="forbidden")
        raise not_found(model, pk)
    return row


def _present(ctx, model, rows) -> list[dict]:
    return serialise(ctx, model, rows)


# ------------------------------------------------------------------ rule records
def list_rules(ctx, kind: Kind, params: ListParams, get) -> dict:
    """Rules in the caller's scope by `sequence` (filters `division`, `active`)."""
    model = kind.model
    sorts = {"id": Sort(model.id)}
    if "sequence" in model._meta.fields:
        sorts["sequence"] = Sort(model.sequence)
    query = _select(ctx, model, "read")
    if get("division"):
        raw = get("division")
        query = query.where(model.division.is_null() if raw == "default"
                            else model.division == as_pk(raw))
    if get("active") in ("1", "true", "0", "false"):
        query = query.where(model.active == (get("active") in ("1", "true")))
    rows = list(params.apply(ctx, model, query, sorts).dicts())
    rows, cursor = params.page(rows, sorts)
    return {"items": params.select_fields(model, _present(ctx, model, rows)), "next": cursor}


def get_rule(ctx, kind: Kind, pk) -> dict:
    return _present(ctx, kind.model, [_one(ctx, kind.model, pk)])[0]


def _rights(ctx, model, data: dict, op: str) -> None:
    known = {k: v for k, v in data.items() if k in model._meta.fields}
    check_input(ctx, model, known, op, SYSTEM)


def create_rule(ctx, kind: Kind, data: dict) -> dict:
    model = kind.model
    require_model(ctx, model, "create")
    _rights(ctx, model, data, "create")
    values = kind.clean(ctx, data, None)
    with atomic():
        pk = insert_in_scope(ctx, model, values, {})
        if kind.after:
            kind.after(ctx)
    return get_rule(ctx, kind, pk)


def update_rule(ctx, kind: Kind, pk, data: dict) -> dict:
    model = kind.model
    require_model(ctx, model, "update")
    _rights(ctx, model, data, "write")
    current = _one(ctx, model, pk, "write")
    values = kind.clean(ctx, data, model.get_by_id(current.id))
    with atomic():
        update_in_scope(ctx, model, current.id, values)
        if kind.after:
            kind.after(ctx)
    return get_rule(ctx, kind, current.id)


def delete_rule(ctx, kind: Kind, pk) -> None:
    key = as_pk(pk)
    if key is None:
        raise not_found(kind.model, pk)
    with atomic():
        delete_in_scope(ctx, kind.model, key)
        if kind.after:
            kind.after(ctx)


# ------------------------------------------------------------------ per-division settings
SETTINGS = {
    "pool-settings": (PoolSettings, {"recycle_days": (1, 3650), "claim_daily_limit": (0, 10_000),
                                     "protection_days": (0, 365)}),
    "sla-policies": (SlaPolicy, {"first_response_minutes": (1, 10_080),
                                 "followup_hours": (1, 8760), "escalation_levels": (0, 10)}),
}


def list_settings(ctx, name: str) -> dict:
    model, _ = SETTINGS[name]
    rows = list(_select(ctx, model, "read").order_by(model.division.is_null(False),
                                                     model.division).dicts())
    return {"items": _present(ctx, model, rows)}


def put_settings(ctx, name: str, division_key: str, data: dict) -> dict:
    """Create or change the settings of a division (`default`: of every division without
    its own row)."""
    model, limits = SETTINGS[name]
    require_model(ctx, model, "update")
    division = None
    if division_key != "default":
        division = as_pk(division_key)
        if division is None or not Division.select().where(Division.id == division).exists():
            raise not_found(Division, division_key)
    _rights(ctx, model, data, "write")
    values = checks.clean_settings(data, limits)
    where = model.division.is_null() if division is None else model.division == division
    with atomic():
        row = model.select(model.id).where(where).first()
        if row is None:
            pk = insert_in_scope(ctx, model, values, {"division": division})
        else:
            pk = row.id
            update_in_scope(ctx, model, pk, values)
    return _present(ctx, model, [_one(ctx, model, pk)])[0]


# ------------------------------------------------------------------ user caps
def list_caps(ctx) -> dict:
    rows = list(_select(ctx, UserLeadCap, "read").order_by(UserLeadCap.user).dicts())
    return {"items": _present(ctx, UserLeadCap, rows)}


def put_cap(ctx, user_key, data: dict) -> dict:
    require_model(ctx, UserLeadCap, "update")
    user = as_pk(user_key)
    if user is None or not User.select().where(User.id == user).exists():
        raise not_found(User, user_key)
    _rights(ctx, UserLeadCap, data, "write")
    values = checks.clean_cap(data)
    with atomic():
        row = UserLeadCap.select(UserLeadCap.id).where(UserLeadCap.user == user).first()
        if row is None:
            pk = insert_in_scope(ctx, UserLeadCap, values, {"user": user})
        else:
            pk = row.id
            update_in_scope(ctx, UserLeadCap, pk, values)
    return _present(ctx, UserLeadCap, [_one(ctx, UserLeadCap, pk)])[0]


def delete_cap(ctx, user_key) -> None:
    require_model(ctx, UserLeadCap, "delete")
    user = as_pk(user_key)
    row = (UserLeadCap.select(UserLeadCap.id).where(UserLeadCap.user == user).first()
           if user is not None else None)
    if row is None:
        raise not_found(UserLeadCap, user_key)
    delete_in_scope(ctx, UserLeadCap, row.id)


# ------------------------------------------------------------------ the SOP
def get_sop(ctx) -> dict:
    from modules.leads.models import STATUSES

    transitions = list(_select(ctx, SopTransition, "read").order_by(SopTransition.id).dicts())
    tasks = list(_select(ctx, SopTask, "read").order_by(SopTask.id).dicts())
    return {"statuses": [{"code": c, "name": zh, "name_en": en}
                         for c, (zh, en) in STATUSES.items()],
            "transitions": _present(ctx, SopTransition, transitions),
            "tasks": _present(ctx, SopTask, tasks)}


def put_sop(ctx, data: dict) -> dict:
    """Replace the whole SOP (transitions and follow-up tasks) in one audited transaction."""
    from security import audit

    for model in (SopTransition, SopTask):
        for op in ("create", "update", "delete"):
            require_model(ctx, model, op)
        if scope(ctx, model, "write") is FALSE:
            raise APIError(403, "无权修改流程 / not allowed to change the SOP", code="forbidden")
    transitions, tasks = checks.clean_sop(data)
    with atomic():
        before = get_sop(ctx)
        SopTransition.delete().execute()
        SopTask.delete().execute()
        if transitions:
            SopTransition.insert_many(transitions).execute()
        if tasks:
            SopTask.insert_many(tasks).execute()
        after = get_sop(ctx)
        audit.record(ctx, "lead.sop_update", model=SopTransition._meta.table_name,
                     details={"before": {k: before[k] for k in ("transitions", "tasks")},
                              "after": {k: after[k] for k in ("transitions", "tasks")}})
    return after
