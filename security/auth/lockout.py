"""Brute-force lockout: after `security.lockout_attempts` failed logins of one login name within
`security.lockout_window_minutes` (counted since its last success), further attempts are refused
until the window has passed since those failures.

Only verified failures count (a wrong password or a wrong one-time code); attempts refused
because of the lockout are logged but do not extend it, so an attacker gets at most N guesses
per window. The caller answers a locked login exactly like a wrong password."""
from __future__ import annotations

import datetime as dt

from security.auth.models import LoginAttempt

FAILURES = ("bad_credentials", "bad_totp", "bad_old_password")


def normalise(login: str) -> str:
    return (login or "").strip().lower()[:64]


def is_locked(login: str, now: dt.datetime, settings) -> bool:
    security = settings["security"]
    limit = security["lockout_attempts"]
    if limit <= 0:
        return False
    since = now - dt.timedelta(minutes=security["lockout_window_minutes"])
    key = normalise(login)
    last_success = (LoginAttempt.select(LoginAttempt.created_at)
                    .where(LoginAttempt.login == key, LoginAttempt.success == True,  # noqa: E712
                           LoginAttempt.created_at > since)
                    .order_by(LoginAttempt.created_at.desc()).first())
    if last_success is not None:
        since = last_success.created_at
    failures = (LoginAttempt.select()
                .where(LoginAttempt.login == key, LoginAttempt.success == False,  # noqa: E712
                       LoginAttempt.reason.in_(FAILURES), LoginAttempt.created_at > since,
                       LoginAttempt.created_at <= now)
                .count())
    return failures >= limit


def record(login: str, *, now: dt.datetime, ip: str, success: bool, reason: str,
           user=None) -> LoginAttempt:
    return LoginAttempt.create(login=normalise(login), user=user, ip=ip[:64], success=success,
                               reason=reason, created_at=now)
