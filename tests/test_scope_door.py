"""`security.scope` with real policies: the caller's roles → SQL, cross-division 404s,
record shares, parent inheritance, and every scoped helper (list, get, count, search,
update, delete, export, create) going through it."""
from __future__ import annotations

import pytest

from core.db import atomic
from core.web.base import APIError
from security import crud
from security.scopes import TRUE, scope
from security.shares import Share, share, shares_of, unshare
from tests.test_scope_org import (  # noqa: F401
    T_Account, T_Activity, T_Contact, assign, count_queries, define_role, install, org,
    scope_lines,
)

ACCOUNT = "t_account"
IA_ALL = {"a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3", "a_none"}


def names(ctx, model=T_Account, op="read"):
    return {row.name for row in model.select(model.name).where(scope(ctx, model, op))}


def listed(ctx, model=T_Account, **kwargs):
    return {row["name"] for row in crud.list_rows(ctx, model, **kwargs)}


def role_with(org, login, level, write=None, domain="*", division=None, code=None):
    code = code or f"t_{level}"
    define_role(code, scope_lines(ACCOUNT, level, write), domain)
    assign(org, login, code, division)


@pytest.mark.parametrize("login, level, expected", [
    ("rep1", "own", {"a_rep1"}),
    ("mgr", "subordinates", {"a_mgr", "a_rep1", "a_rep2"}),
    ("rep1", "department", {"a_rep1", "a_rep2"}),
    ("boss", "department_subtree", {"a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3"}),
    ("rep3", "region", {"a_boss", "a_rep3"}),
    ("rep2", "division", IA_ALL),
    ("rep2", "all", IA_ALL | {"m_rep", "m_rep1"}),  # held in * by a * rule: everywhere
])
def test_each_level_through_the_roles(org, login, level, expected):
    role_with(org, login, level)
    assert listed(org.ctx(login)) == expected


def test_no_scope_line_means_own_and_no_model_right_means_nothing(org):
    define_role("t_plain", [("model/t_account", "read")])
    assign(org, "rep1", "t_plain")
    assert listed(org.ctx("rep1")) == {"a_rep1"}
    assert names(org.ctx("rep2")) == set()
    with pytest.raises(APIError) as err:
        crud.list_rows(org.ctx("rep2"), T_Account)
    assert err.value.status_code == 403


def test_widest_level_across_roles_wins(org):
    role_with(org, "mgr", "own", code="t_a")
    role_with(org, "mgr", "subordinates", code="t_b")
    assert listed(org.ctx("mgr")) == {"a_mgr", "a_rep1", "a_rep2"}


def test_levels_that_do_not_nest_are_united_across_roles(org):
    # The union, not the "widest" single level, decides: mgr's subordinates own a_rep2 (in
    # the south region) and mgr's east region holds the ownerless a_none.
    role_with(org, "mgr", "subordinates", code="t_sub")
    role_with(org, "mgr", "region", code="t_reg")
    assert listed(org.ctx("mgr")) == {"a_mgr", "a_rep1", "a_rep2", "a_none"}
    role_with(org, "rep3", "subordinates", code="t_sub")
    role_with(org, "rep3", "region", code="t_reg")
    assert listed(org.ctx("rep3")) == {"a_boss", "a_rep3"}
    role_with(org, "boss", "subordinates", code="t_sub")
    role_with(org, "boss", "region", code="t_reg")  # boss has no region: subordinates only
    assert listed(org.ctx("boss")) == {"a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3"}
    role_with(org, "rep1", "own", code="t_own")
    role_with(org, "rep1", "region", code="t_reg")
    assert listed(org.ctx("rep1")) == {"a_mgr", "a_rep1", "a_none"}  # own ∪ east region


