"""`/api/v1/auth/`: login, logout, me, password. (Tokens and TOTP live in their own files.)

Login answers `{"state", "xsrf_token", "expires_at", "user", ...}` and sets the cookies
`huike_session` (HttpOnly) and `huike_xsrf` (readable by the web UI). Cookie-authenticated
writes must send the token back as the `X-XSRF-Token` header."""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError, BaseHandler
from modules.base.models import Role, User, UserRole
from security.auth import audit_hook, service, sessions, totp
from security.auth.common import bearer_token, client_ip, now_of


def serialise_user(user: User) -> dict:
    roles = (UserRole.select(UserRole, Role).join(Role).where(UserRole.user == user)
             .order_by(Role.code, UserRole.division))
    return {"id": user.id, "login": user.login, "name": user.name, "email": user.email,
            "is_admin": user.is_admin, "language": user.language, "timezone": user.timezone,
            "roles": [{"code": link.role.code, "division_id": link.division_id} for link in roles]}


def session_body(found: sessions.Found, settings) -> dict:
    user = found.session.user
    return {"state": found.session.state, "xsrf_token": found.xsrf_token,
            "expires_at": found.session.expires_at, "user": serialise_user(user),
            "requires_2fa": totp.requires_2fa(user, settings),
            "totp_enrolled": totp.confirmed_device(user) is not None}


class AuthHandler(BaseHandler):
    """Shared helpers: the clock, and the caller's cookie session (with the XSRF check)."""

    @property
    def now(self):
        return now_of(self)

    def session_or_401(self, allow_pending: bool = False) -> sessions.Found:
        """The caller's cookie session (pending 2FA too when allowed), XSRF-checked."""
        found = None if bearer_token(self) else sessions.from_request(self)
        if found is None or (found.session.state != sessions.ACTIVE and not allow_pending):
            raise APIError(401, "请先登录 / authentication required")
        sessions.check_xsrf(self, found)
        return found

    def require_session_user(self) -> User:
        """A fully signed-in cookie session (not a token): for credentials-changing calls."""
        user = self.require_user()
        if getattr(self, "_huike_auth_via", None) != "session":
            raise APIError(403, "此操作需要登录会话，不能用 API 令牌 / needs a login session, "
                                "not an API token", code="session_required")
        return user

    def fail(self, failure: service.AuthFailure):
        raise APIError(failure.status, failure.message, code=failure.code, fields=failure.fields)


class LoginHandler(AuthHandler):
    """`POST /api/v1/auth/login` `{"login", "password", "totp"?}`. Only `application/json` is
    accepted: a cross-site HTML form cannot send it, so no one can be logged in to someone
    else's account by a forged form (login CSRF)."""

    def post(self) -> None:
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            raise APIError(415, "请以 application/json 提交 / send application/json")
        body = self.json_body()
        login, password, code = body.get("login"), body.get("password"), body.get("totp")
        fields = {}
        if not isinstance(login, str) or not login.strip():
            fields["login"] = "必填 / required"
        if not isinstance(password, str) or not password:
            fields["password"] = "必填 / required"
        if code is not None and not isinstance(code, (str, int)):
            fields["totp"] = "须为字符串 / must be a string"
        if fields:
            raise APIError(422, "请填写登录名和密码 / login and password are required",
                           fields=fields)
        try:
            user, state = service.sign_in(self.app_settings, login, password,
                                          None if code is None else str(code),
                                          now=self.now, ip=client_ip(self))
        except service.AuthFailure as failure:
            audit_hook.login_failed(self, login, failure.code)
            self.fail(failure)
        with atomic():
            found = sessions.start(self, user, state)
            audit_hook.login(self, user, state)
        self.write_json(session_body(found, self.app_settings))


class LogoutHandler(AuthHandler):
    """`POST /api/v1/auth/logout`: revoke this session and clear the cookies."""

    def post(self) -> None:
        found = self.session_or_401(allow_pending=True)
        with atomic():
            sessions.revoke(found.session, self.now)
            audit_hook.logout(self, found.session.user)
        sessions.clear_cookies(self)
        self.write_json({"ok": True})


class MeHandler(AuthHandler):
    """`GET /api/v1/auth/me`: who is calling, how, and the session's XSRF token."""

    def get(self) -> None:
        if bearer_token(self):
            user = self.require_user()
            self.write_json({"state": sessions.ACTIVE, "via": "token",
                             "user": serialise_user(user),
                             "requires_2fa": totp.requires_2fa(user, self.app_settings),
                             "totp_enrolled": totp.confirmed_device(user) is not None})
            return
        found = self.session_or_401(allow_pending=True)
        self.write_json({**session_body(found, self.app_settings), "via": "session"})


class PasswordHandler(AuthHandler):
    """`POST /api/v1/auth/password` `{"old_password", "new_password"}`: change the caller's
    password, end every other session (and this one: the client gets a fresh session)."""

    def post(self) -> None:
        user = self.require_session_user()
        body = self.json_body()
        old, new = body.get("old_password"), body.get("new_password")
        fields = {name: "必填 / required" for name, value in
                  (("old_password", old), ("new_password", new))
                  if not isinstance(value, str) or not value}
        if fields:
            raise APIError(422, "请填写原密码和新密码 / old and new password are required",
                           fields=fields)
        now = self.now
        try:
            service.check_password_change(self.app_settings, user, old, new, now=now,
                                          ip=client_ip(self))
        except service.AuthFailure as failure:
            self.fail(failure)
        with atomic():
            service.store_password(user, new, now)
            revoked = sessions.revoke_all(user, now)
            found = sessions.start(self, user, sessions.ACTIVE)
            audit_hook.password_changed(self, user, revoked)
        self.write_json({**session_body(found, self.app_settings), "sessions_revoked": revoked})
