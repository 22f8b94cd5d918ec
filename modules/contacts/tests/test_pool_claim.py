"""Customer protection: one owner per account, the division's pool, claims and their 409s
(the owner named only to those who may see it), releases."""
from __future__ import annotations

import pytest

from core.web.base import APIError
from modules.contacts import accounts, pool
from modules.contacts.models import Account
from modules.contacts.paging import ListParams


def make(org, login, name, **extra):
    return accounts.create_account(org.ctx(login), {"name": name, **extra})[0]["id"]


def pool_names(org, login):
    page = accounts.list_pool(org.ctx(login), ListParams.parse({}.get, "name"), {}.get)
    return sorted(a["name"] for a in page["items"])


def test_pool_lists_ownerless_accounts_of_the_callers_division(org):
    make(org, "mgr", "公海甲", owner=None)
    make(org, "mgr", "公海乙", owner=None)
    make(org, "rep1", "有主")
    Account.create(name="医疗公海", name_key="医疗公海", division=org.divisions["MD"], owner=None)
    assert pool_names(org, "rep1") == ["公海乙", "公海甲"]
    assert pool_names(org, "md_rep") == ["医疗公海"]
    with pytest.raises(APIError) as err:  # finance holds no pool right
        pool_names(org, "fin")
    assert err.value.status_code == 403
    # a pool account is readable (to decide whether to claim it), not writable
    pooled = Account.get(Account.name == "公海甲").id
    assert accounts.get_account(org.ctx("rep1"), pooled)["owner"] is None
    with pytest.raises(APIError) as err:
        accounts.update_account(org.ctx("rep1"), pooled, {"name": "改"})
    assert err.value.status_code == 404


def test_claim_takes_a_pool_account_once(org):
    pooled = make(org, "mgr", "公海甲", owner=None)
    assert pool.claim(org.ctx("rep1"), pooled) == pooled
    assert Account.get_by_id(pooled).owner_id == org.id("rep1")
    assert pool.claim(org.ctx("rep1"), pooled) == pooled  # already mine: no change
    assert pool_names(org, "rep2") == []


def test_claim_conflict_names_the_owner_only_to_who_may_see_it(org):
    owned = make(org, "rep1", "有主")
    with pytest.raises(APIError) as err:  # rep2 cannot see rep1's account: no name
        pool.claim(org.ctx("rep2"), owned)
    assert err.value.status_code == 409 and err.value.fields == {}
    assert "李娜" not in err.value.message
    with pytest.raises(APIError) as err:  # the manager sees it, and its owner
        pool.claim(org.ctx("mgr"), owned)
    assert err.value.status_code == 409 and err.value.fields == {"owner": "李娜"}
    with pytest.raises(APIError) as err:  # another division's account is not even there
        pool.claim(org.ctx("md_rep"), owned)
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        pool.claim(org.ctx("rep2"), 999999)
    assert err.value.status_code == 404
    assert Account.get_by_id(owned).owner_id == org.id("rep1")


def test_release_puts_an_own_account_back_in_the_pool(org):
    mine = make(org, "rep1", "有主")
    with pytest.raises(APIError) as err:  # not rep2's to release
        pool.release(org.ctx("rep2"), mine)
    assert err.value.status_code == 404
    pool.release(org.ctx("rep1"), mine)
    assert Account.get_by_id(mine).owner_id is None
    assert pool_names(org, "rep2") == ["有主"]
    pool.claim(org.ctx("rep2"), mine)
    assert Account.get_by_id(mine).owner_id == org.id("rep2")


def test_a_rep_cannot_create_straight_into_the_pool_or_for_others(org):
    with pytest.raises(APIError) as err:
        accounts.create_account(org.ctx("rep1"), {"name": "x", "owner": None})
    assert err.value.status_code == 403 and err.value.fields == {"owner": "read-only"}
    with pytest.raises(APIError) as err:  # the manager: only within the team
        accounts.create_account(org.ctx("mgr"), {"name": "x", "owner": org.id("md_rep")})
    assert err.value.code == "out_of_scope"
    assert Account.select().count() == 0
