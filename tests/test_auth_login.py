"""Login answers: identical refusals, lockout with release after the window, argon2id hashes,
missing fields, Secure cookies behind TLS."""
from __future__ import annotations

from security.auth.models import LoginAttempt
from tests.support import HttpClient, LiveServer, login, make_install
from tests.test_auth_common import (  # noqa: F401  (fixtures)
    PASSWORD, chttp, clock, clocked_server, error_of, make_user,
)


def _login(client, login_name, password, **extra):
    return client.post("/api/v1/auth/login", json={"login": login_name, "password": password,
                                                   **extra})


def test_unknown_user_and_wrong_password_get_the_same_answer(http):
    make_user()
    wrong = error_of(_login(http, "alice", "Not-the-password-1"), 401, "login_failed")
    unknown = error_of(_login(http, "nobody", "Not-the-password-1"), 401, "login_failed")
    assert wrong == unknown
    assert "huike_session" not in http.session.cookies


def test_disabled_user_gets_the_same_answer(http):
    from modules.base import services

    user = make_user()
    services.set_active(user, False)
    disabled = error_of(_login(http, "alice", PASSWORD), 401, "login_failed")
    assert disabled == error_of(_login(http, "nobody", PASSWORD), 401)


def test_missing_fields_are_named(http):
    error = error_of(http.post("/api/v1/auth/login", json={"login": " "}), 422)
    assert set(error["fields"]) == {"login", "password"}


def test_passwords_are_argon2id_hashes(install):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_attempts_are_logged(http):
    make_user()
    _login(http, "alice", "Wrong-password-1")
    _login(http, "alice", PASSWORD)
    rows = list(LoginAttempt.select().order_by(LoginAttempt.id))
    assert [(r.login, r.success, r.reason) for r in rows] == [
        ("alice", False, "bad_credentials"), ("alice", True, "ok")]
    assert all(r.ip == "127.0.0.1" and r.created_at is not None for r in rows)


def test_lockout_after_repeated_failures_and_release_after_window(install, chttp, clock):
    make_user()
    attempts = install.settings["security"]["lockout_attempts"]
    window = install.settings["security"]["lockout_window_minutes"]
    reference = error_of(_login(chttp, "ghost", "Wrong-password-1"), 401)
    for _ in range(attempts):
        assert error_of(_login(chttp, "alice", "Wrong-password-1"), 401) == reference
    # locked: even the right password is refused, with the very same answer
    assert error_of(_login(chttp, "alice", PASSWORD), 401) == reference
    clock.advance(minutes=window - 1)
    assert error_of(_login(chttp, "alice", PASSWORD), 401) == reference
    clock.advance(minutes=1, seconds=1)
    assert _login(chttp, "alice", PASSWORD).status_code == 200
    reasons = [r.reason for r in LoginAttempt.select().where(LoginAttempt.login == "alice")
               .order_by(LoginAttempt.id)]
    assert reasons == ["bad_credentials"] * attempts + ["locked", "locked", "ok"]


def test_fewer_failures_than_the_limit_do_not_lock(install, chttp, clock):
    make_user()
    attempts = install.settings["security"]["lockout_attempts"]
    for _ in range(attempts - 1):
        _login(chttp, "alice", "Wrong-password-1")
    assert _login(chttp, "alice", PASSWORD).status_code == 200
    # a success starts the count afresh
    for _ in range(attempts - 1):
        _login(chttp, "alice", "Wrong-password-1")
    assert _login(chttp, "alice", PASSWORD).status_code == 200


def test_lockout_is_per_login_and_case_insensitive(install, chttp):
    make_user()
    make_user("bob")
    for _ in range(install.settings["security"]["lockout_attempts"]):
        _login(chttp, "ALICE", "Wrong-password-1")
    error_of(_login(chttp, "alice", PASSWORD), 401, "login_failed")
    assert _login(chttp, "bob", PASSWORD).status_code == 200


def test_lockout_is_configurable(tmp_path, database_url):
    extra = {"security": {"lockout_attempts": 2, "lockout_window_minutes": 1}}
    with make_install(tmp_path / "data", database_url, extra_config=extra) as inst:
        make_user()
        with LiveServer(inst.registry) as live:
            client = HttpClient(live.base_url)
            _login(client, "alice", "Wrong-password-1")
            assert _login(client, "alice", PASSWORD).status_code == 200
            _login(client, "alice", "Wrong-password-1")
            _login(client, "alice", "Wrong-password-1")
            error_of(_login(client, "alice", PASSWORD), 401, "login_failed")


def test_secure_cookies_behind_tls_proxy_only_with_xheaders(tmp_path, database_url):
    extra = {"server": {"xheaders": True}}
    with make_install(tmp_path / "data", database_url, extra_config=extra) as inst:
        make_user()
        with LiveServer(inst.registry) as live:
            client = HttpClient(live.base_url)
            response = client.post("/api/v1/auth/login",
                                   json={"login": "alice", "password": PASSWORD},
                                   headers={"X-Forwarded-Proto": "https"})
            cookies = response.raw.headers.getlist("Set-Cookie")
            assert cookies and all("Secure" in c for c in cookies)


def test_forwarded_proto_is_ignored_without_xheaders(http):
    make_user()
    response = http.post("/api/v1/auth/login", json={"login": "alice", "password": PASSWORD},
                         headers={"X-Forwarded-Proto": "https"})
    assert not any("Secure" in c for c in response.raw.headers.getlist("Set-Cookie"))


def test_cookie_secure_setting_forces_secure(tmp_path, database_url):
    with make_install(tmp_path / "data", database_url,
                      extra_config={"server": {"cookie_secure": True}}) as inst:
        make_user()
        with LiveServer(inst.registry) as live:
            response = _login(HttpClient(live.base_url), "alice", PASSWORD)
            cookies = response.raw.headers.getlist("Set-Cookie")
            assert cookies and all("Secure" in c for c in cookies)


def test_login_helper_sets_the_xsrf_header(http):
    make_user()
    data = login(http, "alice", PASSWORD)
    assert http.session.headers["X-XSRF-Token"] == data["xsrf_token"]


def test_login_accepts_json_only(http):
    """A cross-site form (text/plain or urlencoded) cannot log anyone in (login CSRF)."""
    make_user()
    body = '{"login": "alice", "password": "%s"}' % PASSWORD
    error_of(http.post("/api/v1/auth/login", data=body, headers={"Content-Type": "text/plain"}),
             415, "unsupported_media_type")
    assert "huike_session" not in http.session.cookies
