"""The rules of signing in and changing a password, free of HTTP: handlers call these.

Login answers one identical refusal (`login_failed`) for an unknown login, a wrong password, a
disabled user and a locked-out login — the password is verified in every case (a dummy hash
for unknown users) so neither the body nor the work done tells them apart."""
from __future__ import annotations

import datetime as dt

from modules.base.models import User
from security.auth import lockout, totp
from security.auth.sessions import ACTIVE, PENDING_2FA
from security.passwords import (
    PasswordPolicyError, check_policy, hash_password, needs_rehash, verify_password,
)

LOGIN_FAILED = "登录名或密码错误 / invalid login or password"


class AuthFailure(Exception):
    """A refused sign-in step: HTTP status, error code, message and offending fields."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def login_failed() -> AuthFailure:
    return AuthFailure(401, "login_failed", LOGIN_FAILED)


def sign_in(settings, login: str, password: str, code: str | None, *, now: dt.datetime,
            ip: str) -> tuple[User, str]:
    """Check credentials (and the one-time code when the user has TOTP); return the user and
    the session state to start (`active` or `pending_2fa`). Every attempt is logged."""
    locked = lockout.is_locked(login, now, settings)
    user = User.get_or_none(User.login == login.strip())
    valid = verify_password(user.password_hash if user else None, password)
    if locked or not valid or not user.active:
        reason = "locked" if locked else "bad_credentials" if not valid else "inactive"
        lockout.record(login, now=now, ip=ip, success=False, reason=reason, user=user)
        raise login_failed()
    if needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
    state = _second_factor(settings, user, login, code, now=now, ip=ip)
    lockout.record(login, now=now, ip=ip, success=True, reason="ok", user=user)
    return user, state


def _second_factor(settings, user: User, login: str, code: str | None, *, now, ip) -> str:
    device = totp.confirmed_device(user)
    if device is None:
        return PENDING_2FA if totp.requires_2fa(user, settings) else ACTIVE
    if not code:
        lockout.record(login, now=now, ip=ip, success=False, reason="totp_required", user=user)
        raise AuthFailure(401, "totp_required", "需要动态验证码 / one-time code required",
                          {"totp": "必填 / required"})
    if not totp.consume(device, code, now):
        lockout.record(login, now=now, ip=ip, success=False, reason="bad_totp", user=user)
        raise AuthFailure(401, "totp_invalid",
                          "动态验证码错误或已使用 / one-time code invalid or already used",
                          {"totp": "无效 / invalid"})
    return ACTIVE


def check_password_policy(settings, password: str, login: str) -> None:
    """Raise `PasswordPolicyError` when `password` breaks the configured policy."""
    security = settings["security"]
    check_policy(password, security["password_min_length"], login,
                 min_classes=security["password_min_classes"])


def check_password_change(settings, user: User, old: str, new: str, *, now: dt.datetime,
                          ip: str) -> None:
    """Verify the old password and apply the policy to the new one (raises `AuthFailure`).
    A wrong old password counts towards the lockout (it is logged in its own commit)."""
    locked = lockout.is_locked(user.login, now, settings)
    if locked or not verify_password(user.password_hash, old):
        lockout.record(user.login, now=now, ip=ip, success=False,
                       reason="locked" if locked else "bad_old_password", user=user)
        raise AuthFailure(422, "validation_failed", "原密码错误 / old password is wrong",
                          {"old_password": "错误 / wrong"})
    if new == old:
        raise AuthFailure(422, "validation_failed", "新密码不能与原密码相同 / new password must differ",
                          {"new_password": "与原密码相同 / same as the old one"})
    try:
        check_password_policy(settings, new, user.login)
    except PasswordPolicyError as exc:
        raise AuthFailure(422, "password_policy", str(exc), {"new_password": str(exc)}) from exc


def store_password(user: User, new: str, now: dt.datetime) -> None:
    """Store the new hash and the change time (which ends every older session)."""
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    user.save()
