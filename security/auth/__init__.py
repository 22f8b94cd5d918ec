"""security.auth — who is calling: argon2id passwords with lockout, server-side cookie
sessions with XSRF protection, API tokens, and a TOTP second factor.

Endpoints under `/api/v1/auth/`: `login`, `logout`, `me`, `password`, `tokens`,
`tokens/<id>`, `totp/setup`, `totp/confirm`.

Second factor: a user who needs TOTP (an admin, or a role with `requires_2fa`) and has
enrolled must send `totp` with the login. One who has not enrolled yet gets a `pending_2fa`
session that can only read `me`, call `totp/setup` and `totp/confirm`, and log out; a valid
confirmation code turns it into a full session under a new id. Operators reset a lost
authenticator with `huike auth reset-totp LOGIN`.

Hooks (picked up by `security.plugin`): models, routes, CLI (`huike auth ...`), a nightly
prune job, and two authenticators — API token first (`Authorization: Bearer hk_...`), then
the session cookie (which also enforces the XSRF header on writes)."""
from __future__ import annotations


def register_models():
    from security.auth.models import MODELS
    return list(MODELS)


def register_routes(registry):
    from security.auth import handlers, token_handlers, totp_handlers
    prefix = r"/api/v1/auth"
    return [
        (rf"{prefix}/login", handlers.LoginHandler),
        (rf"{prefix}/logout", handlers.LogoutHandler),
        (rf"{prefix}/me", handlers.MeHandler),
        (rf"{prefix}/password", handlers.PasswordHandler),
        (rf"{prefix}/tokens", token_handlers.TokensHandler),
        (rf"{prefix}/tokens/(\d+)", token_handlers.TokenHandler),
        (rf"{prefix}/totp/setup", totp_handlers.TotpSetupHandler),
        (rf"{prefix}/totp/confirm", totp_handlers.TotpConfirmHandler),
    ]


def register_authenticators(registry):
    from security.auth import sessions, tokens
    return [tokens.authenticate, sessions.authenticate]


def register_cli(group):
    from security.auth.cli import auth
    group.add_command(auth)


def register_jobs(huey, registry):
    """A nightly prune of dead sessions and old login attempts."""
    from huey import crontab

    from core.db import connection, utcnow
    from security.auth.maintenance import prune

    @huey.periodic_task(crontab(minute="17", hour="3"), name="security.auth.prune")
    def prune_auth():
        with connection():
            return prune(utcnow(), registry.settings)

    return [prune_auth]
