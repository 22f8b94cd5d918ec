"""Sessions: idle and absolute expiry, revocation on password change and on disable, XSRF."""
from __future__ import annotations

from modules.base import services
from tests.support import HttpClient, login
from tests.test_auth_common import (  # noqa: F401  (fixtures)
    PASSWORD, chttp, clock, clocked_server, error_of, make_user,
)

NEW_PASSWORD = "Brand-new-2026!"


def test_idle_expiry(install, chttp, clock):
    make_user()
    login(chttp, "alice", PASSWORD)
    idle = install.settings["security"]["session_idle_minutes"]
    clock.advance(minutes=idle - 1)
    assert chttp.get("/api/v1/auth/me").status_code == 200  # activity keeps it alive
    clock.advance(minutes=idle - 1)
    assert chttp.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=idle, seconds=1)
    error_of(chttp.get("/api/v1/auth/me"), 401, "unauthenticated")


def test_absolute_expiry_despite_activity(install, chttp, clock):
    make_user()
    login(chttp, "alice", PASSWORD)
    security = install.settings["security"]
    step = security["session_idle_minutes"] // 2
    elapsed = 0
    while elapsed + step < security["session_absolute_hours"] * 60:
        clock.advance(minutes=step)
        elapsed += step
        assert chttp.get("/api/v1/auth/me").status_code == 200
    clock.advance(minutes=security["session_absolute_hours"] * 60 - elapsed)
    error_of(chttp.get("/api/v1/auth/me"), 401)


def test_password_change_revokes_other_sessions_and_renews_this_one(http):
    make_user()
    other = HttpClient(http.base_url)
    login(other, "alice", PASSWORD)
    login(http, "alice", PASSWORD)
    old_cookie = http.session.cookies.get("huike_session")
    response = http.post("/api/v1/auth/password",
                         json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["sessions_revoked"] == 2
    http.session.headers["X-XSRF-Token"] = response.json()["xsrf_token"]
    assert http.session.cookies.get("huike_session") != old_cookie
    assert http.get("/api/v1/auth/me").status_code == 200
    error_of(other.get("/api/v1/auth/me"), 401)
    error_of(HttpClient(http.base_url).post(
        "/api/v1/auth/login", json={"login": "alice", "password": PASSWORD}), 401, "login_failed")
    assert login(HttpClient(http.base_url), "alice", NEW_PASSWORD)["state"] == "active"


def test_password_set_elsewhere_ends_sessions(http):
    """A password set by a service (admin reset, CLI) ends sessions created before it."""
    user = make_user()
    login(http, "alice", PASSWORD)
    services.set_password(user, NEW_PASSWORD)
    error_of(http.get("/api/v1/auth/me"), 401)


def test_password_change_checks_old_password_and_policy(http):
    make_user()
    login(http, "alice", PASSWORD)
    wrong = error_of(http.post("/api/v1/auth/password", json={
        "old_password": "Not-my-password-1", "new_password": NEW_PASSWORD}), 422)
    assert set(wrong["fields"]) == {"old_password"}
    short = error_of(http.post("/api/v1/auth/password", json={
        "old_password": PASSWORD, "new_password": "Ab1!"}), 422, "password_policy")
    assert set(short["fields"]) == {"new_password"}
    one_class = error_of(http.post("/api/v1/auth/password", json={
        "old_password": PASSWORD, "new_password": "abcdefghijklmnop"}), 422, "password_policy")
    assert "new_password" in one_class["fields"]
    with_login = error_of(http.post("/api/v1/auth/password", json={
        "old_password": PASSWORD, "new_password": "My-alice-2026-x"}), 422, "password_policy")
    assert "new_password" in with_login["fields"]
    same = error_of(http.post("/api/v1/auth/password", json={
        "old_password": PASSWORD, "new_password": PASSWORD}), 422)
    assert "new_password" in same["fields"]
    missing = error_of(http.post("/api/v1/auth/password", json={}), 422)
    assert set(missing["fields"]) == {"old_password", "new_password"}
    assert http.get("/api/v1/auth/me").status_code == 200  # nothing changed, still signed in


def test_password_policy_is_configurable(tmp_path, database_url):
    from tests.support import LiveServer, make_install

    extra = {"security": {"password_min_length": 16, "password_min_classes": 3}}
    with make_install(tmp_path / "data", database_url, extra_config=extra) as inst:
        make_user()
        with LiveServer(inst.registry) as live:
            client = HttpClient(live.base_url)
            login(client, "alice", PASSWORD)
            for weak in ("Short-pass-1", "lowercase-only-and-long", "NoDigitsOrSymbolsHere"):
                error_of(client.post("/api/v1/auth/password", json={
                    "old_password": PASSWORD, "new_password": weak}), 422, "password_policy")
            assert client.post("/api/v1/auth/password", json={
                "old_password": PASSWORD,
                "new_password": "Long-enough-pass-2026"}).status_code == 200


def test_disable_stops_sessions_at_once_and_for_good(http):
    user = make_user()
    login(http, "alice", PASSWORD)
    assert http.get("/api/v1/auth/me").status_code == 200
    services.set_active(user, False)
    error_of(http.get("/api/v1/auth/me"), 401)
    services.set_active(user, True)
    error_of(http.get("/api/v1/auth/me"), 401)  # the session seen while disabled stays revoked


def test_cookie_write_needs_the_xsrf_header(http):
    make_user()
    data = login(http, "alice", PASSWORD)
    del http.session.headers["X-XSRF-Token"]
    missing = error_of(http.post("/api/v1/auth/tokens", json={"name": "ci"}), 403, "xsrf")
    assert missing["fields"]
    error_of(http.post("/api/v1/auth/tokens", json={"name": "ci"},
                       headers={"X-XSRF-Token": "0" * 64}), 403, "xsrf")
    error_of(http.post("/api/v1/auth/logout"), 403, "xsrf")
    assert http.get("/api/v1/auth/tokens").status_code == 200  # safe methods need none
    ok = http.post("/api/v1/auth/tokens", json={"name": "ci"},
                   headers={"X-XSRF-Token": data["xsrf_token"]})
    assert ok.status_code == 201, ok.text


def test_xsrf_token_is_per_session(http):
    make_user()
    first = login(http, "alice", PASSWORD)
    other = HttpClient(http.base_url)
    second = login(other, "alice", PASSWORD)
    assert first["xsrf_token"] != second["xsrf_token"]
    error_of(http.post("/api/v1/auth/tokens", json={"name": "x"},
                       headers={"X-XSRF-Token": second["xsrf_token"]}), 403, "xsrf")


def test_bearer_requests_need_no_xsrf(http):
    make_user()
    login(http, "alice", PASSWORD)
    secret = http.post("/api/v1/auth/tokens", json={"name": "ci"}).json()["token"]
    bare = HttpClient(http.base_url)
    response = bare.delete("/api/v1/auth/tokens/1", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
