"""Engagement events: a customer touched our marketing (web visit, e-mail open/click,
download, webinar) — the lead turns hot, is rescored, and its owner is alerted.

Two ways in:

- `POST /api/v1/leads/<id>/engagements {"kind", "occurred_at"?, "details"?}` — for the
  website back end or the marketing tool, signed in (API token) as a user whose write scope
  covers the lead (404 otherwise, 403 when only readable);
- `POST /api/v1/forms/<key>/engagements {"lead", "token", "kind", "details"?}` — public, for
  tracking pixels and links in nurture e-mails: no login, the web form's origin allow-list and
  per-visitor rate limit apply, and `token` = `engagement_token(form key, lead id)`, a keyed
  HMAC (the install's index key, domain `lead.engagement`), proves the link was issued for
  that lead of that form. A wrong token, a lead of another form or an unknown lead all answer
  the same 404. Rotating the index key invalidates issued links.

Each event is a `LeadEngagement`; the lead gets `hot = True`, a recomputed score (engagement
and hot rules) and its owner a high-priority notification (`notify.lead_hot`).
"""
from __future__ import annotations

import hmac

from core.web.base import APIError
from modules.contacts.common import Checker, as_pk, unprocessable
from modules.leads.automation_models import LeadEngagement
from modules.leads.lookup import writable_lead
from modules.leads.models import Lead
from modules.leads.notify import Note, send
from modules.leads.scoring import ENGAGEMENT_KINDS
from modules.leads.txn import transaction

TOKEN_DOMAIN = "lead.engagement"
COLUMNS = (Lead.id, Lead.owner, Lead.name, Lead.division)


def engagement_token(form_key: str, lead_id: int) -> str:
    """The tracking token of a lead captured by form `form_key`."""
    from security.crypto import blind_index

    return blind_index(f"{form_key}:{int(lead_id)}", lambda value: value, domain=TOKEN_DOMAIN)


def _clean(data, public: bool) -> dict:
    data = data if isinstance(data, dict) else {}
    check = Checker(data)
    check.choice("kind", ENGAGEMENT_KINDS)
    if "kind" not in data:
        check.fail("kind", "必填 / required; one of: " + ", ".join(ENGAGEMENT_KINDS))
    if not public:
        check.moment("occurred_at", nullable=False)
    check.mapping("details")
    allowed = {"kind", "details", *(("lead", "token") if public else ("occurred_at",))}
    for name in set(data) - allowed:
        check.fail(name, "未知字段 / unknown field")
    values = check.done()
    if len(str(values.get("details", ""))) > 4000:
        raise unprocessable({"details": "最多 4000 字符 / at most 4000 characters"})
    return values


def post_engagement(ctx, lead_id, data: dict) -> dict:
    """An engagement on a lead in the caller's write scope (see module doc)."""
    from security.crud import require_model

    require_model(ctx, Lead, "update")
    values = _clean(data, public=False)
    lead = writable_lead(ctx, lead_id, *COLUMNS)
    return record(ctx, lead, values)


def post_public_engagement(ctx, form, data: dict) -> dict:
    """An engagement reported by a tracking link of `form` (see module doc)."""
    from modules.leads.capture import LIMITER

    wait = LIMITER.take((form.key, ctx.ip), max(1, form.rate_per_minute))
    if wait:
        raise APIError(429, "提交过于频繁，请稍后再试 / too many submissions, try again later",
                       code="too_many_requests", fields={"retry_after": int(wait) + 1})
    data = data if isinstance(data, dict) else {}
    lead_id, token = as_pk(data.get("lead")), data.get("token")
    values = _clean(data, public=True)
    unknown = APIError(404, "链接无效 / unknown tracking link", code="not_found")
    if lead_id is None or not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8"), engagement_token(form.key, lead_id).encode("utf-8")):
        raise unknown
    lead = (Lead.select(*COLUMNS).where(Lead.id == lead_id, Lead.form_key == form.key,
                                        Lead.merged_into.is_null()).first())
    if lead is None:
        raise unknown
    record(ctx, lead, {k: v for k, v in values.items() if k in ("kind", "details")})
    return {"ok": True}


def record(ctx, lead: Lead, values: dict) -> dict:
    """Store the event, mark the lead hot, rescore it and alert its owner (one transaction)."""
    from modules.leads import scoring

    now = ctx.now()
    with transaction():
        engagement = LeadEngagement.create(
            lead=lead.id, kind=values["kind"], occurred_at=values.get("occurred_at") or now,
            details=values.get("details") or {}, created_by=ctx.user_id)
        Lead.update(hot=True, updated_at=now).where(Lead.id == lead.id).execute()
        score = scoring.rescore_ids(ctx, [lead.id])[lead.id]
        if lead.owner_id is not None:
            send(ctx, [Note(
                user_id=lead.owner_id, kind="lead_hot", priority="high",
                title=f"热线索 / Hot lead: {lead.name}",
                body=f"客户刚刚有互动（{values['kind']}）/ the customer just engaged "
                     f"({values['kind']})",
                res_id=lead.id, topic="notify.lead_hot", key=f"lead-hot-{engagement.id}",
                extra={"lead_id": lead.id, "engagement": values["kind"], "score": score})])
    return {"id": engagement.id, "lead": lead.id, "kind": engagement.kind,
            "occurred_at": engagement.occurred_at.isoformat(), "hot": True, "score": score}
