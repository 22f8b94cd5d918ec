"""Server-side sessions: a random 256-bit id in an HttpOnly, SameSite=Lax cookie, its SHA-256 in
`security_session`, idle and absolute expiry, and a per-session XSRF token.

A session is valid only while: not revoked, before its absolute expiry, used within the idle
limit, its user is active, and it was created at or after the user's `password_changed_at`
(so a password set anywhere — API, CLI, service — ends older sessions).

The XSRF token is derived from the session id (keyed hash), so it needs no storage, differs per
session and cannot be computed from the database. Cookie-authenticated unsafe requests must echo
it in the `X-XSRF-Token` header."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from core.web.base import APIError
from modules.base.models import User
from security.auth.common import (
    SESSION_COOKIE, UNSAFE_METHODS, XSRF_COOKIE, XSRF_HEADER, bearer_token, client_ip, digest,
    is_secure_request, new_secret, now_of, user_agent,
)
from security.auth.models import Session
from security.fragments import Prepared

ACTIVE = "active"
PENDING_2FA = "pending_2fa"
TOUCH_EVERY = dt.timedelta(seconds=60)  # `last_seen_at` is written at most once a minute


@dataclass
class Found:
    """A valid session for this request and the raw id the client presented."""

    session: Session
    raw: str

    @property
    def xsrf_token(self) -> str:
        return xsrf_token_for(self.raw)


def xsrf_token_for(raw: str) -> str:
    return hmac.new(raw.encode("utf-8"), b"huike-xsrf", hashlib.sha256).hexdigest()


def _limits(settings) -> tuple[dt.timedelta, dt.timedelta]:
    security = settings["security"]
    return (dt.timedelta(minutes=security["session_idle_minutes"]),
            dt.timedelta(hours=security["session_absolute_hours"]))


# ------------------------------------------------------------------ create / end
def start(handler, user: User, state: str = ACTIVE) -> Found:
    """Create a session for `user`, set its cookies and return it."""
    now = now_of(handler)
    _idle, absolute = _limits(handler.app_settings)
    raw = new_secret(32)
    session = Session.create(user=user, token_hash=digest(raw), state=state, created_at=now,
                             last_seen_at=now, expires_at=now + absolute,
                             ip=client_ip(handler), user_agent=user_agent(handler))
    found = Found(session, raw)
    set_cookies(handler, found)
    return found


def rotate(handler, found: Found, state: str = ACTIVE) -> Found:
    """Give the session a new id (after a privilege change such as completing 2FA)."""
    raw = new_secret(32)
    found.session.token_hash = digest(raw)
    found.session.state = state
    found.session.last_seen_at = now_of(handler)
    found.session.save()
    rotated = Found(found.session, raw)
    set_cookies(handler, rotated)
    return rotated


def revoke(session: Session, now: dt.datetime) -> None:
    Session.update(revoked_at=now).where(Session.id == session.id,
                                         Session.revoked_at.is_null()).execute()


def revoke_all(user: User, now: dt.datetime, keep: Session | None = None) -> int:
    """Revoke every open session of `user` (but `keep`); return how many."""
    query = Session.update(revoked_at=now).where(Session.user == user, Session.revoked_at.is_null())
    if keep is not None:
        query = query.where(Session.id != keep.id)
    return query.execute()


def set_cookies(handler, found: Found) -> None:
    secure = is_secure_request(handler)
    handler.set_cookie(SESSION_COOKIE, found.raw, path="/", httponly=True, secure=secure,
                       samesite="Lax")
    handler.set_cookie(XSRF_COOKIE, found.xsrf_token, path="/", httponly=False, secure=secure,
                       samesite="Lax")


def clear_cookies(handler) -> None:
    handler.clear_cookie(SESSION_COOKIE, path="/")
    handler.clear_cookie(XSRF_COOKIE, path="/")


# ------------------------------------------------------------------ lookup
def _expired(session: Session, now: dt.datetime, settings) -> bool:
    idle, _absolute = _limits(settings)
    return now >= session.expires_at or now - session.last_seen_at >= idle


def from_request(handler) -> Found | None:
    """The valid session named by the request's cookie (any state), or None. Cached per request."""
    if hasattr(handler, "_huike_session"):
        return handler._huike_session
    handler._huike_session = found = _lookup(handler)
    return found


SESSION_BY_DIGEST = Prepared(("auth.session",), lambda hashed: (
    Session.select(Session, User).join(User)
    .where(Session.token_hash == hashed, Session.revoked_at.is_null()).limit(1)))


def _lookup(handler) -> Found | None:
    raw = handler.get_cookie(SESSION_COOKIE)
    if not raw or len(raw) > 128:
        return None
    session = SESSION_BY_DIGEST.first(digest(raw))
    if session is None:
        return None
    now = now_of(handler)
    user = session.user
    if not user.active:
        revoke(session, now)  # a disabled user's sessions end for good
        return None
    if (_expired(session, now, handler.app_settings)
            or session.created_at < user.password_changed_at):
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        Session.update(last_seen_at=now).where(Session.id == session.id).execute()
        session.last_seen_at = now
    return Found(session, raw)


def check_xsrf(handler, found: Found) -> None:
    """Refuse a cookie-authenticated unsafe request without the session's XSRF token."""
    if handler.request.method not in UNSAFE_METHODS:
        return
    sent = handler.request.headers.get(XSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode("utf-8"), found.xsrf_token.encode("utf-8")):
        raise APIError(403, "缺少或错误的 XSRF 令牌 / missing or wrong XSRF token", code="xsrf",
                       fields={XSRF_HEADER: "required"})


def authenticate(handler) -> User | None:
    """The session authenticator: the user of a valid, fully signed-in session, after the XSRF
    check for unsafe methods. Requests carrying a bearer token are left to the token
    authenticator (and are exempt from XSRF: a browser never adds that header by itself)."""
    if bearer_token(handler) is not None:
        return None
    found = from_request(handler)
    if found is None or found.session.state != ACTIVE:
        return None
    check_xsrf(handler, found)
    handler._huike_auth_via = "session"
    return found.session.user
