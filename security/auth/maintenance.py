"""Housekeeping and operator actions: prune dead sessions and old login attempts; reset a
user's second factor; end all of a user's sessions and tokens."""
from __future__ import annotations

import datetime as dt

from core.db import atomic
from modules.base.models import User
from security.auth.models import ApiToken, LoginAttempt, Session, TotpDevice

KEEP_DEAD_SESSIONS = dt.timedelta(days=30)  # ended sessions stay this long for investigations
KEEP_ATTEMPTS = dt.timedelta(days=90)
KEEP_UNCONFIRMED_TOTP = dt.timedelta(days=1)


def prune(now: dt.datetime, settings) -> dict[str, int]:
    """Delete sessions ended (revoked, expired or idle) more than 30 days ago, login attempts
    older than 90 days, and TOTP enrolments left unconfirmed for a day. Returns the counts."""
    cutoff = now - KEEP_DEAD_SESSIONS
    idle = dt.timedelta(minutes=settings["security"]["session_idle_minutes"])
    with atomic():
        sessions = Session.delete().where(
            (Session.revoked_at < cutoff) | (Session.expires_at < cutoff)
            | (Session.last_seen_at < cutoff - idle)).execute()
        attempts = LoginAttempt.delete().where(
            LoginAttempt.created_at < now - KEEP_ATTEMPTS).execute()
        totp = TotpDevice.delete().where(
            TotpDevice.confirmed_at.is_null(),
            TotpDevice.created_at < now - KEEP_UNCONFIRMED_TOTP).execute()
    return {"sessions": sessions, "login_attempts": attempts, "totp_unconfirmed": totp}


def reset_totp(user: User, now: dt.datetime) -> int:
    """Remove the user's TOTP enrolment (lost phone) and end their sessions; a user who needs
    2FA then enrols again at the next login. Returns the number of sessions ended."""
    with atomic():
        TotpDevice.delete().where(TotpDevice.user == user).execute()
        return Session.update(revoked_at=now).where(Session.user == user,
                                                    Session.revoked_at.is_null()).execute()


def revoke_everything(user: User, now: dt.datetime) -> tuple[int, int]:
    """End every session and revoke every API token of `user`; return both counts."""
    with atomic():
        sessions = Session.update(revoked_at=now).where(Session.user == user,
                                                        Session.revoked_at.is_null()).execute()
        tokens = ApiToken.update(revoked_at=now).where(ApiToken.user == user,
                                                       ApiToken.revoked_at.is_null()).execute()
    return sessions, tokens
