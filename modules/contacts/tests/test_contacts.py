"""Contacts follow their account's scope; channels are encrypted, searchable by blind index,
masked for finance; field rules hold on reads, searches and writes."""
from __future__ import annotations

import pytest

from core.db import database
from core.web.base import APIError
from modules.contacts import accounts, people
from modules.contacts.models import Contact
from modules.contacts.paging import ListParams


def account(org, login, name):
    return accounts.create_account(org.ctx(login), {"name": name})[0]["id"]


def contact(org, login, account_id, name, **extra):
    return people.create_contact(org.ctx(login), {"account": account_id, "name": name, **extra})


def listed(org, login, **args):
    page = people.list_contacts(org.ctx(login), ListParams.parse(args.get, "name"), args.get)
    return page["items"]


@pytest.fixture
def book(org):
    """rep1's account with two contacts, rep2's with one, md_rep's with one."""
    a1, a2 = account(org, "rep1", "甲一"), account(org, "rep2", "乙二")
    m1 = account(org, "md_rep", "丁四")
    contact(org, "rep1", a1, "张总", title="总经理", mobile="13812345678",
            email="zhang@jia.example", decision_role="decision_maker", birthday="1975-03-08")
    contact(org, "rep1", a1, "陈工", mobile="+86 139-0000-1111", decision_role="user")
    contact(org, "rep2", a2, "王采购", mobile="13700001111", wechat="wang_cg")
    contact(org, "md_rep", m1, "林主任", phone="010-88886666")
    return {"a1": a1, "a2": a2, "m1": m1}


def test_a_rep_sees_contacts_of_own_accounts_only(org, book):
    assert [c["name"] for c in listed(org, "rep1")] == sorted(["张总", "陈工"])
    assert [c["name"] for c in listed(org, "rep2")] == ["王采购"]
    assert sorted(c["name"] for c in listed(org, "mgr")) == sorted(["张总", "陈工", "王采购"])
    assert [c["name"] for c in listed(org, "md_rep")] == ["林主任"]
    other = Contact.get(Contact.name == "王采购").id
    with pytest.raises(APIError) as err:
        people.get_contact(org.ctx("rep1"), other)
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        people.update_contact(org.ctx("rep1"), other, {"title": "x"})
    assert err.value.status_code == 404


def test_scope_follows_the_account_when_it_changes_hands(org, book):
    accounts.update_account(org.ctx("mgr"), book["a1"], {"owner": org.id("rep2")})
    assert listed(org, "rep1") == []
    assert sorted(c["name"] for c in listed(org, "rep2")) == sorted(["张总", "陈工", "王采购"])


def test_adding_a_contact_needs_a_writable_account(org, book):
    with pytest.raises(APIError) as err:  # rep2's account: invisible to rep1
        contact(org, "rep1", book["a2"], "某人")
    assert err.value.status_code == 422 and "account" in err.value.fields
    with pytest.raises(APIError) as err:  # finance reads it but has no create right
        contact(org, "fin", book["a1"], "某人")
    assert err.value.status_code == 403
    with pytest.raises(APIError) as err:  # moving a contact to an invisible account
        people.update_contact(org.ctx("rep1"), Contact.get(Contact.name == "张总").id,
                              {"account": book["a2"]})
    assert err.value.status_code == 422


def test_channels_are_encrypted_at_rest_and_found_by_blind_index(org, book):
    raw = database.execute_sql("SELECT mobile, mobile_bidx FROM contacts_contact WHERE name = "
                               + database.obj.param, ("张总",)).fetchone()
    assert "13812345678" not in raw[0] and raw[1] and len(raw[1]) == 16
    found = listed(org, "rep1", mobile="+86 138 1234 5678")
    assert [c["name"] for c in found] == ["张总"]
    assert found[0]["mobile"] == "13812345678"
    assert not any(key.endswith("_bidx") for key in found[0])
    assert [c["name"] for c in listed(org, "rep1", mobile="13900001111")] == ["陈工"]
    assert listed(org, "rep1", mobile="13700001111") == []  # rep2's contact: out of scope


def test_finance_sees_channels_masked_birthday_hidden_and_cannot_search_them(org, book):
    rows = {c["name"]: c for c in listed(org, "fin")}
    assert set(rows) == {"张总", "陈工", "王采购"}  # the division, not MD
    zhang = rows["张总"]
    assert zhang["mobile"] == "138****5678"
    assert zhang["email"] == "z***@jia.example"
    assert "birthday" not in zhang and zhang["title"] == "总经理"
    assert rows["王采购"]["wechat"] == "w*****g"
    with pytest.raises(APIError) as err:
        listed(org, "fin", mobile="13812345678")
    assert err.value.status_code == 403 and err.value.fields == {"mobile": "masked"}


def test_validation_and_forbidden_fields(org, book):
    with pytest.raises(APIError) as err:
        contact(org, "rep1", book["a1"], "", mobile="abc", email="nope",
                decision_role="boss", birthday="1975-13-01")
    assert err.value.status_code == 422
    assert set(err.value.fields) == {"name", "mobile", "email", "decision_role", "birthday"}
    with pytest.raises(APIError) as err:
        contact(org, "rep1", book["a1"], "x", mobile_bidx="0" * 16)
    assert err.value.status_code == 403 and err.value.fields == {"mobile_bidx": "read-only"}


def test_update_and_delete(org, book):
    chen = Contact.get(Contact.name == "陈工").id
    updated = people.update_contact(org.ctx("rep1"), chen, {"mobile": "13911112222",
                                                            "decision_role": "champion"})
    assert updated["mobile"] == "13911112222" and updated["account_name"] == "甲一"
    assert [c["name"] for c in listed(org, "rep1", mobile="13911112222")] == ["陈工"]
    people.delete_contact(org.ctx("rep1"), chen)
    assert [c["name"] for c in listed(org, "rep1")] == ["张总"]
