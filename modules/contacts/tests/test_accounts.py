"""Accounts through the services with real roles: create, validation, duplicate warnings
without leaks, scopes per role, field rules on owner, tags, group cycles."""
from __future__ import annotations

import pytest

from core.web.base import APIError
from modules.base.models import Tag
from modules.contacts import accounts
from modules.contacts.duplicates import HIDDEN_MESSAGE
from modules.contacts.models import Account
from modules.contacts.paging import ListParams
from modules.contacts.tests.conftest import CODE_A, CODE_B


def make(org, login, name, **extra):
    account, _ = accounts.create_account(org.ctx(login), {"name": name, **extra})
    return account


def names(org, login, **args):
    params = ListParams.parse(lambda k: args.get(k), "name")
    return [a["name"] for a in accounts.list_accounts(org.ctx(login), params, args.get)["items"]]


def test_create_fills_owner_division_and_name_key(org):
    account = make(org, "rep1", "上海振华重工（集团）股份有限公司", credit_code=CODE_A,
                   lifecycle="sql", value_tier="A", industry="装备制造")
    row = Account.get_by_id(account["id"])
    assert row.owner_id == org.id("rep1")
    assert row.division_id == org.divisions["IA"].id
    assert row.created_by_id == org.id("rep1")
    assert row.name_key == "上海振华重工"
    assert account["owner_name"] == "李娜" and account["credit_code"] == CODE_A
    assert account["tags"] == []


def test_validation_lists_every_bad_field(org):
    with pytest.raises(APIError) as err:
        accounts.create_account(org.ctx("rep1"), {
            "name": " ", "credit_code": "91350100M000100Y44", "lifecycle": "won",
            "value_tier": "Z", "region": 999999})
    assert err.value.status_code == 422
    assert set(err.value.fields) == {"name", "credit_code", "lifecycle", "value_tier", "region"}
    assert "校验位" in err.value.fields["credit_code"]


def test_system_maintained_and_ruled_fields_are_refused_together(org):
    with pytest.raises(APIError) as err:  # owner is read-only for reps; name_key is the system's
        accounts.create_account(org.ctx("rep1"), {"name": "甲公司", "owner": org.id("rep2"),
                                                  "name_key": "x", "division": 1})
    assert err.value.status_code == 403
    assert err.value.fields == {"owner": "read-only", "name_key": "read-only",
                                "division": "read-only"}
    assert Account.select().count() == 0
    with pytest.raises(APIError) as err:
        accounts.create_account(org.ctx("rep1"), {"name": "甲公司", "colour": "red"})
    assert err.value.status_code == 400


def test_duplicate_warnings_name_only_visible_accounts(org):
    own = make(org, "rep1", "深圳市汇川技术股份有限公司", credit_code=CODE_B)
    make(org, "rep2", "上海振华重工（集团）股份有限公司", credit_code=CODE_A)
    # rep1: a visible duplicate by name, with id and name
    _, warnings = accounts.create_account(org.ctx("rep1"), {"name": "深圳市汇川技术有限公司"})
    assert warnings == [{"kind": "name", "account_id": own["id"], "pool": False,
                         "name": "深圳市汇川技术股份有限公司"}]
    # rep1 again, duplicating rep2's account by name and credit code: nothing identifying
    created, warnings = accounts.create_account(
        org.ctx("rep1"), {"name": "上海振华重工(集团)股份有限公司", "credit_code": CODE_A})
    assert created["id"]
    assert warnings == [{"kind": "credit_code", "message": HIDDEN_MESSAGE},
                        {"kind": "name", "message": HIDDEN_MESSAGE}]
    assert "振华" not in str(warnings)
    # the manager sees both of his reps' accounts: named warnings
    found = accounts.check_duplicates(org.ctx("mgr"), {"credit_code": CODE_A})
    assert sorted(w["account_id"] for w in found) == sorted(
        a.id for a in Account.select().where(Account.credit_code == CODE_A))
    assert all(w["kind"] == "credit_code" and "name" in w for w in found)


def test_duplicates_in_the_pool_are_named_for_pool_holders(org):
    pooled = make(org, "mgr", "宁德时代新能源科技股份有限公司", owner=None)
    assert Account.get_by_id(pooled["id"]).owner_id is None
    found = accounts.check_duplicates(org.ctx("rep1"), {"name": "宁德时代新能源科技有限公司"})
    assert found == [{"kind": "name", "account_id": pooled["id"], "pool": True,
                      "name": "宁德时代新能源科技股份有限公司"}]
    found = accounts.check_duplicates(org.ctx("md_rep"), {"name": "宁德时代新能源科技有限公司"})
    assert found == [{"kind": "name", "message": HIDDEN_MESSAGE}]  # another division's pool


