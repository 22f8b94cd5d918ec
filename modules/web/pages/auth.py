"""Sign-in pages: `/login` (password, plus the one-time code once TOTP is enrolled),
`/login/totp` (first enrolment of the second factor for users who must have one) and
`/logout`.

They call the same rules as `/api/v1/auth/*` (`security.auth.service.sign_in`, `sessions`,
`totp`, `audit_hook`), so lockout, the identical refusal for unknown users, audit entries and
the 2FA policy are the API's. The login form is protected against login CSRF by tornado's
pre-session double-submit token (`_xsrf` cookie + field)."""
from __future__ import annotations

import hmac
from urllib.parse import urlencode

import pyotp

from core.db import atomic
from core.web.base import APIError
from modules.web.shell import PageHandler, safe_next
from security.auth import audit_hook, service, sessions, totp
from security.auth.common import client_ip, now_of


class LoginPage(PageHandler):
    """`GET /login` shows the form; `POST /login` signs in and goes to `next`."""

    public = True

    def get(self) -> None:
        if self.current_user is not None:
            self.redirect(safe_next(self.get_query_argument("next", "/")))
            return
        self._form(status=200)

    def _form(self, status: int, error: str | None = None, field: str | None = None,
              login: str = "") -> None:
        self.set_status(status)
        self.render_page("login.html", error=error, error_field=field, login=login,
                         next_url=safe_next(self.get_argument("next", "/")))

    def post(self) -> None:
        form = self.form_dict()
        login, password, code = form.get("login", ""), form.get("password", ""), form.get("totp")
        if not login or not password:
            self._form(422, self._("auth.login.required"),
                       "login" if not login else "password", login)
            return
        try:
            user, state = service.sign_in(self.app_settings, login, password, code or None,
                                          now=now_of(self), ip=client_ip(self))
        except service.AuthFailure as failure:
            audit_hook.login_failed(self, login, failure.code)
            key = {"totp_required": "auth.login.totp_required",
                   "totp_invalid": "auth.login.totp_invalid"}.get(failure.code,
                                                                  "auth.login.failed")
            self._form(failure.status, self._(key),
                       "totp" if failure.code.startswith("totp") else "password", login)
            return
        with atomic():
            sessions.start(self, user, state)
            audit_hook.login(self, user, state)
        target = safe_next(form.get("next"))
        if state == sessions.PENDING_2FA:
            self.redirect(f"/login/totp?{urlencode({'next': target})}", status=303)
        else:
            self.redirect(target, status=303)


class TotpEnrolPage(PageHandler):
    """`/login/totp`: a signed-in user who must have a second factor and has none enrols here.

    GET shows a fresh secret (for manual entry in an authenticator app) and its otpauth URI;
    POST confirms with a first code, which turns the pending session into a full one under a
    new session id."""

    public = True

    def _pending(self) -> sessions.Found:
        found = sessions.from_request(self)
        if found is None:
            raise APIError(401, "请先登录 / authentication required")
        if found.session.state != sessions.PENDING_2FA:
            raise APIError(409, "已完成双重验证 / second factor already set up",
                           code="totp_enrolled")
        return found

    def prepare(self) -> None:
        super().prepare()
        if self._finished:
            return
        found = sessions.from_request(self)
        if found is None:
            self.redirect(
                f"/login?{urlencode({'next': safe_next(self.get_argument('next', '/'))})}")
        elif found.session.state == sessions.ACTIVE:
            self.redirect(safe_next(self.get_argument("next", "/")))

    def get(self) -> None:
        found = self._pending()
        user = found.session.user
        issuer = self.app_settings["security"]["totp_issuer"]
        secret, uri = totp.begin(user, issuer, now_of(self))
        self._form(200, secret, uri)

    def _form(self, status: int, secret: str, uri: str, error: str | None = None) -> None:
        self.set_status(status)
        self.render_page("login_totp.html", secret=secret, otpauth_uri=uri, error=error,
                         next_url=safe_next(self.get_argument("next", "/")))

    def post(self) -> None:
        found = self._pending()
        user = found.session.user
        device = totp.pending_device(user)
        code = self.form_dict().get("code", "")
        if device is None:
            self.redirect(
                f"/login/totp?{urlencode({'next': safe_next(self.get_argument('next', '/'))})}",
                status=303)
            return
        if not totp.consume(device, code, now_of(self), confirm=True):
            issuer = self.app_settings["security"]["totp_issuer"]
            uri = pyotp.TOTP(device.secret).provisioning_uri(name=user.login, issuer_name=issuer)
            self._form(422, device.secret, uri, self._("auth.totp.invalid"))
            return
        with atomic():
            sessions.rotate(self, found, sessions.ACTIVE)
            audit_hook.totp_enrolled(self, user)
        self.redirect(safe_next(self.get_argument("next", "/")), status=303)


class LogoutPage(PageHandler):
    """`POST /logout` (with the XSRF field): end the session and go to the login page. Any
    session state may log out (a pending 2FA one too), hence `public` with its own check."""

    public = True

    def check_xsrf_cookie(self) -> None:
        """The session's token (from the shell's header form) or, for a pending 2FA session
        (whose pages carry the pre-session token), tornado's double-submit token."""
        found = sessions.from_request(self)
        sent = self.request.headers.get("X-XSRF-Token") or self.get_body_argument("_xsrf", "")
        if found is not None and sent and hmac.compare_digest(sent.encode("utf-8"),
                                                              found.xsrf_token.encode("utf-8")):
            return
        super().check_xsrf_cookie()

    def get(self) -> None:
        self.redirect("/" if self.current_user is not None else "/login")

    def post(self) -> None:
        found = sessions.from_request(self)
        if found is not None:
            with atomic():
                sessions.revoke(found.session, now_of(self))
                audit_hook.logout(self, found.session.user)
        sessions.clear_cookies(self)
        self.redirect_after_post("/login")


def routes() -> list:
    return [
        (r"/login", LoginPage),
        (r"/login/totp", TotpEnrolPage),
        (r"/logout", LogoutPage),
    ]
