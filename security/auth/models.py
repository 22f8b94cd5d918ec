"""Authentication tables: server-side sessions, the login attempt log, API tokens and TOTP
enrolments. Secrets (session ids, API tokens) are never stored: only their SHA-256."""
from __future__ import annotations

import peewee as pw

from core.db import BaseModel, utcnow
from modules.base.models import User
from security.crypto import EncryptedTextField


class Session(BaseModel):
    """A browser session. The cookie carries a random 256-bit id; the row keeps its SHA-256.

    `state` is `active`, or `pending_2fa` for a user who must enrol a second factor first
    (such a session may only read `me`, enrol TOTP and log out)."""

    user = pw.ForeignKeyField(User, backref="auth_sessions", on_delete="CASCADE", index=True)
    token_hash = pw.CharField(max_length=64, unique=True)
    state = pw.CharField(max_length=16, default="active")
    created_at = pw.DateTimeField(default=utcnow)
    last_seen_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()  # the absolute expiry
    revoked_at = pw.DateTimeField(null=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=255, default="")

    class Meta:
        table_name = "security_session"


class LoginAttempt(BaseModel):
    """Every login try: the lockout counts the recent failures of one (normalised) login."""

    login = pw.CharField(max_length=64)
    user = pw.ForeignKeyField(User, null=True, backref="login_attempts", on_delete="SET NULL")
    ip = pw.CharField(max_length=64, default="")
    success = pw.BooleanField(default=False)
    reason = pw.CharField(max_length=32, default="")
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "security_login_attempt"
        indexes = ((("login", "created_at"), False),)


class ApiToken(BaseModel):
    """A bearer token for integrations: bound to a user, expiring, revocable, shown once."""

    user = pw.ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE", index=True)
    name = pw.CharField(max_length=100)
    token_hash = pw.CharField(max_length=64, unique=True)
    prefix = pw.CharField(max_length=16)
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    revoked_at = pw.DateTimeField(null=True)
    last_used_at = pw.DateTimeField(null=True)
    last_used_ip = pw.CharField(max_length=64, default="")

    class Meta:
        table_name = "security_api_token"


class TotpDevice(BaseModel):
    """A user's TOTP secret, stored AES-256-GCM encrypted (`security.crypto`). Unconfirmed
    until a first code proves the enrolment; `last_step` is the last accepted time step, so a
    code is never accepted twice."""

    user = pw.ForeignKeyField(User, backref="totp_devices", on_delete="CASCADE", unique=True)
    secret = EncryptedTextField()
    created_at = pw.DateTimeField(default=utcnow)
    confirmed_at = pw.DateTimeField(null=True)
    last_step = pw.BigIntegerField(default=0)

    class Meta:
        table_name = "security_totp"


MODELS = [Session, LoginAttempt, ApiToken, TotpDevice]
