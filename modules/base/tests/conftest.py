"""The shared fixtures (`install`, `server`, `http`, `database_url`) for the base module's
tests, plus helpers to sign users in."""
from __future__ import annotations

import pytest

from tests.conftest import _clean_env, database_url, http, install, server  # noqa: F401
from tests.support import ADMIN_LOGIN, ADMIN_PASSWORD, HttpClient, login

USER_PASSWORD = "Sales-rep-2026"


@pytest.fixture
def admin_http(http):
    """`http` signed in as the install's administrator (TOTP enrolled on the spot)."""
    login(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    return http


@pytest.fixture
def rep(install):
    """A plain signed-in-able user (no admin rights)."""
    from modules.base import services
    return services.create_user("li.na", "李娜", USER_PASSWORD)


@pytest.fixture
def rep_http(server, rep):
    client = HttpClient(server.base_url)
    login(client, rep.login, USER_PASSWORD)
    return client
