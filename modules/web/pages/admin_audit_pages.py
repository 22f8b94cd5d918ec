"""`/admin/audit`: the audit viewer (paged, filtered by action and user) and
`/admin/audit/verify`: the "verify chain" button's answer (ok, or the first broken entry)."""
from __future__ import annotations

from tornado.ioloop import IOLoop

from modules.web.pages import admin_audit
from modules.web.pages.admin import AdminPage


class AuditPage(AdminPage):
    """`GET /admin/audit?action=&actor=&after=` newest entries first, 50 a page."""

    page = "audit"

    def get(self) -> None:
        action = self.get_query_argument("action", "")
        actor = self.get_query_argument("actor", "")
        result = admin_audit.list_audit(self.ctx, action, actor,
                                        self.get_query_argument("after", ""))
        self.render_admin("audit.html", entries=result["entries"], next_cursor=result["next"],
                          action=action, actor=actor, actions=admin_audit.actions())


class AuditVerifyPage(AdminPage):
    """`POST /admin/audit/verify`: recompute the whole chain on a worker thread and answer the
    result fragment (a full page without htmx)."""

    page = "audit"

    async def post(self) -> None:
        result = await IOLoop.current().run_in_executor(None, admin_audit.verify_in_thread)
        template = "verify_result.html" if self.is_htmx else "verify_page.html"
        self.render_admin(template, result=result)


def routes() -> list:
    return [
        (r"/admin/audit", AuditPage),
        (r"/admin/audit/verify", AuditVerifyPage),
    ]
