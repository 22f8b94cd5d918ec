"""security.auth — who is calling: argon2id passwords with lockout, server-side cookie
sessions with XSRF protection, API tokens, and a TOTP second factor.

Hooks (picked up by `security.plugin`): models, the `/api/v1/auth/` routes and two
authenticators — API token first (`Authorization: Bearer hk_...`), then the session cookie."""
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
