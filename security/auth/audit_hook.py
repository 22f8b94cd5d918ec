"""Security events of authentication — login, failed login, logout, password change, token and
TOTP changes — appended to the audit chain (`security.audit.record`) and written to the
`huike.auth` log as one JSON line each.

The audit context is built here rather than from `handler.ctx`: these calls happen around
sign-in, where the acting user is known explicitly (and `handler.ctx` would run the
authenticators again)."""
from __future__ import annotations

import json
import logging

from security import audit
from security.auth.common import client_ip, clock_of
from security.context import Context

log = logging.getLogger("huike.auth")


def _context(handler, user) -> Context:
    return Context(registry=handler.registry, user=user, ip=client_ip(handler),
                   request_id=getattr(handler, "request_id", ""), via="api",
                   clock=clock_of(handler))


def _emit(handler, user, action: str, *, level: int = logging.INFO, model: str = "base_user",
          res_id: int | None = None, **details) -> None:
    audit.record(_context(handler, user), action, model=model,
                 res_id=res_id if res_id is not None else getattr(user, "id", None),
                 details=details or None)
    log.log(level, json.dumps({"event": action, "ip": client_ip(handler),
                               "user_id": getattr(user, "id", None),
                               "request_id": getattr(handler, "request_id", None), **details},
                              ensure_ascii=False, default=str))


def login(handler, user, state: str) -> None:
    _emit(handler, user, audit.LOGIN, state=state)


def login_failed(handler, login: str, code: str) -> None:
    """No actor and no row: the answer must not depend on whether the login exists."""
    _emit(handler, None, audit.LOGIN_FAILED, level=logging.WARNING, login=(login or "")[:64],
          code=code)


def logout(handler, user) -> None:
    _emit(handler, user, audit.LOGOUT)


def password_changed(handler, user, sessions_revoked: int) -> None:
    _emit(handler, user, "auth.password_change", sessions_revoked=sessions_revoked)


def token_created(handler, user, token) -> None:
    _emit(handler, user, "auth.token_create", model="security_api_token", res_id=token.id,
          name=token.name, prefix=token.prefix, owner_id=token.user_id,
          expires_at=token.expires_at)


def token_revoked(handler, user, token) -> None:
    _emit(handler, user, "auth.token_revoke", model="security_api_token", res_id=token.id,
          prefix=token.prefix, owner_id=token.user_id)


def totp_enrolled(handler, user) -> None:
    _emit(handler, user, "auth.totp_enrol")
