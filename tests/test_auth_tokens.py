"""API tokens: shown once, hashed at rest, bound to a user, expiring, revocable."""
from __future__ import annotations

import hashlib

from modules.base import services
from security.auth.models import ApiToken
from tests.support import ADMIN_PASSWORD, HttpClient, login
from tests.test_auth_common import (  # noqa: F401  (fixtures)
    PASSWORD, chttp, clock, clocked_server, error_of, make_user,
)


def _bearer(base_url: str, secret: str) -> HttpClient:
    client = HttpClient(base_url)
    client.session.headers["Authorization"] = f"Bearer {secret}"
    return client


def _create(client, name="erp-sync", **extra):
    response = client.post("/api/v1/auth/tokens", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_token_is_shown_once_and_hashed_at_rest(http):
    make_user()
    login(http, "alice", PASSWORD)
    created = _create(http)
    secret = created["token"]
    assert secret.startswith("hk_") and len(secret) > 40
    assert created["prefix"] == secret[:10] and created["status"] == "active"
    row = ApiToken.get_by_id(created["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.token_hash, row.prefix, row.name)
    listed = http.get("/api/v1/auth/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and secret not in http.get("/api/v1/auth/tokens").text


def test_token_authenticates_as_its_user(http):
    make_user()
    login(http, "alice", PASSWORD)
    client = _bearer(http.base_url, _create(http)["token"])
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["user"]["login"] == "alice" and me.json()["via"] == "token"
    assert ApiToken.get().last_used_at is not None
    error_of(_bearer(http.base_url, "hk_" + "x" * 43).get("/api/v1/auth/me"), 401)


def test_token_expiry(chttp, clock):
    make_user()
    login(chttp, "alice", PASSWORD)
    created = _create(chttp, expires_in_days=2)
    client = _bearer(chttp.base_url, created["token"])
    clock.advance(days=2, seconds=-1)
    assert client.get("/api/v1/auth/me").status_code == 200
    clock.advance(seconds=1)
    error_of(client.get("/api/v1/auth/me"), 401)
    login(chttp, "alice", PASSWORD)
    assert chttp.get("/api/v1/auth/tokens").json()["tokens"][0]["status"] == "expired"


def test_token_expiry_bounds_and_name_are_validated(install, http):
    make_user()
    login(http, "alice", PASSWORD)
    maximum = install.settings["security"]["api_token_max_days"]
    for bad in (0, maximum + 1, "30", True):
        error = error_of(http.post("/api/v1/auth/tokens",
                                   json={"name": "x", "expires_in_days": bad}),
                         422)
        assert set(error["fields"]) == {"expires_in_days"}
    error = error_of(http.post("/api/v1/auth/tokens", json={"name": "  "}), 422)
    assert set(error["fields"]) == {"name"}
    default = _create(http)
    assert default["expires_at"] > default["created_at"]


def test_revoked_token_stops_working(http):
    make_user()
    login(http, "alice", PASSWORD)
    created = _create(http)
    client = _bearer(http.base_url, created["token"])
    assert client.get("/api/v1/auth/me").status_code == 200
    revoked = http.delete(f"/api/v1/auth/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    error_of(client.get("/api/v1/auth/me"), 401)


def test_tokens_stop_working_when_user_is_disabled(http):
    user = make_user()
    login(http, "alice", PASSWORD)
    client = _bearer(http.base_url, _create(http)["token"])
    services.set_active(user, False)
    error_of(client.get("/api/v1/auth/me"), 401)


def test_tokens_cannot_mint_tokens(http):
    make_user()
    login(http, "alice", PASSWORD)
    client = _bearer(http.base_url, _create(http)["token"])
    error_of(client.post("/api/v1/auth/tokens", json={"name": "more"}), 403, "session_required")
    error_of(client.post("/api/v1/auth/password", json={
        "old_password": PASSWORD, "new_password": "Other-pass-2026"}), 403, "session_required")


def test_users_manage_only_their_own_tokens_admins_any(http):
    make_user()
    make_user("bob")
    login(http, "alice", PASSWORD)
    alice_token = _create(http)
    bob = HttpClient(http.base_url)
    login(bob, "bob", PASSWORD)
    assert bob.get("/api/v1/auth/tokens").json()["tokens"] == []
    error_of(bob.delete(f"/api/v1/auth/tokens/{alice_token['id']}"), 404)
    error_of(bob.get("/api/v1/auth/tokens?all=1"), 403)
    admin = HttpClient(http.base_url)
    login(admin, "admin", ADMIN_PASSWORD)
    listed = admin.get("/api/v1/auth/tokens?all=1").json()["tokens"]
    assert [t["id"] for t in listed] == [alice_token["id"]]
    assert admin.get(f"/api/v1/auth/tokens?user_id={alice_token['user_id']}").json()["tokens"]
    assert admin.delete(f"/api/v1/auth/tokens/{alice_token['id']}").status_code == 200
    error_of(_bearer(http.base_url, alice_token["token"]).get("/api/v1/auth/me"), 401)


def test_bearer_header_wins_over_a_cookie(http):
    """A request with a bad bearer token does not fall back to the session cookie."""
    make_user()
    login(http, "alice", PASSWORD)
    error_of(http.get("/api/v1/auth/tokens", headers={"Authorization": "Bearer hk_bogus"}), 401)
