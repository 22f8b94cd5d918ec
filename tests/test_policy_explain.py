"""Effective access: for a user and a record (and a field), allowed or denied and the rule
that decided — computed through the user's own door (compiled table + row scope)."""
from __future__ import annotations

import pytest

from core.web.base import APIError
from security.context import Context
from security.policy.explain import effective_access
from tests.support import ADMIN_LOGIN, ADMIN_PASSWORD, login
from tests.test_policy_kit import build_org, note_module_install


@pytest.fixture
def notes(tmp_path, database_url):
    """An install with the throwaway Note module (owner/division scoped) and the org;
    yields (org, Note model, model name, notes by title)."""
    name, installing = note_module_install(tmp_path, database_url)
    with installing as install:
        org = build_org(install)
        org.user("mgr_ia", "IA", [("sales_manager", "IA")])
        note = install.registry.model(f"{name}_note")
        rows = {title: note.create(title=title, owner=org.users[owner],
                                   division=org.divisions[division], phone="13812345678")
                for title, owner, division in (("n_rep", "rep_ia", "IA"),
                                               ("n_other", "multi", "IA"),
                                               ("n_md", "rep_md", "MD"))}
        yield org, note, f"{name}_note", rows, install


def explain(org, **kwargs):
    return effective_access(Context(registry=org.registry, user=org.admin), **kwargs)


def test_own_record_is_allowed_by_the_modules_seeded_rules(notes):
    org, note, model, rows, _ = notes
    answer = explain(org, user="rep_ia", model=model, record_id=rows["n_rep"].id)
    assert answer["allowed"] is True
    assert answer["division"] == "IA"
    assert [s["check"] for s in answer["steps"]] == ["model", "record"]
    assert answer["steps"][0]["rule"] == f"p, sales_rep, *, model/{model}, read"
    record = answer["decided_by"]
    assert record["check"] == "record" and record["scope"] == "own"
    assert record["rule"] == f"p, sales_rep, *, scope/{model}, read:own"


def test_someone_elses_record_is_denied_by_the_own_scope(notes):
    org, note, model, rows, _ = notes
    answer = explain(org, user="rep_ia", model=model, record_id=rows["n_other"].id)
    assert answer["allowed"] is False
    assert answer["decided_by"]["check"] == "record"
    assert answer["decided_by"]["rule"] == f"p, sales_rep, *, scope/{model}, read:own"
    assert "outside the own read scope" in answer["decided_by"]["reason"]
    # the manager's division scope covers it, but not the other division's record
    assert explain(org, user="mgr_ia", model=model, record_id=rows["n_other"].id)["allowed"]
    denied = explain(org, user="mgr_ia", model=model, record_id=rows["n_md"].id)
    assert not denied["allowed"]
    assert denied["decided_by"]["rule"] == f"p, sales_manager, *, scope/{model}, read:division"


def test_model_and_field_decisions_name_their_rules(notes):
    org, note, model, rows, _ = notes
    masked = explain(org, user="rep_ia", model=model, record_id=rows["n_rep"].id, field="phone")
    assert masked["allowed"] is True  # visible, masked
    assert masked["decided_by"]["level"] == "masked"
    assert masked["decided_by"]["rule"] == f"p, sales_rep, *, field/{model}/phone, masked"
    writing = explain(org, user="rep_ia", model=model, record_id=rows["n_rep"].id,
                      field="phone", act="write")
    assert writing["allowed"] is False and writing["decided_by"]["check"] == "field"
    title = explain(org, user="rep_ia", model=model, field="title", act="write")
    assert title["allowed"] and title["decided_by"]["rule"] == \
        f"p, sales_rep, *, model/{model}, write"
    deleting = explain(org, user="rep_ia", model=model, record_id=rows["n_rep"].id, act="delete")
    assert deleting["allowed"] is False and deleting["decided_by"]["check"] == "model"
    assert "no rule grants delete" in deleting["decided_by"]["reason"]
    nobody = explain(org, user="nobody", model=model)
    assert nobody["allowed"] is False and nobody["roles"] == []


def test_missing_record_and_foreign_division(notes):
    org, note, model, rows, _ = notes
    missing = explain(org, user="rep_ia", model=model, record_id=999_999)
    assert not missing["allowed"] and missing["decided_by"]["exists"] is False
    foreign = explain(org, user="rep_ia", model=model, division="MD")
    assert foreign["allowed"] is False and "no role in division" in foreign["reason"]


def test_explain_input_validation(notes):
    org, note, model, rows, _ = notes
    with pytest.raises(APIError) as caught:
        explain(org, user="ghost", model="nothing", act="fly", division="XX")
    assert caught.value.status_code == 422
    assert set(caught.value.fields) == {"user", "model", "act", "division"}
    with pytest.raises(APIError) as caught:
        explain(org, user="rep_ia", model=model, field="colour")
    assert set(caught.value.fields) == {"field"}


def test_effective_access_over_http(notes):
    from tests.support import HttpClient, LiveServer
    org, note, model, rows, install = notes
    with LiveServer(install.registry) as live:
        http = HttpClient(live.base_url)
        login(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        answer = http.get("/api/v1/security/effective-access",
                          params={"user": "rep_ia", "model": model, "id": rows["n_other"].id,
                                  "field": "phone"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["allowed"] is False and body["decided_by"]["check"] == "record"
        bad = http.get("/api/v1/security/effective-access",
                       params={"user": "rep_ia", "model": model, "id": "x"})
        assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"id"}
