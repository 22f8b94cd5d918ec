"""Authentication events reach the audit chain, and the chain stays verifiable."""
from __future__ import annotations

from security import audit
from security.audit.models import AuditEntry
from tests.support import login
from tests.test_auth_common import PASSWORD, make_user


def test_login_failed_login_logout_and_token_events_are_audited(http):
    user = make_user()
    http.post("/api/v1/auth/login", json={"login": "alice", "password": "Wrong-password-1"})
    login(http, "alice", PASSWORD)
    token = http.post("/api/v1/auth/tokens", json={"name": "erp"}).json()
    http.delete(f"/api/v1/auth/tokens/{token['id']}")
    http.post("/api/v1/auth/logout")
    entries = list(AuditEntry.select().where(AuditEntry.action.in_((
        "login", "login_failed", "logout", "auth.token_create", "auth.token_revoke")))
        .order_by(AuditEntry.seq))
    assert [e.action for e in entries] == ["login_failed", "login", "auth.token_create",
                                           "auth.token_revoke", "logout"]
    failed, signed_in = entries[0], entries[1]
    assert failed.actor_id is None and failed.details["login"] == "alice"
    assert signed_in.actor_id == user.id and signed_in.ip == "127.0.0.1"
    assert token["token"] not in str([e.details for e in entries])  # the secret never logged
    assert audit.verify().ok


def test_password_change_is_audited(http):
    make_user()
    login(http, "alice", PASSWORD)
    http.post("/api/v1/auth/password", json={"old_password": PASSWORD,
                                             "new_password": "Brand-new-2026!"})
    entry = AuditEntry.get(AuditEntry.action == "auth.password_change")
    assert entry.details["sessions_revoked"] == 1
    assert PASSWORD not in str(entry.details) and "Brand-new" not in str(entry.details)
