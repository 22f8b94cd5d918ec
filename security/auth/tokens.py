"""API tokens for integrations: `Authorization: Bearer hk_<random>`.

The token is shown once, at creation; the database keeps its SHA-256 and a short prefix for
display. A token is bound to its user, expires (`security.api_token_default_days`, at most
`security.api_token_max_days`), can be revoked, and stops working the moment its user is
disabled. Bearer requests need no XSRF token (browsers never attach the header on their own)."""
from __future__ import annotations

import datetime as dt

from modules.base.models import User
from security.auth.common import bearer_token, client_ip, digest, new_secret, now_of
from security.auth.models import ApiToken
from security.fragments import Prepared

TOKEN_PREFIX = "hk_"
DISPLAY_CHARS = 10
TOUCH_EVERY = dt.timedelta(seconds=60)


class TokenError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def create(user: User, name: str, days: int | None, now: dt.datetime,
           settings) -> tuple[ApiToken, str]:
    """Create a token for `user`; return the row and the secret (never retrievable again)."""
    security = settings["security"]
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError("名称必填，最多 100 字 / name is required (at most 100 characters)", "name")
    days = security["api_token_default_days"] if days is None else days
    if (isinstance(days, bool) or not isinstance(days, int)
            or not 1 <= days <= security["api_token_max_days"]):
        raise TokenError(f"有效期须为 1 到 {security['api_token_max_days']} 天 / "
                         f"expires_in_days must be 1..{security['api_token_max_days']}",
                         "expires_in_days")
    secret = TOKEN_PREFIX + new_secret(32)
    token = ApiToken.create(user=user, name=name, token_hash=digest(secret),
                            prefix=secret[:DISPLAY_CHARS], created_at=now,
                            expires_at=now + dt.timedelta(days=days))
    return token, secret


def revoke(token: ApiToken, now: dt.datetime) -> None:
    ApiToken.update(revoked_at=now).where(ApiToken.id == token.id,
                                          ApiToken.revoked_at.is_null()).execute()
    token.revoked_at = token.revoked_at or now


def status(token: ApiToken, now: dt.datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if now >= token.expires_at else "active"


def serialise(token: ApiToken, now: dt.datetime) -> dict:
    """A token as listed: everything but the secret."""
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "user_id": token.user_id,
            "created_at": token.created_at, "expires_at": token.expires_at,
            "revoked_at": token.revoked_at, "last_used_at": token.last_used_at,
            "status": status(token, now)}


TOKEN_BY_DIGEST = Prepared(("auth.token",), lambda hashed: (
    ApiToken.select(ApiToken, User).join(User)
    .where(ApiToken.token_hash == hashed, ApiToken.revoked_at.is_null()).limit(1)))


def authenticate(handler) -> User | None:
    """The token authenticator: the user of a valid bearer token, else None."""
    secret = bearer_token(handler)
    if secret is None or not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    token = TOKEN_BY_DIGEST.first(digest(secret))
    now = now_of(handler)
    if token is None or now >= token.expires_at or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.update(last_used_at=now, last_used_ip=client_ip(handler)).where(
            ApiToken.id == token.id).execute()
    handler._huike_auth_via = "token"
    handler._huike_token = token
    return token.user
