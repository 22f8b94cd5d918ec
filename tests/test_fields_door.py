"""Field rules with real policies: hidden fields absent (not even selected), masked values
masked, money and dates serialised, writes to forbidden fields refused listing them all,
and the audited reveal — as a service and over HTTP."""
from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from core.web.base import APIError
from security import check_write, crud, permitted_columns, permitted_fields, reveal, serialise
from security.audit import AuditEntry
from security.context import Context
from tests.test_scope_org import (  # noqa: F401
    TEST_MODELS, T_Account, T_Activity, assign, count_queries, define_role, install, org,
    scope_lines,
)

ACCOUNT = "t_account"
RESTRICTED = [
    *scope_lines(ACCOUNT, "own", "own"),
    ("field/t_account/phone", "masked"),
    ("field/t_account/email", "masked"),
    ("field/t_account/id_number", "masked"),
    ("field/t_account/note", "hidden"),
    ("field/t_account/amount", "read"),
]


@pytest.fixture
def rep(org):
    define_role("t_restricted", RESTRICTED)
    assign(org, "rep1", "t_restricted")
    org.accounts["a_rep1"].signed_at = dt.datetime(2026, 3, 1, 9, 30)
    org.accounts["a_rep1"].note = "内部备注 secret"
    org.accounts["a_rep1"].save()
    return org


def admin_ctx(install):
    return Context(registry=install.registry, user=install.admin)


def test_permitted_fields_levels(rep):
    ctx = rep.ctx("rep1")
    read = permitted_fields(ctx, T_Account, "read")
    assert "note" not in read.readable and read.hidden == {"note"}
    assert read.masked == {"phone", "email", "id_number"}
    assert read.readable[0] == "id"
    write = permitted_fields(ctx, T_Account, "write")
    assert set(write.names) == {"owner", "division", "region", "name", "signed_at"}
    assert "id" not in write.names and "amount" not in write.names


def test_list_masks_and_omits(rep):
    rows = crud.list_rows(rep.ctx("rep1"), T_Account)
    assert len(rows) == 1
    row = rows[0]
    assert "note" not in row
    assert row["phone"] == "138****5678"
    assert row["email"] == "z***@example.com"
    assert row["id_number"] == "3101**********1234"
    assert row["amount"] == "1234.50"
    assert row["signed_at"] == "2026-03-01T09:30:00"
    assert row["owner"] == rep.users["rep1"].id and row["division"] == rep.ia.id


def test_get_and_export_use_the_same_rules(rep):
    ctx = rep.ctx("rep1")
    one = crud.get_dict(ctx, T_Account, rep.accounts["a_rep1"].id)
    assert "note" not in one and one["phone"] == "138****5678"
    define_role("t_exporter", [("model/t_account", "export")])
    assign(rep, "rep1", "t_exporter")
    exported = list(crud.export_rows(rep.ctx("rep1"), T_Account))
    assert exported == [one]
    [entry] = AuditEntry.select().where(AuditEntry.action == "export")
    assert entry.model == "t_account" and entry.actor_id == rep.users["rep1"].id
    assert "note" not in entry.details["fields"] and "phone" in entry.details["fields"]


def test_hidden_columns_never_leave_the_database(rep):
    ctx = rep.ctx("rep1")
    assert "note" not in {f.name for f in permitted_columns(ctx, T_Account)}
    with count_queries() as statements:
        crud.list_rows(ctx, T_Account)
    account_selects = [s for s in statements if 'FROM "t_account"' in s]
    assert account_selects and all('"note"' not in s for s in account_selects)


def test_admin_sees_clear_values(rep, install):
    rows = crud.list_rows(admin_ctx(install), T_Account, where=T_Account.name == "a_rep1")
    assert rows[0]["phone"] == "13812345678"
    assert rows[0]["note"] == "内部备注 secret"


def test_most_permissive_role_wins_per_field(rep):
    define_role("t_phone_reader", [("model/t_account", "read"),
                                   ("field/t_account/*", "masked"),
                                   ("field/t_account/phone", "read")])
    assign(rep, "rep1", "t_phone_reader")
    row = crud.list_rows(rep.ctx("rep1"), T_Account)[0]
    assert row["phone"] == "13812345678"  # read (role 2) beats masked (role 1)
    assert row["email"] == "z***@example.com"  # masked in both
    assert row["note"] == "内" + "*" * 9 + "t"  # masked (role 2, generic) beats hidden (role 1)
    assert row["name"] == "a_rep1"  # write (role 1) beats masked (role 2)


def test_serialise_instances_and_dicts_alike(rep):
    ctx = rep.ctx("rep1")
    query = T_Account.select(*permitted_columns(ctx, T_Account)).where(
        T_Account.id == rep.accounts["a_rep1"].id)
    assert serialise(ctx, T_Account, list(query)) == serialise(ctx, T_Account, list(query.dicts()))


def test_plan_is_built_once_per_request(rep):
    ctx = rep.ctx("rep1")
    crud.list_rows(ctx, T_Account)
    with count_queries() as statements:
        for _ in range(3):
            crud.list_rows(ctx, T_Account)
    assert len(statements) == 3  # one SELECT each, no policy or org lookups


def test_write_to_forbidden_fields_lists_them_all(rep):
    ctx = rep.ctx("rep1")
    data = {"name": "ok", "phone": "1", "email": "x@y.z", "note": "n", "amount": "9", "id": 7}
    with pytest.raises(APIError) as err:
        check_write(ctx, T_Account, data)
    assert err.value.status_code == 403 and err.value.code == "forbidden_fields"
    assert err.value.fields == {"phone": "masked", "email": "masked", "note": "hidden",
                                "amount": "read-only", "id": "read-only"}
    with pytest.raises(APIError) as err:  # the scoped update refuses the same way, nothing kept
        crud.update_scoped(ctx, T_Account, rep.accounts["a_rep1"].id, data)
    assert err.value.fields["note"] == "hidden"
    assert T_Account.get_by_id(rep.accounts["a_rep1"].id).name == "a_rep1"
    assert check_write(ctx, T_Account, {"name": "ok", "signed_at": utcnow()})


