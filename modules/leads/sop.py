"""The lead status SOP: 新线索 → 初步沟通 → 意向明确 → 报价阶段 → 已转化 / 已流失.

Allowed moves are data (`SopTransition`: from, to, required fields; seeded from
`data/automation.toml`, edited through `PUT /api/v1/leads/sop`). `POST /api/v1/leads/<id>/status
{"status": "lost", "lost_reason": "..."}` moves a lead in the caller's write scope:

- a move that is not an active transition → 422 naming `status` and the allowed targets;
- the transition's required fields must be filled — by the request or already on the lead —
  else 422 listing every missing one (losing a lead needs `lost_reason`);
- other lead fields in the request (`lost_reason`, `budget`, `need`, …) are written with the
  status, under the caller's field rules (403 listing forbidden ones) and lead validation;
- `converted` is reached only through conversion (`convert.py`), which asks `check_move`.

After the move: the first-response clock stops if the lead leaves `new`, the follow-up tasks
configured for the new status (`SopTask`, e.g. entering 初步沟通 creates "电话回访" due in 2
days) are created for the owner through the contacts task service, the score is recomputed,
the change is audited and `lead.status_changed` is published on the event bus.
"""
from __future__ import annotations

import datetime as dt

from core.db import atomic
from core.events import EventBus
from core.web.base import APIError
from modules.contacts.common import check_input, unprocessable
from modules.leads.automation_models import SopTask, SopTransition
from modules.leads.models import STATUSES, Lead
from security.crud import get_or_404, require_model
from security.scopes import both, scope

EXTRA_FIELDS = ("lost_reason",)


def label(status: str) -> str:
    zh, en = STATUSES.get(status, (status, status))
    return f"{zh} {en}"


def transition(from_status: str, to_status: str) -> SopTransition | None:
    return SopTransition.get_or_none(SopTransition.from_status == from_status,
                                     SopTransition.to_status == to_status,
                                     SopTransition.active == True)  # noqa: E712


def allowed_targets(from_status: str) -> list[str]:
    return [t.to_status for t in SopTransition.select(SopTransition.to_status)
            .where(SopTransition.from_status == from_status,
                   SopTransition.active == True)  # noqa: E712
            .order_by(SopTransition.id)]


def check_move(lead: Lead, to_status: str, values: dict) -> SopTransition:
    """The active transition from the lead's status to `to_status` whose required fields are
    all filled by `values` or the lead; 422 naming `status` or every missing field."""
    current = lead.__data__.get("status")
    found = transition(current, to_status)
    if found is None:
        allowed = allowed_targets(current)
        raise unprocessable({"status": f"不允许从「{label(current)}」变为「{label(to_status)}」"
                                       f" / move not allowed; allowed: "
                                       + (", ".join(allowed) or "-")})
    missing = {}
    for name in found.required_fields or []:
        value = values[name] if name in values else lead.__data__.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing[name] = "必填 / required"
    if missing:
        raise unprocessable(missing)
    return found


def _clean_extra(ctx, data: dict) -> dict:
    """The non-status fields of a status request: rights (403), then validation (422)."""
    from modules.leads.validation import INPUT_FIELDS, Refs, clean

    if not data:
        return {}
    editable = set(INPUT_FIELDS) | set(EXTRA_FIELDS)
    system = tuple(n for n in Lead._meta.fields if n not in editable and n != "id")
    check_input(ctx, Lead, data, "write", system)
    values, errors = clean(data, Refs.load() if "region" in data else Refs(), creating=False,
                           extra=EXTRA_FIELDS)
    if errors:
        raise unprocessable(errors)
    return values


def change_status(ctx, lead_id, data: dict) -> dict:
    """Move a lead through the SOP (see module doc); returns the lead as the caller sees it."""
    from modules.leads import scoring, services, sla
    from security import audit

    require_model(ctx, Lead, "update")
    if not isinstance(data, dict) or "status" not in data:
        raise unprocessable({"status": "必填 / required"})
    to_status = data["status"]
    if to_status not in STATUSES:
        raise unprocessable({"status": "可选 / one of: " + ", ".join(STATUSES)})
    if to_status == "converted":
        raise unprocessable({"status": "请通过转化操作 / use POST /api/v1/leads/<id>/convert"})
    values = _clean_extra(ctx, {k: v for k, v in data.items() if k != "status"})
    lead = get_or_404(ctx, Lead, lead_id, "write")
    refusal = services.frozen(lead)
    if refusal is not None:
        raise refusal
    check_move(lead, to_status, values)
    now = ctx.now()
    from_status = lead.status
    with atomic():
        before = _snapshot(Lead.get_by_id(lead.id))
        changed = (Lead.update(status=to_status, status_changed_at=now, updated_at=now, **values)
                   .where(both(Lead.id == lead.id, scope(ctx, Lead, "write")),
                          Lead.status == from_status).execute())
        if not changed:
            raise APIError(409, "线索状态已被他人修改 / the lead's status changed meanwhile",
                           code="conflict")
        row = Lead.get_by_id(lead.id)
        audit.record_change(ctx, row, before, _snapshot(row),
                            sensitive=set(getattr(Lead, "__masks__", {})))
        if from_status == "new":
            sla.record_response(ctx, [lead.id], now)
        create_tasks(ctx, row, to_status, now)
        scoring.rescore(ctx, [row])
        EventBus.from_registry(ctx.registry).publish(
            "lead.status_changed", {"lead_id": lead.id, "from": from_status, "to": to_status,
                                    "division_id": row.division_id}, ctx)
    return services.get_lead(ctx, lead.id)


def _snapshot(row: Lead) -> dict:
    from security import audit

    return {k: v for k, v in audit.snapshot(row).items() if not k.endswith("_bidx")}


def create_tasks(ctx, lead: Lead, status: str, now: dt.datetime) -> list[dict]:
    """The follow-up tasks configured for entering `status`, for the lead's owner (or the
    caller when the lead is in the pool), created by the system through the contacts task
    service (so they are audited and follow the task rules)."""
    from modules.contacts.tasks import create_task
    from security.context import Context

    assignee = lead.owner_id or ctx.user_id
    templates = list(SopTask.select().where(SopTask.status == status,
                                            SopTask.active == True)  # noqa: E712
                     .order_by(SopTask.id))
    if assignee is None or not templates:
        return []
    system = Context(registry=ctx.registry, user=None, via="system", clock=ctx.clock,
                     request_id=ctx.request_id, ip=ctx.ip)
    made = []
    for template in templates:
        due = now + dt.timedelta(days=template.due_days)
        made.append(create_task(system, {
            "title": template.title, "description": template.description,
            "assignee": assignee, "due_at": due.isoformat(), "remind_at": due.isoformat(),
            "priority": template.priority, "res_model": "lead", "res_id": lead.id}))
    return made
