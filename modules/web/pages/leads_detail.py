"""Everything the lead detail page shows, gathered through the services (each one door-checked):
the lead, its score breakdown, activity timeline, open tasks, duplicates, the SOP moves open
from its status (with their required fields) and which actions the caller may take.

A section the caller has no right to (e.g. no `model/activity` read) is left out rather than
failing the whole page; any other refusal (the lead itself unreadable: 404) propagates.
"""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.models import ACTIVITY_KINDS
from modules.contacts.paging import ListParams
from modules.leads.models import Lead
from modules.web.pages.leads_common import FORM_FIELDS, add_owner_names, field_levels

TIMELINE_SIZE = "30"


def _optional(call, *args):
    """The section's data, or None when the caller lacks the right to it (403)."""
    try:
        return call(*args)
    except APIError as exc:
        if exc.status_code == 403:
            return None
        raise


def _params(sort: str) -> ListParams:
    return ListParams.parse(lambda name: TIMELINE_SIZE if name == "limit" else None, sort)


def _activities(ctx, pk: int) -> list[dict]:
    from modules.contacts.activities import timeline_activities

    return timeline_activities(ctx, Lead, pk, _params("-occurred_at"), lambda name: None)["items"]


def _tasks(ctx, pk: int) -> list[dict]:
    from modules.contacts.tasks import timeline_tasks

    return timeline_tasks(ctx, Lead, pk, _params("-id"), lambda name: None)["items"]


def transitions(status: str | None) -> list[dict]:
    """The active SOP moves from `status`: `[{"to", "required"}]` (reference data)."""
    from modules.leads.automation_models import SopTransition

    if not status:
        return []
    rows = (SopTransition.select(SopTransition.to_status, SopTransition.required_fields)
            .where(SopTransition.from_status == status,
                   SopTransition.active == True)  # noqa: E712
            .order_by(SopTransition.id))
    return [{"to": r.to_status, "required": list(r.required_fields or [])} for r in rows
            if r.to_status != "converted"]


def owner_choices(ctx, levels: dict) -> list[tuple[int, str]]:
    """Active users to pick as owner — only offered when the caller may write `owner`."""
    from modules.base.models import User

    if levels.get("owner") != "write":
        return []
    rows = (User.select(User.id, User.name, User.login).where(User.active == True)  # noqa: E712
            .order_by(User.name).limit(300))
    return [(u.id, f"{u.name} ({u.login})") for u in rows]


def visible_score(score: dict, read: dict) -> dict:
    """The score answer as `scoring.explain` gives it: parts about fields the caller may not
    read in clear are already withheld there (with their count in `withheld`)."""
    return dict(score, withheld=score.get("withheld", 0))


def rights(ctx) -> dict[str, bool]:
    import security

    return {name: security.can(ctx, "execute", f"action/lead.{name}")
            for name in ("convert", "merge", "pool")} | {
        "update": security.can(ctx, "write", "model/lead"),
        "log": security.can(ctx, "create", "model/activity")}


def detail_context(ctx, pk: int) -> dict:
    """The template variables of the detail page for lead `pk` (404 when unreadable)."""
    from modules.leads import dedupe, scoring, services

    lead = add_owner_names(ctx, [services.get_lead(ctx, pk)])[0]
    read = field_levels(ctx, "read")
    write = field_levels(ctx, "write")
    frozen = lead.get("status") == "converted" or bool(lead.get("merged_into"))
    return {
        "lead": lead, "read_levels": read, "write_levels": write, "form_fields": FORM_FIELDS,
        "frozen": frozen, "score": visible_score(scoring.explain(ctx, pk), read),
        "activities": _optional(_activities, ctx, pk), "tasks": _optional(_tasks, ctx, pk),
        "duplicates": dedupe.summary(ctx, pk),
        "moves": [] if frozen else transitions(lead.get("status")),
        "owner_choices": owner_choices(ctx, write), "rights": rights(ctx),
        "activity_kinds": ACTIVITY_KINDS, "in_pool": "owner" in lead and lead["owner"] is None,
    }


def render_detail(handler, pk: int, *, errors: dict | None = None, status: int = 200,
                  status_form: dict | None = None, template: str = "leads/detail.html") -> None:
    """Render the detail page (or its status panel) with `errors` next to their fields."""
    handler.set_status(status)
    handler.render_lead_page(template, errors=errors or {}, status_form=status_form or {},
                             **detail_context(handler.ctx, pk))
