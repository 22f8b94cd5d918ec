"""Logging an activity on a lead: the contacts timeline entry plus the lead's clocks.

`POST /api/v1/leads/<id>/activities` creates the `Activity` through the contacts activity
service (`res_model = "lead"`: the lead must be in the caller's read scope, the activity is
the caller's and is audited there) and, in the same transaction, stops the first-response
clock, moves `last_activity_at` and resets the follow-up escalation (`sla.record_response`),
then rescores the lead (recency rules). Activities logged through the generic
`/api/v1/activities` API reach the clocks through `sla.check` instead (see `sla`).
"""
from __future__ import annotations

from core.db import atomic
from modules.contacts.common import parse_moment, unprocessable


def log_lead_activity(ctx, lead_id: int, data: dict) -> dict:
    from modules.contacts.activities import log_activity
    from modules.contacts.models import Activity
    from security.crud import require_model
    from modules.leads import scoring, sla

    require_model(ctx, Activity, "create")
    if not isinstance(data, dict):
        raise unprocessable({"body": "必须是对象 / must be an object"})
    given = {k: v for k, v in data.items() if k in ("res_model", "res_id")}
    if given:
        raise unprocessable({k: "由地址决定 / set by the URL" for k in given})
    now = ctx.now()
    occurred = parse_moment(data.get("occurred_at")) if data.get("occurred_at") else now
    with atomic():
        activity = log_activity(ctx, {**data, "res_model": "lead", "res_id": lead_id})
        sla.record_response(ctx, [lead_id], min(occurred or now, now))
        scoring.rescore_ids(ctx, [lead_id])
    return activity
