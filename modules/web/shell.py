"""`PageHandler`: the base of every HTML page of the web UI.

What it adds to `core.web.base.BaseHandler` (which opens the db connection, sets request ids
and audits sensitive reads on finish):

- HTML answers (`text/html; charset=UTF-8`) rendered from `modules/web/templates` with tornado's
  autoescape on, through `render_page(template, **kw)` and a common namespace (see
  `template_namespace`);
- sign-in: the `huike_session` cookie of `security.auth.sessions`; without a valid session a
  page redirects (302) to `/login?next=...` — unless the class sets `public = True`; a session
  still waiting for its second factor goes to `/login/totp`;
- XSRF: every non-GET request must carry the session's token, as the `X-XSRF-Token` header
  (htmx: `hx-headers` on <body>) or the `_xsrf` form field (`{% raw xsrf_field() %}`); public
  pages (the login form) use tornado's pre-session double-submit cookie instead;
- errors: an `APIError` renders `error.html` with its status (an htmx request gets a small
  fragment aimed at `#hk-messages`);
- language: `huike_lang` cookie (zh_CN default, en), a `Translator` per request whose missing
  keys are sent as `X-Huike-I18n-Missing` when the app setting `huike_i18n_strict` is on.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from urllib.parse import quote, urlencode

import peewee as pw
import tornado.web

from core.web.base import APIError, BaseHandler
from modules.web import divisions, formatting, i18n
from modules.web.menu import build_menu

log = logging.getLogger("huike.web")
WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
LANG_COOKIE = "huike_lang"
XSRF_FIELD = "_xsrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")

_static_versions: dict[str, str] = {}


def static_url(path: str) -> str:
    """`/static/<path>?v=<content hash>` (the hash busts browser caches after an upgrade)."""
    version = _static_versions.get(path)
    if version is None:
        target = (STATIC_DIR / path).resolve()
        if STATIC_DIR.resolve() not in target.parents or not target.is_file():
            raise ValueError(f"no static file {path!r}")
        version = hashlib.sha256(target.read_bytes()).hexdigest()[:12]
        _static_versions[path] = version
    return f"/static/{path}?v={version}"


def json_for_script(data) -> str:
    """JSON safe to place inside `<script type="application/json">` with `{% raw %}`: `<`, `>`
    and `&` are escaped so no value can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to: only `/...` (never `//host` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


class PageHandler(BaseHandler):
    """Base class of every HTML page (see the module docstring). Set `public = True` for pages
    that need no session (login, language switch)."""

    public = False
    openapi_exclude = True  # HTML pages are not API: left out of /api/v1/openapi.json

    # ------------------------------------------------------------------ lifecycle
    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Security-Policy", CSP)

    def prepare(self) -> None:
        super().prepare()
        if self.public:
            if self.request.method in UNSAFE:
                self.check_xsrf_cookie()  # pre-session double-submit (login form)
            return
        if self.current_user is None:
            self._send_to_login()
            return
        if self.request.method in UNSAFE:
            self._check_session_xsrf()

    def _send_to_login(self) -> None:
        from security.auth import sessions

        found = sessions.from_request(self)
        pending = found is not None and found.session.state == sessions.PENDING_2FA
        target = "/login/totp" if pending else "/login"
        url = f"{target}?{urlencode({'next': self.request.uri})}"
        if self.is_htmx:
            self.set_header("HX-Redirect", url)
            self.finish("")
        else:
            self.redirect(url)

    def _check_session_xsrf(self) -> None:
        sent = (self.request.headers.get("X-XSRF-Token")
                or self.get_body_argument(XSRF_FIELD, "") or "")
        expected = self.session_xsrf_token
        if not sent or not expected or not hmac.compare_digest(sent.encode("utf-8"),
                                                               expected.encode("utf-8")):
            raise APIError(403, "缺少或错误的 XSRF 令牌 / missing or wrong XSRF token",
                           code="xsrf", fields={XSRF_FIELD: "required"})

    def finish(self, chunk=None):
        translator = getattr(self, "_translator", None)
        if (translator is not None and translator.missing and not self._headers_written
                and self.application.settings.get("huike_i18n_strict")):
            self.set_header("X-Huike-I18n-Missing",
                            ",".join(quote(key, safe="._-()")
                                     for key in sorted(translator.missing)))
        return super().finish(chunk)

    # ------------------------------------------------------------------ who is calling
    def get_current_user(self):
        """The user of a fully signed-in cookie session (pages take no API tokens)."""
        from security.auth import sessions

        found = sessions.from_request(self)
        if found is None or found.session.state != sessions.ACTIVE:
            return None
        self._huike_auth_via = "session"
        return found.session.user

    @property
    def session_xsrf_token(self) -> str | None:
        from security.auth import sessions

        found = sessions.from_request(self)
        return found.xsrf_token if found is not None else None

    @property
    def ctx(self):
        """The request's `Context`, marked `via="web"` (audit entries say where a change came
        from)."""
        if getattr(self, "_ctx", None) is None:
            from core.db import utcnow
            from security.context import Context

            self._ctx = Context(registry=self.registry, user=self.current_user,
                                division_id=self.division_id,
                                request_id=getattr(self, "request_id", ""),
                                ip=self.request.remote_ip or "", via="web",
                                clock=self.application.settings.get("huike_clock") or utcnow)
        return self._ctx

    @property
    def division_choices(self) -> list[tuple[int, str]]:
        """`[(id, name)]` of the divisions the user may act in (the header's switcher)."""
        if getattr(self, "_division_choices", None) is None:
            user = self.current_user
            self._division_choices = divisions.choices(user) if user is not None else []
        return self._division_choices

    @property
    def division_id(self) -> int | None:
        """The division chosen with the `huike_division` cookie (None: the user's default)."""
        cookie = self.get_cookie(divisions.DIVISION_COOKIE)
        if not cookie or self.current_user is None:
            return None
        return divisions.chosen(cookie, self.division_choices)

    # ------------------------------------------------------------------ request helpers
    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request", "").lower() == "true"

    def form_dict(self) -> dict[str, str]:
        """The urlencoded / multipart form fields (last value of each; `_xsrf` left out).
        Use `self.get_body_arguments(name)` for a repeated field and
        `self.request.files` for uploads."""
        return {name: self.decode_argument(values[-1], name).strip() if values else ""
                for name, values in self.request.body_arguments.items() if name != XSRF_FIELD}

    def redirect_after_post(self, url: str) -> None:
        """303 to `url` (an htmx request gets `HX-Redirect`, which htmx follows in the page)."""
        if self.is_htmx:
            self.set_header("HX-Redirect", url)
            self.finish("")
        else:
            self.redirect(url, status=303)

    # ------------------------------------------------------------------ language
    @property
    def lang(self) -> str:
        return self.translator.lang

    @property
    def translator(self) -> i18n.Translator:
        if getattr(self, "_translator", None) is None:
            cookie = self.get_cookie(LANG_COOKIE)
            if cookie in i18n.LANGUAGES:
                lang = cookie
            else:
                user = self._current_user if hasattr(self, "_current_user") else None
                lang = i18n.normalise_language(getattr(user, "language", None))
            self._translator = i18n.Translator(lang)
        return self._translator

    def _(self, key: str, **values) -> str:
        return self.translator(key, **values)

    # ------------------------------------------------------------------ rendering
    def get_template_path(self) -> str:
        return str(TEMPLATE_DIR)

    def get_template_namespace(self) -> dict:
        namespace = super().get_template_namespace()
        namespace.update(self.template_namespace())
        return namespace

    def template_namespace(self) -> dict:
        """Names every page template can use."""
        user = self.current_user
        translator = self.translator
        menu = (build_menu(self.ctx, self.registry, translator, self.request.path)
                if user is not None else [])
        return {
            "_": translator, "pick": translator.pick, "lang": translator.lang,
            "languages": i18n.LANGUAGES, "language_names": i18n.LANGUAGE_NAMES,
            "user": user, "hk_user": user,
            "menu": menu, "hk_menu": menu,
            "xsrf_token": self.page_xsrf_token, "xsrf_field": self.xsrf_field,
            "static": static_url, "json_script": json_for_script,
            "fmt_money": formatting.fmt_money, "fmt_date": formatting.fmt_date,
            "fmt_datetime": formatting.fmt_datetime,
            # hk_*: the shell's own names (pages often pass `divisions` of their own)
            "hk_divisions": self.division_choices if user is not None else [],
            "hk_division_id": self._current_division(),
            "is_htmx": self.is_htmx, "current_path": self.request.path,
            "current_uri": self.request.uri, "page_title": None,
        }

    def _current_division(self) -> int | None:
        """The division the page acts in, as the door resolved it (for the switcher)."""
        if self.current_user is None:
            return None
        import security

        return security.permissions(self.ctx).division_id

    @property
    def page_xsrf_token(self) -> str:
        """The session's token, or tornado's pre-session token on public pages."""
        token = self.session_xsrf_token if self.current_user is not None else None
        if token is None:
            token = self.xsrf_token.decode("ascii")
        return token

    def xsrf_field(self) -> str:
        """`<input type="hidden" name="_xsrf" ...>` — use as `{% raw xsrf_field() %}`."""
        return (f'<input type="hidden" name="{XSRF_FIELD}" '
                f'value="{tornado.escape.xhtml_escape(self.page_xsrf_token)}">')

    def render_page(self, template_name: str, **kwargs) -> None:
        """Render `templates/<template_name>` with the common namespace plus `kwargs`."""
        self.render(template_name, **kwargs)

    # ------------------------------------------------------------------ errors
    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message, fields = self._error_message(status_code, exc)
        if status_code == 401 and not self.is_htmx and self.request.method == "GET":
            self.clear()
            self.redirect(f"/login?{urlencode({'next': self.request.uri})}")
            return
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        if self.is_htmx:
            self.set_header("HX-Retarget", "#hk-messages")
            self.set_header("HX-Reswap", "innerHTML")
        try:
            self.render("error_fragment.html" if self.is_htmx else "error.html",
                        status=self.get_status(), message=message, fields=fields,
                        request_id=getattr(self, "request_id", ""))
        except Exception:  # the error page itself failed (e.g. the database is down)
            log.exception("error page failed request_id=%s", getattr(self, "request_id", "-"))
            self.finish(f"<!doctype html><title>{self.get_status()}</title>"
                        f"<p>{tornado.escape.xhtml_escape(message)}</p>")

    def _error_message(self, status_code: int, exc) -> tuple[str, dict]:
        if isinstance(exc, APIError):
            return exc.message, exc.fields if isinstance(exc.fields, dict) else {
                str(i): v for i, v in enumerate(exc.fields)}
        if isinstance(exc, pw.IntegrityError):
            self.set_status(409)
            return ("与其他记录冲突（可能仍被引用或重复） / the change conflicts with other "
                    "records (still referenced, or a duplicate)"), {}
        if isinstance(exc, tornado.web.HTTPError):
            return (exc.log_message % exc.args if exc.log_message and exc.args
                    else exc.log_message or self._reason), {}
        return "服务器内部错误 / internal server error", {}


class LanguageHandler(PageHandler):
    """`GET /lang/<code>?next=/path`: remember the language in the `huike_lang` cookie."""

    public = True

    def get(self, code: str) -> None:
        if code not in i18n.LANGUAGES:
            raise APIError(404, f"不支持的语言 / unsupported language {code!r}")
        self.set_cookie(LANG_COOKIE, code, path="/", samesite="Lax", httponly=True,
                        expires_days=365)
        self.redirect(safe_next(self.get_query_argument("next", "/")))


class DivisionHandler(PageHandler):
    """`GET /division/<id>?next=/path`: act in another division the user holds a role in."""

    def get(self, division_id: str) -> None:
        wanted = divisions.chosen(division_id, self.division_choices)
        if wanted is None:
            raise APIError(403, "您在该事业部没有角色 / you hold no role in that division",
                           code="forbidden")
        self.set_cookie(divisions.DIVISION_COOKIE, str(wanted), path="/", samesite="Lax",
                        httponly=True)
        self.redirect(safe_next(self.get_query_argument("next", "/")))


class StaticHandler(tornado.web.StaticFileHandler):
    """`/static/...`: the UI's files shipped in the package; versioned URLs cache for a year."""

    openapi_exclude = True

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.get_query_argument("v", None):
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")


def shell_routes() -> list:
    return [
        (r"/static/(.*)", StaticHandler, {"path": str(STATIC_DIR)}),
        (r"/lang/([A-Za-z_]+)", LanguageHandler),
        (r"/division/(\d+)", DivisionHandler),
    ]
