"""Shared pieces of the authentication tests (a controllable clock, users, a clocked server),
plus the basic login/logout round trip."""
from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from core.db import utcnow
from tests.support import ADMIN_PASSWORD, HttpClient, LiveServer, login

PASSWORD = "Sales-rep-2026"


class FakeClock:
    """Naive-UTC clock the server reads (`huike_clock`); tests move it instead of sleeping.

    It starts an hour ahead of real time: users created during the test get a real-time
    `password_changed_at`, and sessions made before that instant would (rightly) be void."""

    def __init__(self):
        self.now = utcnow() + dt.timedelta(hours=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)

    def totp(self, secret: str, steps: int = 0) -> str:
        """The code an authenticator app would show at this clock's time (+ `steps` × 30 s)."""
        return pyotp.TOTP(secret).at(self.now.replace(tzinfo=dt.timezone.utc),
                                     counter_offset=steps)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def clocked_server(install, clock):
    with LiveServer(install.registry, huike_clock=clock) as live:
        yield live


@pytest.fixture
def chttp(clocked_server):
    """A client of the server that runs on `clock`."""
    return HttpClient(clocked_server.base_url)


def make_user(login_name: str = "alice", password: str = PASSWORD, **kwargs):
    from modules.base import services
    return services.create_user(login_name, login_name.title(), password, **kwargs)


def error_of(response, status: int, code: str | None = None) -> dict:
    """The error object (without its per-request id) after checking status and code."""
    assert response.status_code == status, response.text
    error = dict(response.json()["error"])
    error.pop("request_id", None)
    if code is not None:
        assert error["code"] == code, error
    return error


def test_login_me_logout_round_trip(http):
    make_user()
    data = login(http, "alice", PASSWORD)
    assert data["state"] == "active" and data["user"]["login"] == "alice"
    me = http.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["login"] == "alice" and me.json()["via"] == "session"
    assert me.json()["xsrf_token"] == data["xsrf_token"]
    assert http.post("/api/v1/auth/logout").status_code == 200
    error_of(http.get("/api/v1/auth/me"), 401, "unauthenticated")


def test_logout_revokes_the_session_server_side(http):
    """A copy of the cookie kept by an attacker is worthless after logout."""
    make_user()
    login(http, "alice", PASSWORD)
    stolen = http.session.cookies.get("huike_session")
    assert http.post("/api/v1/auth/logout").status_code == 200
    replay = HttpClient(http.base_url)
    replay.session.cookies.set("huike_session", stolen)
    error_of(replay.get("/api/v1/auth/me"), 401)


def test_session_cookie_flags(http):
    make_user()
    response = http.post("/api/v1/auth/login", json={"login": "alice", "password": PASSWORD})
    session_cookie = next(c for c in response.raw.headers.getlist("Set-Cookie")
                          if c.startswith("huike_session="))
    xsrf_cookie = next(c for c in response.raw.headers.getlist("Set-Cookie")
                       if c.startswith("huike_xsrf="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain http, cookie_secure off
    assert "HttpOnly" not in xsrf_cookie and "SameSite=Lax" in xsrf_cookie
    assert xsrf_cookie.split(";")[0] == f"huike_xsrf={response.json()['xsrf_token']}"


def test_session_id_is_stored_hashed(http):
    from security.auth.models import Session

    make_user()
    login(http, "alice", PASSWORD)
    raw = http.session.cookies.get("huike_session")
    assert len(raw) >= 43  # 256 bits, URL-safe base64
    rows = list(Session.select())
    assert rows and all(raw not in (row.token_hash, row.user_agent, row.ip) for row in rows)


def test_login_helper_handles_admin_2fa_enrolment(http):
    """`tests.support.login` enrols a 2FA-required admin and can log in again afterwards."""
    first = login(http, "admin", ADMIN_PASSWORD)
    assert first["state"] == "active" and first["totp_enrolled"]
    other = HttpClient(http.base_url)
    second = login(other, "admin", ADMIN_PASSWORD)
    assert second["state"] == "active"
    assert other.get("/api/v1/auth/me").json()["user"]["is_admin"] is True
