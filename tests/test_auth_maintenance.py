"""Housekeeping and operator recovery: prune, `huike auth reset-totp|revoke|prune`, the job."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database, utcnow
from security.auth import maintenance
from security.auth.models import ApiToken, LoginAttempt, Session, TotpDevice
from tests.support import ADMIN_PASSWORD, HttpClient, login
from tests.test_auth_common import PASSWORD, error_of, make_user


@pytest.fixture
def run(install):
    """Invoke a CLI command on `install` (the test's connection is closed around it)."""
    cli = build_cli()

    def invoke(*args):
        database.close()
        try:
            return CliRunner().invoke(cli, [*args, "--data-dir", str(install.data_dir)],
                                      catch_exceptions=False)
        finally:
            database.connect(reuse_if_open=True)
    return invoke


def test_prune_removes_only_dead_rows(install):
    user = make_user()
    now = utcnow()
    old = now - dt.timedelta(days=100)
    live = Session.create(user=user, token_hash="a" * 64, created_at=now, last_seen_at=now,
                          expires_at=now + dt.timedelta(hours=1))
    Session.create(user=user, token_hash="b" * 64, created_at=old, last_seen_at=old,
                   expires_at=old + dt.timedelta(hours=12))
    Session.create(user=user, token_hash="c" * 64, created_at=now, last_seen_at=now,
                   expires_at=now + dt.timedelta(hours=1), revoked_at=old)
    LoginAttempt.create(login="alice", created_at=old)
    recent = LoginAttempt.create(login="alice", created_at=now)
    TotpDevice.create(user=user, secret="JBSWY3DPEHPK3PXP", created_at=now - dt.timedelta(days=2))
    counts = maintenance.prune(now, install.settings)
    assert counts == {"sessions": 2, "login_attempts": 1, "totp_unconfirmed": 1}
    assert [s.id for s in Session.select()] == [live.id]
    assert [a.id for a in LoginAttempt.select()] == [recent.id]


def test_reset_totp_lets_the_admin_enrol_again(install, server, run):
    client = HttpClient(server.base_url)
    login(client, "admin", ADMIN_PASSWORD)
    assert TotpDevice.select().count() == 1
    result = run("auth", "reset-totp", "admin")
    assert result.exit_code == 0, result.output
    assert TotpDevice.select().count() == 0
    error_of(client.get("/api/v1/auth/me"), 401)
    fresh = HttpClient(server.base_url)
    response = fresh.post("/api/v1/auth/login", json={"login": "admin", "password": ADMIN_PASSWORD})
    assert response.json()["state"] == "pending_2fa"


def test_revoke_ends_sessions_and_tokens(install, server, run):
    make_user()
    client = HttpClient(server.base_url)
    login(client, "alice", PASSWORD)
    client.post("/api/v1/auth/tokens", json={"name": "erp"})
    result = run("auth", "revoke", "alice")
    assert result.exit_code == 0 and "1 session(s) and 1 token(s)" in result.output
    assert ApiToken.get().revoked_at is not None
    error_of(client.get("/api/v1/auth/me"), 401)
    assert run("auth", "revoke", "nobody").exit_code == 2


def test_prune_command_and_job(install, run):
    from core.jobs import build_huey

    assert run("auth", "prune").exit_code == 0
    huey = build_huey(install.registry)
    assert any(name.endswith("security.auth.prune") for name in huey.huike_tasks)