def test_other_divisions_are_invisible_and_404(org):
    role_with(org, "rep1", "own")
    ctx = org.ctx("rep1")  # works in IA (department)
    assert listed(ctx) == {"a_rep1"}
    for key in ("m_rep1", "m_rep", "a_rep2"):
        with pytest.raises(APIError) as err:
            crud.get_or_404(ctx, T_Account, org.accounts[key].id)
        assert err.value.status_code == 404
    assert crud.get_or_404(ctx, T_Account, org.accounts["a_rep1"].id).name == "a_rep1"


def test_division_header_switches_the_division(org):
    role_with(org, "rep1", "own")
    assert listed(org.ctx("rep1", org.md)) == {"m_rep1"}


def test_division_role_applies_only_in_its_division(org):
    role_with(org, "md_rep", "division", domain="*", division=org.md)
    assert listed(org.ctx("md_rep")) == {"m_rep", "m_rep1"}
    with pytest.raises(APIError) as err:  # holds no role in IA
        listed(org.ctx("md_rep", org.ia))
    assert err.value.status_code == 403


def test_division_all_stays_in_the_division_but_global_all_spans_all(org):
    role_with(org, "rep2", "all", division=org.ia, code="t_ia_all")
    assert listed(org.ctx("rep2")) == IA_ALL
    role_with(org, "loner", "all", code="t_global_all")
    assert scope(org.ctx("loner"), T_Account, "read") is TRUE
    assert listed(org.ctx("loner")) == IA_ALL | {"m_rep", "m_rep1"}


def test_admin_sees_everything(org, install):
    from security.context import Context
    contacts(org)
    ctx = Context(registry=org.registry, user=install.admin)
    assert scope(ctx, T_Account, "write") is TRUE
    assert scope(ctx, T_Contact, "read") is TRUE  # parents and orphans alike
    assert len(listed(ctx)) == 8
    assert len(listed(ctx, T_Contact)) == 5
    assert len(crud.list_rows(ctx, T_Activity)) == 3


def test_write_scope_is_separate_from_read_scope(org):
    role_with(org, "rep1", "department", write="own")
    ctx = org.ctx("rep1")
    assert names(ctx, op="write") == {"a_rep1"}
    rep2_id = org.accounts["a_rep2"].id
    with pytest.raises(APIError) as err:  # readable, not writable: 403
        crud.update_scoped(ctx, T_Account, rep2_id, {"name": "x"})
    assert err.value.status_code == 403
    with pytest.raises(APIError) as err:  # not even readable: 404
        crud.update_scoped(ctx, T_Account, org.accounts["a_mgr"].id, {"name": "x"})
    assert err.value.status_code == 404
    assert crud.update_scoped(ctx, T_Account, org.accounts["a_rep1"].id,
                              {"name": "renamed"})["name"] == "renamed"


def test_update_delete_count_export_are_scoped(org):
    define_role("t_rep", [*scope_lines(ACCOUNT, "own", "own", acts=("read", "export")),
                          ("model/t_account", "delete")])
    assign(org, "rep1", "t_rep")
    ctx = org.ctx("rep1")
    assert crud.count(ctx, T_Account) == 1
    assert crud.count(ctx, T_Account, T_Account.name == "a_rep2") == 0
    assert [r["name"] for r in crud.export_rows(ctx, T_Account)] == ["a_rep1"]
    assert listed(ctx, where=T_Account.name.startswith("a_")) == {"a_rep1"}  # search
    for target in ("a_rep2", "m_rep"):
        for call in (lambda i: crud.update_scoped(ctx, T_Account, i, {"name": "x"}),
                     lambda i: crud.delete_scoped(ctx, T_Account, i)):
            with pytest.raises(APIError) as err:
                call(org.accounts[target].id)
            assert err.value.status_code == 404
    assert T_Account.get_by_id(org.accounts["a_rep2"].id).name == "a_rep2"
    crud.delete_scoped(ctx, T_Account, org.accounts["a_rep1"].id)
    assert crud.count(ctx, T_Account) == 0
    with pytest.raises(APIError) as err:
        crud.get_or_404(ctx, T_Account, "not-a-number")
    assert err.value.status_code == 404


