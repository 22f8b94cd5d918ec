"""Small shared pieces of authentication: the injectable clock, secret hashing, request facts.

The clock is the application setting `huike_clock` (a callable returning naive UTC) when the
app was built with one — tests pass a controllable clock to `LiveServer(..., huike_clock=...)`
to move time without sleeping — else `core.db.utcnow`."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Callable

from core.db import utcnow

SESSION_COOKIE = "huike_session"
XSRF_COOKIE = "huike_xsrf"
XSRF_HEADER = "X-XSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def clock_of(handler) -> Callable[[], dt.datetime]:
    return handler.application.settings.get("huike_clock") or utcnow


def now_of(handler) -> dt.datetime:
    return clock_of(handler)()


def new_secret(nbytes: int = 32) -> str:
    """A random URL-safe secret (`nbytes` of entropy, 256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret: what the database keeps instead of the secret.
    (A plain hash suffices: the secrets are 256-bit random, so there is nothing to guess.)"""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def client_ip(handler) -> str:
    return (handler.request.remote_ip or "")[:64]


def user_agent(handler) -> str:
    return handler.request.headers.get("User-Agent", "")[:255]


def is_secure_request(handler) -> bool:
    """Cookies get `Secure` when configured, or when the request came over TLS (the
    `X-Forwarded-Proto` header of a proxy is trusted only with `server.xheaders`)."""
    server = handler.app_settings["server"]
    if server["cookie_secure"] or handler.request.protocol == "https":
        return True
    forwarded = handler.request.headers.get("X-Forwarded-Proto", "").strip().lower()
    return bool(server["xheaders"]) and forwarded == "https"


def bearer_token(handler) -> str | None:
    """The token of an `Authorization: Bearer ...` header, or None."""
    header = handler.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
