"""`/api/v1/auth/totp/setup` and `/totp/confirm`: enrol a TOTP second factor.

Both work from a full session and from a `pending_2fa` session (a user whose role requires 2FA
but who has not enrolled yet: that session can do nothing else). Confirming with a valid code
turns a pending session into a full one, under a new session id."""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError
from security.auth import audit_hook, sessions, totp
from security.auth.handlers import AuthHandler, session_body


class TotpSetupHandler(AuthHandler):
    """`POST`: a new secret and its `otpauth://` URI (for the authenticator app's QR code)."""

    def post(self) -> None:
        found = self.session_or_401(allow_pending=True)
        user = found.session.user
        if totp.confirmed_device(user) is not None:
            raise APIError(409, "已启用动态验证码 / TOTP is already enrolled", code="totp_enrolled")
        issuer = self.app_settings["security"]["totp_issuer"]
        secret, uri = totp.begin(user, issuer, self.now)
        self.write_json({"secret": secret, "otpauth_uri": uri, "issuer": issuer})


class TotpConfirmHandler(AuthHandler):
    """`POST {"code"}`: prove the enrolment with a first code; the session becomes active."""

    def post(self) -> None:
        found = self.session_or_401(allow_pending=True)
        user = found.session.user
        code = self.json_body().get("code")
        device = totp.pending_device(user)
        if device is None:
            raise APIError(409, "请先调用 totp/setup / call totp/setup first", code="totp_no_setup")
        if not isinstance(code, (str, int)) or not totp.consume(device, str(code), self.now,
                                                                 confirm=True):
            raise APIError(422, "动态验证码错误或已使用 / one-time code invalid or already used",
                           fields={"code": "无效 / invalid"})
        with atomic():
            rotated = sessions.rotate(self, found, sessions.ACTIVE)
            audit_hook.totp_enrolled(self, user)
        self.write_json(session_body(rotated, self.app_settings))