def test_system_fields_are_read_only_even_for_admins(rep, install):
    ctx = admin_ctx(install)
    with pytest.raises(APIError) as err:
        check_write(ctx, T_Activity, {"subject": "ok", "created_at": utcnow(),
                                      "updated_at": utcnow()})
    assert err.value.fields == {"created_at": "read-only", "updated_at": "read-only"}
    assert check_write(ctx, T_Activity, {"subject": "ok"})
    assert permitted_fields(ctx, T_Activity, "read").level("created_at") == "read"


def test_unknown_fields_are_400(rep):
    with pytest.raises(APIError) as err:
        check_write(rep.ctx("rep1"), T_Account, {"name": "x", "colour": "red", "size": 1})
    assert err.value.status_code == 400 and err.value.code == "unknown_fields"
    assert set(err.value.fields) == {"colour", "size"}


def test_allowed_update_writes_and_returns_masked(rep):
    ctx = rep.ctx("rep1")
    row = crud.update_scoped(ctx, T_Account, rep.accounts["a_rep1"].id, {"name": "new name"})
    assert row["name"] == "new name" and row["phone"] == "138****5678"


# ------------------------------------------------------------------ reveal
def reveals(install):
    return list(AuditEntry.select().where(AuditEntry.action == "reveal").order_by(AuditEntry.seq))


def test_reveal_needs_the_action_right(rep, install):
    ctx = rep.ctx("rep1")
    with pytest.raises(APIError) as err:
        reveal(ctx, T_Account, rep.accounts["a_rep1"].id, "phone")
    assert err.value.status_code == 403
    assert reveals(install) == []


def test_reveal_returns_the_clear_value_and_is_audited(rep, install):
    define_role("t_revealer", [("action/reveal", "execute")])
    assign(rep, "rep1", "t_revealer")
    ctx = rep.ctx("rep1")
    account = rep.accounts["a_rep1"].id
    assert reveal(ctx, T_Account, account, "id_number") == "310101199001011234"
    [entry] = reveals(install)
    assert (entry.actor_id, entry.model, entry.res_id) == (rep.users["rep1"].id, "t_account",
                                                           account)
    assert entry.details == {"field": "id_number", "level": "masked"}
    assert "310101199001011234" not in str(entry.details)
    assert entry.division_id == rep.ia.id


def test_reveal_refuses_hidden_fields_and_out_of_scope_records(rep, install):
    define_role("t_revealer", [("action/reveal", "execute")])
    assign(rep, "rep1", "t_revealer")
    ctx = rep.ctx("rep1")
    with pytest.raises(APIError) as err:
        reveal(ctx, T_Account, rep.accounts["a_rep1"].id, "note")
    assert err.value.status_code == 403 and err.value.fields == {"note": "hidden"}
    for key in ("a_rep2", "m_rep"):
        with pytest.raises(APIError) as err:
            reveal(ctx, T_Account, rep.accounts[key].id, "phone")
        assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        reveal(ctx, T_Account, rep.accounts["a_rep1"].id, "no_such_field")
    assert err.value.status_code == 400
    assert reveals(install) == []


def bearer(install, login):
    from modules.base.models import User
    from security.auth import tokens
    _, secret = tokens.create(User.get(User.login == login), "test", 1, utcnow(), install.settings)
    return {"Authorization": f"Bearer {secret}"}


def test_reveal_over_http(rep, install, http):
    install.registry.models_by_module["tests"] = TEST_MODELS  # as a module would register them
    define_role("t_revealer", [("action/reveal", "execute")])
    assign(rep, "rep1", "t_revealer")
    headers = bearer(install, "rep1")
    account = rep.accounts["a_rep1"].id
    answer = http.post("/api/v1/reveal", json={"model": "t_account", "id": account,
                                                "field": "phone"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"model": "t_account", "id": account, "field": "phone",
                             "value": "13812345678"}
    other = http.post("/api/v1/reveal", json={"model": "t_account", "id": rep.accounts["m_rep"].id,
                                               "field": "phone"}, headers=headers)
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert http.post("/api/v1/reveal", json={"model": "t_account", "id": account,
                                             "field": "phone"}).status_code == 401
    missing = http.post("/api/v1/reveal", json={"model": "t_account"}, headers=headers)
    assert missing.status_code == 400 and set(missing.json()["error"]["fields"]) == {"id", "field"}
    assert len(reveals(install)) == 1


def test_a_create_only_role_may_create_but_not_edit(org):
    define_role("t_creator", [("model/t_account", "read"), ("model/t_account", "create"),
                              ("scope/t_account", "read:own"), ("scope/t_account", "write:own"),
                              ("field/t_account/note", "read")])
    assign(org, "rep2", "t_creator")
    ctx = org.ctx("rep2")
    data = {"name": "新客户", "owner": org.users["rep2"].id, "division": org.ia.id}
    assert check_write(ctx, T_Account, data, op="create") is data
    with pytest.raises(APIError) as refused:
        check_write(ctx, T_Account, {**data, "note": "x"}, op="create")  # an explicit rule holds
    assert refused.value.fields == {"note": "read-only"}
    with pytest.raises(APIError) as edit:
        check_write(ctx, T_Account, {"name": "改名"})
    assert edit.value.fields == {"name": "read-only"}
