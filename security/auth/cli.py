"""`huike auth reset-totp|revoke|prune`: operator recovery and housekeeping."""
from __future__ import annotations

import click

from core.cli.common import CliError, data_dir_option, open_registry


@click.group()
def auth():
    """登录与会话 / sign-in, sessions and tokens."""


def _user(login: str):
    from modules.base.models import User

    found = User.get_or_none(User.login == login)
    if found is None:
        raise CliError(f"没有用户 / no user {login!r}")
    return found


def _audit(registry, action: str, user, **details) -> None:
    from security import audit
    from security.context import system_context

    audit.record(system_context(registry), action, model="base_user", res_id=user.id,
                 details=details or None)


@auth.command("reset-totp")
@data_dir_option
@click.argument("login")
def reset_totp(data_dir, login):
    """重置动态验证码（手机丢失） / remove a user's TOTP enrolment and end their sessions."""
    from core.db import atomic, utcnow
    from security.auth.maintenance import reset_totp as reset

    with open_registry(data_dir) as registry:
        user = _user(login)
        with atomic():
            ended = reset(user, utcnow())
            _audit(registry, "auth.totp_reset", user, sessions_revoked=ended)
    click.echo(f"已重置 / TOTP reset for {login}; {ended} session(s) ended")


@auth.command("revoke")
@data_dir_option
@click.argument("login")
def revoke(data_dir, login):
    """结束用户的全部会话并吊销全部令牌 / end all sessions and revoke all API tokens."""
    from core.db import atomic, utcnow
    from security.auth.maintenance import revoke_everything

    with open_registry(data_dir) as registry:
        user = _user(login)
        with atomic():
            sessions, tokens = revoke_everything(user, utcnow())
            _audit(registry, "auth.revoke_all", user, sessions=sessions, tokens=tokens)
    click.echo(f"已吊销 / revoked {sessions} session(s) and {tokens} token(s) of {login}")


@auth.command("prune")
@data_dir_option
def prune(data_dir):
    """清理过期会话与旧登录记录 / delete dead sessions and old login attempts."""
    from core.db import utcnow
    from security.auth.maintenance import prune as run

    with open_registry(data_dir) as registry:
        counts = run(utcnow(), registry.settings)
    click.echo(" ".join(f"{name}={count}" for name, count in counts.items()))
