"""`BaseHandler`: JSON in and out, one error shape, request ids, one db connection per request.

Every error a client sees is `{"error": {"code", "message", "fields"}}` with its HTTP status;
no traceback page is ever rendered. `prepare` opens the request's database connection and
`on_finish` closes it (idempotently: `on_finish` also runs when `prepare` never did).
"""
from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import peewee as pw
import tornado.web

from core.db import database, is_postgres, tune_kept_connection

log = logging.getLogger("huike.web")
MAX_ID = 2**63 - 1  # the largest id either database can hold

ERROR_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
    500: "internal_error", 503: "unavailable",
}


class APIError(tornado.web.HTTPError):
    """An error answered as the documented JSON shape (raise it from handlers or services)."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 fields: dict[str, Any] | list | None = None):
        super().__init__(status, log_message=message)
        self.code = code or ERROR_CODES.get(status, "error")
        self.message = message
        self.fields = fields or {}


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class BaseHandler(tornado.web.RequestHandler):
    """Base for every API handler. `self.registry` and `self.settings_obj` come from the app."""

    _db_opened = False

    def initialize(self, **kwargs) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)

    # ------------------------------------------------------------ lifecycle
    def prepare(self) -> None:
        self.request_id = self.request.headers.get("X-Request-Id", "")[:64] or new_request_id()
        self.set_header("X-Request-Id", self.request_id)
        if any(isinstance(arg, str) and arg.isascii() and arg.isdigit()
               and (len(arg) > 19 or int(arg) > MAX_ID)
               for arg in self.path_args):
            # a numeric path id beyond 64 bits names no record (and would overflow the driver)
            raise APIError(404, "记录不存在 / no such record (id out of range)")
        self._db_opened = database.connect(reuse_if_open=True)
        if self._db_opened:
            tune_kept_connection()

    def finish(self, chunk=None):
        """Audit reads of sensitive fields in clear before the answer leaves (once per
        request), so no response carries clear data without its audit entry."""
        ctx = getattr(self, "_ctx", None)
        if ctx is not None and ctx.cache and not database.is_closed():
            from security.sensitive_reads import flush
            flush(ctx)
        return super().finish(chunk)

    def on_finish(self) -> None:
        """PostgreSQL: hand the connection back to the pool. SQLite: keep the process's one
        connection open for the next request — opening costs the pragmas, and closing the
        last connection checkpoints the WAL with an fsync (~40 ms vs 6–14 ms per capture,
        bench/bench_leads_capture.py) — but never leave a transaction open on it."""
        if not self._db_opened or database.is_closed():
            self._db_opened = False
            return
        if is_postgres():
            database.close()
        elif database.connection().in_transaction:
            database.connection().rollback()
        self._db_opened = False

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        if getattr(self, "request_id", None):
            self.set_header("X-Request-Id", self.request_id)

    @property
    def app_settings(self):
        return self.application.settings["huike_settings"]

    @property
    def registry(self):
        return self.application.settings["huike_registry"]

    # ------------------------------------------------------------ authentication
    def get_current_user(self):
        """Ask each module-registered authenticator (session cookie, API token, ...) in turn."""
        for authenticate in self.application.settings.get("huike_authenticators", []):
            user = authenticate(self)
            if user is not None:
                return user
        return None

    @property
    def ctx(self):
        """The request's `security.context.Context` (built once, after authentication)."""
        if getattr(self, "_ctx", None) is None:
            from core.db import utcnow
            from security.context import Context

            division = self.request.headers.get("X-Division", "")
            # `huike_clock` (an app setting) lets tests move time without sleeping
            self._ctx = Context(registry=self.registry, user=self.current_user,
                                division_id=int(division) if division.isdigit() else None,
                                request_id=getattr(self, "request_id", ""),
                                ip=self.request.remote_ip or "", via="api",
                                clock=self.application.settings.get("huike_clock") or utcnow)
        return self._ctx

    def require_user(self):
        if self.current_user is None:
            raise APIError(401, "请先登录 / authentication required")
        return self.current_user

    def require_admin(self):
        user = self.require_user()
        if not getattr(user, "is_admin", False):
            raise APIError(403, "需要管理员权限 / administrator role required")
        return user

    # ------------------------------------------------------------ JSON in/out
    def json_body(self) -> dict:
        """Parse the request body as a JSON object (413 if oversize, 400 if malformed)."""
        limit = self.app_settings["server"]["max_json_bytes"]
        body = self.request.body
        if len(body) > limit:
            raise APIError(413, f"请求体过大 / JSON body exceeds {limit} bytes")
        if not body:
            return {}
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise APIError(400, f"请求体不是合法的 JSON / malformed JSON: {exc}", code="malformed_json")
        if not isinstance(data, dict):
            raise APIError(400, "请求体必须是 JSON 对象 / JSON body must be an object",
                           code="malformed_json")
        return data

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, ensure_ascii=False, default=str))

    # ------------------------------------------------------------ errors
    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, APIError):
            code, message, fields = exc.code, exc.message, exc.fields
        elif isinstance(exc, tornado.web.HTTPError):
            code = ERROR_CODES.get(status_code, "error")
            message = exc.log_message % exc.args if exc.log_message and exc.args else (
                exc.log_message or self._reason)
            fields = {}
        elif isinstance(exc, pw.IntegrityError):
            # a database constraint refused the change (e.g. the record is still referenced
            # by others); the transaction was rolled back — a conflict, not a server fault
            self.set_status(409)
            code, fields = "conflict", {}
            message = ("与其他记录冲突（可能仍被引用或重复） / the change conflicts with other "
                       "records (still referenced, or a duplicate)")
        else:
            code, message, fields = "internal_error", "服务器内部错误 / internal server error", {}
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": {"code": code, "message": message, "fields": fields,
                                          "request_id": getattr(self, "request_id", None)}},
                               ensure_ascii=False, default=str))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, tornado.web.HTTPError):
            return  # client errors are in the access log already
        log.error("unhandled error request_id=%s %s %s", getattr(self, "request_id", "-"),
                  self.request.method, self.request.uri, exc_info=(typ, value, tb))


class NotFoundHandler(BaseHandler):
    """Default handler: every unknown route is a JSON 404."""

    def prepare(self) -> None:
        super().prepare()
        raise APIError(404, f"没有这个地址 / no route for {self.request.path}")
