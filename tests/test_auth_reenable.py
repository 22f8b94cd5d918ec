"""Disabling a user ends their sessions for good: re-enabling does not revive them."""
from __future__ import annotations

from modules.base import services
from tests.support import login
from tests.test_auth_common import PASSWORD, make_user


def test_reenabled_user_needs_a_new_login(install, http):
    user = make_user("zhao.lei")
    login(http, "zhao.lei", PASSWORD)
    assert http.get("/api/v1/auth/me").status_code == 200
    services.set_active(user, False)
    services.set_active(user, True)
    assert http.get("/api/v1/auth/me").status_code == 401
    login(http, "zhao.lei", PASSWORD)
    assert http.get("/api/v1/auth/me").status_code == 200
