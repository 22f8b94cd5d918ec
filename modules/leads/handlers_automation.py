"""HTTP API of lead automation: pool, status SOP, activities, engagements, score,
notifications — and the route table of part 2 (admin rule routes are in `handlers_rules`).

Handlers parse, call a service, serialise; every rule (rights, scopes, field rules, limits)
lives in the services.
"""
from __future__ import annotations

from modules.contacts.handlers import ContactsApiHandler


class LeadsApiHandler(ContactsApiHandler):
    """Signed-in callers only; `pk`, `arg`, `list_params`, `body` as in contacts."""


class PoolHandler(LeadsApiHandler):
    """`GET /api/v1/leads/pool`: the current division's public pool."""

    def get(self) -> None:
        from modules.leads import pool
        self.write_json(pool.list_pool(self.ctx, self.list_params("-pool_entered_at"),
                                       self.arg))


class ReleaseHandler(LeadsApiHandler):
    """`POST {"reason"?}`: back to the pool."""

    def post(self, lead_id: str) -> None:
        from modules.leads import pool
        body = self.body()
        self.write_json(pool.release(self.ctx, self.pk(lead_id), body.get("reason")))


class ClaimHandler(LeadsApiHandler):
    """`POST`: take a lead from the pool (409 owned/protected, 429 daily limit)."""

    def post(self, lead_id: str) -> None:
        from modules.leads import pool
        self.write_json(pool.claim(self.ctx, self.pk(lead_id)))


class StatusHandler(LeadsApiHandler):
    """`POST {"status", "lost_reason"?, …}`: move through the SOP."""

    def post(self, lead_id: str) -> None:
        from modules.leads import sop
        self.write_json(sop.change_status(self.ctx, self.pk(lead_id), self.body()))


class ActivitiesHandler(LeadsApiHandler):
    """`POST {"kind", "subject", …}`: log an activity on the lead (stops the clocks) → 201;
    `GET`: the lead's activities (the contacts timeline of this lead)."""

    def post(self, lead_id: str) -> None:
        from modules.leads.lead_activities import log_lead_activity
        self.write_json(log_lead_activity(self.ctx, self.pk(lead_id), self.body()), 201)

    def get(self, lead_id: str) -> None:
        from modules.contacts.activities import timeline_activities
        from modules.contacts.parents import get_parent
        pk = self.pk(lead_id)
        model, _ = get_parent(self.ctx, "lead", pk)
        self.write_json(timeline_activities(self.ctx, model, pk,
                                            self.list_params("-occurred_at"), self.arg))


class EngagementsHandler(LeadsApiHandler):
    """`POST {"kind": "web_visit"|"email_open"|"email_click"|"download"|"webinar",
    "occurred_at"?, "details"?}` → 201: the lead turns hot, is rescored, its owner notified."""

    def post(self, lead_id: str) -> None:
        from modules.leads.engagements import post_engagement
        self.write_json(post_engagement(self.ctx, self.pk(lead_id), self.body()), 201)


class ScoreHandler(LeadsApiHandler):
    """`GET`: the lead's score and the breakdown that explains it."""

    def get(self, lead_id: str) -> None:
        from modules.leads.scoring import explain
        self.write_json(explain(self.ctx, self.pk(lead_id)))


class NotificationsHandler(LeadsApiHandler):
    """`GET ?unread=1&kind=&priority=`: the caller's inbox, newest first."""

    def get(self) -> None:
        from modules.leads.notify import list_notifications
        self.write_json(list_notifications(self.ctx, self.list_params("-id"), self.arg))


class NotificationReadHandler(LeadsApiHandler):
    def post(self, notification_id: str) -> None:
        from modules.leads.notify import mark_read
        self.write_json(mark_read(self.ctx, self.pk(notification_id)))


class NotificationsReadAllHandler(LeadsApiHandler):
    def post(self) -> None:
        from modules.leads.notify import mark_all_read
        self.write_json(mark_all_read(self.ctx))


def automation_routes() -> list:
    """Routes of part 2 (list them before any catch-all lead route)."""
    from modules.leads import handlers_rules as rules
    from modules.leads.handlers_public import PublicEngagementHandler

    v1 = r"/api/v1"
    kinds = r"(scoring-rules|assignment-rules|nurture-rules)"
    return [
        (rf"{v1}/leads/pool", PoolHandler),
        (rf"{v1}/leads/(\d+)/release", ReleaseHandler),
        (rf"{v1}/leads/(\d+)/claim", ClaimHandler),
        (rf"{v1}/leads/(\d+)/status", StatusHandler),
        (rf"{v1}/leads/(\d+)/activities", ActivitiesHandler),
        (rf"{v1}/leads/(\d+)/engagements", EngagementsHandler),
        (rf"{v1}/leads/(\d+)/score", ScoreHandler),
        (rf"{v1}/leads/{kinds}", rules.RulesHandler),
        (rf"{v1}/leads/{kinds}/(\d+)", rules.RuleHandler),
        (rf"{v1}/leads/(pool-settings|sla-policies)", rules.SettingsHandler),
        (rf"{v1}/leads/(pool-settings|sla-policies)/(default|\d+)", rules.SettingHandler),
        (rf"{v1}/leads/user-caps", rules.CapsHandler),
        (rf"{v1}/leads/user-caps/(\d+)", rules.CapHandler),
        (rf"{v1}/leads/sop", rules.SopHandler),
        (rf"{v1}/forms/([A-Za-z0-9_-]{{1,64}})/engagements", PublicEngagementHandler),
        (rf"{v1}/notifications", NotificationsHandler),
        (rf"{v1}/notifications/read-all", NotificationsReadAllHandler),
        (rf"{v1}/notifications/(\d+)/read", NotificationReadHandler),
    ]