def test_create_outside_the_write_scope_is_refused(org):
    define_role("t_creator", [*scope_lines(ACCOUNT, "own", "own"), ("model/t_account", "create")])
    assign(org, "rep1", "t_creator")
    ctx = org.ctx("rep1")
    made = crud.create_scoped(ctx, T_Account, {"name": "mine", "owner": org.users["rep1"].id,
                                               "division": org.ia.id})
    assert made["name"] == "mine" and made["amount"] == "0.00"
    for data in ({"name": "theirs", "owner": org.users["rep2"].id, "division": org.ia.id},
                 {"name": "elsewhere", "owner": org.users["rep1"].id, "division": org.md.id}):
        with pytest.raises(APIError) as err:
            crud.create_scoped(org.ctx("rep1"), T_Account, data)
        assert err.value.status_code == 403 and err.value.code == "out_of_scope"
    assert not T_Account.select().where(T_Account.name.in_(["theirs", "elsewhere"])).exists()


# ------------------------------------------------------------------ shares
def test_share_with_a_user_for_reading_then_writing(org):
    role_with(org, "rep1", "own", write="own")
    role_with(org, "rep2", "own", write="own")
    rep2_account = org.accounts["a_rep2"].id
    share(org.ctx("rep2"), T_Account, rep2_account, user=org.users["rep1"])
    ctx = org.ctx("rep1")
    assert listed(ctx) == {"a_rep1", "a_rep2"}
    with pytest.raises(APIError) as err:
        crud.update_scoped(ctx, T_Account, rep2_account, {"name": "x"})
    assert err.value.status_code == 403
    share(org.ctx("rep2"), T_Account, rep2_account, user=org.users["rep1"], perm="write")
    assert Share.select().count() == 1  # sharing again updates
    assert crud.update_scoped(org.ctx("rep1"), T_Account, rep2_account,
                              {"name": "shared"})["name"] == "shared"
    assert [s["perm"] for s in shares_of(org.ctx("rep2"), T_Account, rep2_account)] == ["write"]
    unshare(org.ctx("rep2"), T_Account, rep2_account, user=org.users["rep1"])
    assert listed(org.ctx("rep1")) == {"a_rep1"}


def test_share_across_divisions(org):
    role_with(org, "rep1", "own", write="own")
    role_with(org, "md_rep", "own", write="own")
    share(org.ctx("md_rep"), T_Account, org.accounts["m_rep"].id, user=org.users["rep1"])
    assert listed(org.ctx("rep1")) == {"a_rep1", "m_rep"}


def test_share_with_a_department_and_its_subtree(org):
    for login in ("boss", "mgr", "rep1", "rep2", "rep3"):
        role_with(org, login, "own", write="own")
    account = org.accounts["a_rep3"].id
    share(org.ctx("rep3"), T_Account, account, department=org.depts["east"])
    seeing = {u for u in ("boss", "mgr", "rep1", "rep2") if "a_rep3" in listed(org.ctx(u))}
    assert seeing == {"mgr"}
    share(org.ctx("rep3"), T_Account, account, department=org.depts["east"], subtree=True)
    seeing = {u for u in ("boss", "mgr", "rep1", "rep2") if "a_rep3" in listed(org.ctx(u))}
    assert seeing == {"mgr", "rep1", "rep2"}


def test_sharing_needs_the_record_in_ones_write_scope(org):
    role_with(org, "rep1", "division", write="own")
    ctx = org.ctx("rep1")
    with pytest.raises(APIError) as err:
        share(ctx, T_Account, org.accounts["a_rep2"].id, user=org.users["rep1"])
    assert err.value.status_code == 404
    for bad in ({"perm": "admin", "user": org.users["rep2"]},
                {"user": org.users["rep2"], "department": org.depts["east"]}, {}):
        with pytest.raises(APIError) as err:
            share(ctx, T_Account, org.accounts["a_rep1"].id, **bad)
        assert err.value.status_code == 400


