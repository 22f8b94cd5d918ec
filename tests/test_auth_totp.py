"""TOTP second factor: required for admins and 2FA roles, enrolment from a pending session,
codes generated with pyotp on the server's clock, reuse refused."""
from __future__ import annotations

from modules.base.models import Role, UserRole
from tests.support import ADMIN_PASSWORD, HttpClient, LiveServer, login, make_install
from tests.test_auth_common import (  # noqa: F401  (fixtures)
    PASSWORD, chttp, clock, clocked_server, error_of, make_user,
)


def _login(client, login_name, password, **extra):
    response = client.post("/api/v1/auth/login", json={"login": login_name, "password": password,
                                                       **extra})
    if response.status_code == 200:
        client.session.headers["X-XSRF-Token"] = response.json()["xsrf_token"]
    return response


def _enrol(client, clock) -> str:
    """Set up and confirm TOTP in the client's current session; return the secret."""
    setup = client.post("/api/v1/auth/totp/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    confirm = client.post("/api/v1/auth/totp/confirm", json={"code": clock.totp(secret)})
    assert confirm.status_code == 200, confirm.text
    client.session.headers["X-XSRF-Token"] = confirm.json()["xsrf_token"]
    return secret


def test_admin_without_enrolment_gets_a_pending_session(chttp, clock):
    response = _login(chttp, "admin", ADMIN_PASSWORD)
    assert response.status_code == 200
    assert response.json()["state"] == "pending_2fa" and response.json()["requires_2fa"]
    # a pending session may read `me` and enrol, nothing else
    assert chttp.get("/api/v1/auth/me").json()["state"] == "pending_2fa"
    error_of(chttp.get("/api/v1/auth/tokens"), 401)
    error_of(chttp.post("/api/v1/auth/tokens", json={"name": "x"}), 401)
    pending_cookie = chttp.session.cookies.get("huike_session")
    setup = chttp.post("/api/v1/auth/totp/setup").json()
    error_of(chttp.post("/api/v1/auth/totp/confirm", json={"code": "000000"}), 422)
    confirm = chttp.post("/api/v1/auth/totp/confirm", json={"code": clock.totp(setup["secret"])})
    assert confirm.status_code == 200 and confirm.json()["state"] == "active"
    assert chttp.session.cookies.get("huike_session") != pending_cookie  # new id after 2FA
    chttp.session.headers["X-XSRF-Token"] = confirm.json()["xsrf_token"]
    assert chttp.get("/api/v1/auth/tokens").status_code == 200
    stale = HttpClient(chttp.base_url)
    stale.session.cookies.set("huike_session", pending_cookie)
    error_of(stale.get("/api/v1/auth/me"), 401)


def test_enrolled_admin_needs_a_valid_code(chttp, clock):
    _login(chttp, "admin", ADMIN_PASSWORD)
    secret = _enrol(chttp, clock)
    clock.advance(seconds=30)
    fresh = HttpClient(chttp.base_url)
    error_of(_login(fresh, "admin", ADMIN_PASSWORD), 401, "totp_required")
    error_of(_login(fresh, "admin", ADMIN_PASSWORD, totp="123456"
                    if clock.totp(secret) != "123456" else "654321"), 401, "totp_invalid")
    error_of(_login(fresh, "admin", "Wrong-password-1", totp=clock.totp(secret)), 401,
             "login_failed")
    ok = _login(fresh, "admin", ADMIN_PASSWORD, totp=clock.totp(secret))
    assert ok.status_code == 200 and ok.json()["state"] == "active"


def test_a_code_is_accepted_only_once(chttp, clock):
    _login(chttp, "admin", ADMIN_PASSWORD)
    secret = _enrol(chttp, clock)
    clock.advance(seconds=30)
    code = clock.totp(secret)
    assert _login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD, totp=code).status_code == 200
    error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD, totp=code), 401,
             "totp_invalid")
    # an older step's code is refused after a newer one was used ...
    error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD,
                    totp=clock.totp(secret, steps=-1)), 401, "totp_invalid")
    # ... while the next step (clock drift) is accepted once
    assert _login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD,
                  totp=clock.totp(secret, steps=1)).status_code == 200
    clock.advance(seconds=90)
    error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD,
                    totp=clock.totp(secret, steps=-3)), 401, "totp_invalid")  # too old


def test_enrolment_code_cannot_be_reused_for_login(chttp, clock):
    _login(chttp, "admin", ADMIN_PASSWORD)
    setup = chttp.post("/api/v1/auth/totp/setup").json()
    code = clock.totp(setup["secret"])
    assert chttp.post("/api/v1/auth/totp/confirm", json={"code": code}).status_code == 200
    error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD, totp=code), 401,
             "totp_invalid")


def test_wrong_codes_count_towards_lockout(install, chttp, clock):
    _login(chttp, "admin", ADMIN_PASSWORD)
    secret = _enrol(chttp, clock)
    clock.advance(seconds=30)
    wrong = "111111" if clock.totp(secret) != "111111" else "222222"
    for _ in range(install.settings["security"]["lockout_attempts"]):
        error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD, totp=wrong), 401)
    error_of(_login(HttpClient(chttp.base_url), "admin", ADMIN_PASSWORD,
                    totp=clock.totp(secret)), 401, "login_failed")


def test_role_flagged_requires_2fa(chttp, clock):
    user = make_user()
    assert _login(chttp, "alice", PASSWORD).json()["state"] == "active"
    role = Role.get(Role.code == "sales_manager")
    role.requires_2fa = True
    role.save()
    UserRole.create(user=user, role=role)
    assert _login(HttpClient(chttp.base_url), "alice", PASSWORD).json()["state"] == "pending_2fa"


def test_users_without_requirement_are_not_asked_but_may_enrol(chttp, clock):
    make_user()
    response = _login(chttp, "alice", PASSWORD)
    assert response.json()["state"] == "active" and not response.json()["requires_2fa"]
    secret = _enrol(chttp, clock)
    assert chttp.get("/api/v1/auth/me").json()["totp_enrolled"] is True
    error_of(chttp.post("/api/v1/auth/totp/setup"), 409, "totp_enrolled")
    clock.advance(seconds=30)
    error_of(_login(HttpClient(chttp.base_url), "alice", PASSWORD), 401, "totp_required")
    assert _login(HttpClient(chttp.base_url), "alice", PASSWORD,
                  totp=clock.totp(secret)).status_code == 200


def test_confirm_needs_setup_first(chttp):
    make_user()
    _login(chttp, "alice", PASSWORD)
    error_of(chttp.post("/api/v1/auth/totp/confirm", json={"code": "123456"}), 409)


def test_admin_2fa_requirement_is_configurable(tmp_path, database_url):
    with make_install(tmp_path / "data", database_url,
                      extra_config={"security": {"admin_requires_2fa": False}}) as inst:
        with LiveServer(inst.registry) as live:
            data = login(HttpClient(live.base_url), "admin", ADMIN_PASSWORD)
            assert data["state"] == "active" and not data["totp_enrolled"]


def test_totp_secret_is_encrypted_at_rest(chttp, clock):
    from core.db import database

    _login(chttp, "admin", ADMIN_PASSWORD)
    secret = _enrol(chttp, clock)
    stored = database.execute_sql("SELECT secret FROM security_totp").fetchone()[0]
    assert secret not in stored and stored.startswith("v")