def test_scopes_per_role(org):
    make(org, "rep1", "甲一")
    make(org, "rep2", "乙二")
    make(org, "other_mgr", "丙三")
    make(org, "md_rep", "丁四")
    assert names(org, "rep1") == ["甲一"]
    assert sorted(names(org, "mgr")) == ["乙二", "甲一"]  # his team, not other_mgr's
    assert sorted(names(org, "fin")) == ["丙三", "乙二", "甲一"]  # division, read-only
    assert names(org, "md_rep") == ["丁四"]
    assert sorted(names(org, "admin")) == ["丁四", "丙三", "乙二", "甲一"]  # every division
    other = Account.get(Account.name == "乙二").id
    with pytest.raises(APIError) as err:
        accounts.get_account(org.ctx("rep1"), other)
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        accounts.update_account(org.ctx("rep1"), other, {"name": "改名"})
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:  # finance reads it but may not write
        accounts.update_account(org.ctx("fin"), other, {"name": "改名"})
    assert err.value.status_code == 403


def test_manager_reassigns_within_team_only(org):
    account = make(org, "rep1", "甲一")
    moved = accounts.update_account(org.ctx("mgr"), account["id"], {"owner": org.id("rep2")})
    assert moved["owner"] == org.id("rep2") and moved["owner_name"] == "刘洋"
    with pytest.raises(APIError) as err:  # other_mgr is not in mgr's team: rolled back
        accounts.update_account(org.ctx("mgr"), account["id"], {"owner": org.id("other_mgr")})
    assert err.value.status_code == 403 and err.value.code == "out_of_scope"
    assert Account.get_by_id(account["id"]).owner_id == org.id("rep2")
    with pytest.raises(APIError) as err:  # a rep may not reassign
        accounts.update_account(org.ctx("rep2"), account["id"], {"owner": org.id("rep1")})
    assert err.value.status_code == 403 and err.value.fields == {"owner": "read-only"}


def test_rename_recomputes_key_and_group_cycles_are_refused(org):
    group = make(org, "rep1", "振华集团")
    child = make(org, "rep1", "振华重工", parent=group["id"])
    renamed = accounts.update_account(org.ctx("rep1"), child["id"], {"name": "振华港机有限公司"})
    assert Account.get_by_id(child["id"]).name_key == "振华港机" and renamed["parent"] == group["id"]
    with pytest.raises(APIError) as err:
        accounts.update_account(org.ctx("rep1"), group["id"], {"parent": child["id"]})
    assert err.value.status_code == 422 and "parent" in err.value.fields
    hidden = make(org, "rep2", "乙二")
    with pytest.raises(APIError) as err:  # a parent the caller cannot see does not exist
        accounts.update_account(org.ctx("rep1"), child["id"], {"parent": hidden["id"]})
    assert err.value.status_code == 422


def test_tags_set_listed_and_filtered(org):
    key = Tag.create(name="重点客户", model="")
    other = Tag.create(name="仅商机", model="opportunities_opportunity")
    account = make(org, "rep1", "甲一", tag_ids=[key.id])
    make(org, "rep1", "乙二")
    assert [t["name"] for t in account["tags"]] == ["重点客户"]
    assert names(org, "rep1", tag=str(key.id)) == ["甲一"]
    with pytest.raises(APIError) as err:
        accounts.update_account(org.ctx("rep1"), account["id"], {"tag_ids": [other.id]})
    assert err.value.status_code == 422
    cleared = accounts.update_account(org.ctx("rep1"), account["id"], {"tag_ids": []})
    assert cleared["tags"] == []


def test_filters_sort_and_keyset_pages(org):
    for index in range(7):
        make(org, "rep1", f"客户{index}", lifecycle="customer" if index % 2 else "lead")
    params = ListParams.parse({"sort": "name", "limit": "3"}.get)
    ctx = org.ctx("rep1")
    seen, cursor = [], None
    while True:
        args = {"sort": "name", "limit": "3", **({"after": cursor} if cursor else {})}
        page = accounts.list_accounts(ctx, ListParams.parse(args.get), args.get)
        seen += [a["name"] for a in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(f"客户{i}" for i in range(7)) and params.limit == 3
    assert names(org, "rep1", lifecycle="customer") == ["客户1", "客户3", "客户5"]
    assert names(org, "rep1", q="客户4") == ["客户4"]
    page = accounts.list_accounts(ctx, ListParams.parse({"fields": "name"}.get), {}.get)
    assert set(page["items"][0]) == {"id", "name"}