# ------------------------------------------------------------------ parent inheritance
def contacts(org):
    made = {}
    for key in ("a_rep1", "a_rep2", "m_rep"):
        made[key] = T_Contact.create(account=org.accounts[key], name=f"c_{key}")
        T_Activity.create(contact=made[key], subject=f"act_{key}")
    T_Contact.create(account=None, owner=org.users["rep1"], division=org.ia, name="c_orphan_rep1")
    T_Contact.create(account=None, owner=org.users["rep2"], division=org.ia, name="c_orphan_rep2")
    return made


def test_children_follow_their_parent(org):
    contacts(org)
    define_role("t_kids", [*scope_lines(ACCOUNT, "own"), ("model/t_contact", "read"),
                           ("model/t_activity", "read")])
    assign(org, "rep1", "t_kids")
    ctx = org.ctx("rep1")
    assert listed(ctx, T_Contact) == {"c_a_rep1", "c_orphan_rep1"}
    assert {r["subject"] for r in crud.list_rows(ctx, T_Activity)} == {"act_a_rep1"}
    share(_admin(org), T_Account, org.accounts["a_rep2"].id, user=org.users["rep1"])
    assert listed(org.ctx("rep1"), T_Contact) == {"c_a_rep1", "c_a_rep2", "c_orphan_rep1"}
    assert {r["subject"] for r in crud.list_rows(org.ctx("rep1"), T_Activity)} == {
        "act_a_rep1", "act_a_rep2"}


def test_child_of_an_invisible_parent_is_404(org):
    made = contacts(org)
    define_role("t_kids", [*scope_lines(ACCOUNT, "own"), ("model/t_contact", "read")])
    assign(org, "rep1", "t_kids")
    for key in ("a_rep2", "m_rep"):
        with pytest.raises(APIError) as err:
            crud.get_or_404(org.ctx("rep1"), T_Contact, made[key].id)
        assert err.value.status_code == 404


def _admin(org):
    from modules.base.models import User
    from security.context import Context
    return Context(registry=org.registry, user=User.get(User.login == "admin"))


# ------------------------------------------------------------------ query count
def test_listing_costs_the_same_queries_whatever_the_table_size(org):
    define_role("t_sub", scope_lines(ACCOUNT, "subordinates"))
    assign(org, "boss", "t_sub")

    def statements_for_a_page():
        ctx = org.ctx("boss")
        crud.list_rows(ctx, T_Account, limit=50)  # warm the process-wide policy caches
        ctx = org.ctx("boss")
        with count_queries() as statements:
            rows = crud.list_rows(ctx, T_Account, limit=50)
            crud.count(ctx, T_Account)
        return len(rows), len(statements)

    def grow(n):
        with atomic():
            for i in range(n):
                org.add_account(f"bulk{i}", ("rep1", "rep2", "mgr", "md_rep")[i % 4],
                                org.md if i % 4 == 3 else org.ia)

    grow(60)
    small_rows, small = statements_for_a_page()
    grow(600)
    big_rows, big = statements_for_a_page()
    assert small_rows == big_rows == 50
    assert small == big
    assert big <= 6, big


def test_an_update_may_not_move_a_record_out_of_the_callers_scope(org):
    define_role("t_owner_editor", [*scope_lines(ACCOUNT, "own", "own"),
                                   ("field/t_account/owner", "write")])
    assign(org, "rep1", "t_owner_editor")
    account = org.accounts["a_rep1"]
    with pytest.raises(APIError) as refused:
        crud.update_scoped(org.ctx("rep1"), T_Account, account.id,
                           {"owner": org.users["rep2"].id})
    assert refused.value.status_code == 403 and refused.value.code == "out_of_scope"
    assert T_Account.get_by_id(account.id).owner_id == org.users["rep1"].id
