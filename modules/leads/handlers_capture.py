"""Web-form capture over HTTP.

    OPTIONS /api/v1/forms/<key>      CORS preflight: 204 with the allow headers for a listed
                                     origin only (403 for any other)
    POST    /api/v1/forms/<key>      public submission (JSON or form-encoded) → 201
    GET/POST /api/v1/leads/forms     form administration (door: model/lead_form)
    GET/PATCH /api/v1/leads/forms/<id>

The public route authenticates nobody and needs no XSRF token (it never looks at cookies);
what protects it is the form key, the origin allow-list, the honeypot and the rate limit
(see `capture`).
"""
from __future__ import annotations

from urllib.parse import parse_qs

from core.web.base import APIError, BaseHandler
from modules.leads.handlers import LeadsApiHandler

MAX_FORM_BYTES = 16_384


class PublicFormHandler(BaseHandler):
    """Anonymous: never calls `current_user`, so no session cookie is consulted."""

    def _form(self, key: str):
        from modules.leads.capture import active_form, origin_allowed

        form = active_form(key)
        origin = self.request.headers.get("Origin")
        if not origin_allowed(form, origin):
            raise APIError(403, "来源不在表单白名单中 / origin not allowed for this form",
                           code="origin_not_allowed")
        self._origin = origin or None
        self._cors()
        return form

    def _cors(self) -> None:
        if getattr(self, "_origin", None):
            self.set_header("Access-Control-Allow-Origin", self._origin)
            self.set_header("Vary", "Origin")

    def write_error(self, status_code: int, **kwargs) -> None:
        """Errors keep the CORS header (tornado clears headers first), so the page can read
        a 422 and show it; a 429 says when to retry."""
        self._cors()
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if status_code == 429 and isinstance(exc, APIError):
            self.set_header("Retry-After", str(exc.fields.get("retry_after", 60)))
        super().write_error(status_code, **kwargs)

    def options(self, key: str) -> None:
        self._form(key)
        self.set_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", "Content-Type")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def _data(self) -> dict:
        body = self.request.body
        if len(body) > MAX_FORM_BYTES:
            raise APIError(413, "表单内容过大 / form body too large")
        kind = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            return self.json_body()
        if kind == "application/x-www-form-urlencoded":
            try:
                parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise APIError(400, "表单不是 UTF-8 / form is not UTF-8") from None
            return {key: values[-1] for key, values in parsed.items()}
        if kind == "multipart/form-data":
            return {key: values[-1].decode("utf-8", "replace")
                    for key, values in self.request.body_arguments.items()}
        raise APIError(415, "需要 JSON 或表单编码 / JSON or form-encoded body expected")

    def post(self, key: str) -> None:
        from core.db import utcnow
        from modules.leads.capture import submit
        from security.context import Context

        form = self._form(key)
        data = self._data()
        ctx = Context(registry=self.registry, user=None, via="system",
                      ip=self.request.remote_ip or "", request_id=self.request_id,
                      clock=self.application.settings.get("huike_clock") or utcnow)
        submit(ctx, form, data)
        self.write_json({"ok": True}, 201)


class FormsHandler(LeadsApiHandler):
    def get(self) -> None:
        from modules.leads.capture import list_forms

        self.write_json({"items": list_forms(self.ctx)})

    def post(self) -> None:
        from modules.leads.capture import create_form

        self.write_json(create_form(self.ctx, self.json_body()), 201)


class FormHandler(LeadsApiHandler):
    def get(self, form_id: str) -> None:
        from modules.leads.capture import get_form

        self.write_json(get_form(self.ctx, self.pk(form_id)))

    def patch(self, form_id: str) -> None:
        from modules.leads.capture import update_form

        self.write_json(update_form(self.ctx, self.pk(form_id), self.json_body()))
