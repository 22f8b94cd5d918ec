"""`POST /api/v1/forms/<key>/engagements {"lead", "token", "kind", "details"?}` → 202: public
engagement tracking for a web form's leads (links and pixels in nurture e-mails; see
`engagements`). Built on the web-form handler: the form's origin allow-list, CORS headers,
preflight and error shape apply; no login, no cookies.
"""
from __future__ import annotations

from modules.leads.handlers_capture import PublicFormHandler


class PublicEngagementHandler(PublicFormHandler):
    def post(self, key: str) -> None:
        from core.db import utcnow
        from modules.leads.engagements import post_public_engagement
        from security.context import Context

        form = self._form(key)
        ctx = Context(registry=self.registry, user=None, via="system",
                      ip=self.request.remote_ip or "", request_id=self.request_id,
                      clock=self.application.settings.get("huike_clock") or utcnow)
        self.write_json(post_public_engagement(ctx, form, self.json_body()), 202)
