"""`compile_scope`: each level → SQL, on a real org, independent of any policy."""
from __future__ import annotations

import pytest

from modules.base import services
from security.scopes import FALSE, TRUE, compile_scope, scope_op
from tests.test_scope_org import T_Account, install, org  # noqa: F401


def visible(org, login, level, division=None, model=T_Account):
    ctx = org.ctx(login)
    query = model.select(model.name).where(compile_scope(ctx, model, level, division))
    return {row.name for row in query}


def test_own(org):
    assert visible(org, "rep1", "own", org.ia.id) == {"a_rep1"}
    assert visible(org, "rep1", "own", org.md.id) == {"m_rep1"}
    assert visible(org, "rep1", "own", None) == {"a_rep1", "m_rep1"}


def test_subordinates_follow_the_whole_manager_chain(org):
    assert visible(org, "boss", "subordinates", org.ia.id) == {
        "a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3"}
    assert visible(org, "mgr", "subordinates", org.ia.id) == {"a_mgr", "a_rep1", "a_rep2"}
    assert visible(org, "rep2", "subordinates", org.ia.id) == {"a_rep2"}


def test_subordinates_survive_a_cyclic_chain(org):
    # written behind the services' back: the CTE must still terminate
    from modules.base.models import User
    User.update(manager=org.users["rep1"]).where(User.id == org.users["boss"].id).execute()
    assert visible(org, "mgr", "subordinates", org.ia.id) == {
        "a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3"}


def test_department_and_subtree(org):
    assert visible(org, "rep1", "department", org.ia.id) == {"a_rep1", "a_rep2"}
    assert visible(org, "mgr", "department", org.ia.id) == {"a_mgr"}
    assert visible(org, "mgr", "department_subtree", org.ia.id) == {"a_mgr", "a_rep1", "a_rep2"}
    assert visible(org, "boss", "department_subtree", org.ia.id) == {
        "a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3"}


def test_department_levels_without_a_department_are_own(org):
    org.add_account("a_loner", "loner", org.ia)
    assert visible(org, "loner", "department", org.ia.id) == {"a_loner"}
    assert visible(org, "loner", "department_subtree", org.ia.id) == {"a_loner"}


def test_subtree_follows_a_moved_department(org):
    services.move_department(org.depts["north"], org.depts["east"])
    assert visible(org, "mgr", "department_subtree", org.ia.id) == {
        "a_mgr", "a_rep1", "a_rep2", "a_rep3"}


def test_region_and_own(org):
    # rep3 holds north: a_boss and a_rep3 are in north
    assert visible(org, "rep3", "region", org.ia.id) == {"a_boss", "a_rep3"}
    # rep2 holds no region: own records only
    assert visible(org, "rep2", "region", org.ia.id) == {"a_rep2"}
    assert visible(org, "rep1", "region", org.ia.id) == {"a_mgr", "a_rep1", "a_none"}


def test_division_and_all(org):
    ia = {"a_boss", "a_mgr", "a_rep1", "a_rep2", "a_rep3", "a_none"}
    assert visible(org, "rep2", "division", org.ia.id) == ia
    assert visible(org, "rep2", "all", org.ia.id) == ia
    assert visible(org, "rep2", "all", None) == ia | {"m_rep", "m_rep1"}
    assert compile_scope(org.ctx("rep2"), T_Account, "all", None) is TRUE


def test_none_and_anonymous(org):
    assert visible(org, "boss", "none", org.ia.id) == set()
    assert compile_scope(org.ctx("boss"), T_Account, "none", None) is FALSE
    from security.context import Context
    anonymous = Context(registry=org.registry)
    assert compile_scope(anonymous, T_Account, "own", org.ia.id) is FALSE
    assert compile_scope(anonymous, T_Account, "subordinates", None) is FALSE


def test_model_without_owner_grants_no_own_records(org):
    class NoOwner(T_Account):
        __scope__ = {"division": "division"}

        class Meta:
            table_name = "t_account"

    assert visible(org, "rep1", "own", org.ia.id, NoOwner) == set()
    assert len(visible(org, "rep1", "division", org.ia.id, NoOwner)) == 6


def test_bad_declarations_are_refused(org):
    class Bad(T_Account):
        __scope__ = {"owner": "nobody"}

        class Meta:
            table_name = "t_account"

    with pytest.raises(ValueError):
        compile_scope(org.ctx("rep1"), Bad, "own", None)
    with pytest.raises(ValueError):
        compile_scope(org.ctx("rep1"), T_Account, "everything", None)


def test_scope_ops():
    assert [scope_op(op) for op in ("list", "get", "count", "search", "export")] == ["read"] * 5
    assert [scope_op(op) for op in ("update", "delete", "write")] == ["write"] * 3
    with pytest.raises(ValueError):
        scope_op("fly")


def test_subtree_predicate_uses_the_path_index(org):
    """The compiled SQL runs on indexes: owner/division for the record, path for the tree."""
    from core.db import database, is_postgres
    if is_postgres():
        pytest.skip("plan check is SQLite-specific; PostgreSQL plans depend on statistics")
    ctx = org.ctx("mgr")
    query = T_Account.select(T_Account.id).where(
        compile_scope(ctx, T_Account, "department_subtree", org.ia.id))
    sql, params = query.sql()
    plan = " | ".join(row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "INDEX" in plan and "base_department_path" in plan, plan
    assert "SCAN t1" not in plan.replace('"', ""), plan


def test_levels_that_do_not_nest_are_united():
    from security.scopes import effective_levels

    assert effective_levels(frozenset({("own", False), ("subordinates", False),
                                       ("region", False)})) == ["region", "subordinates"]
    assert effective_levels(frozenset({("department", False),
                                       ("department_subtree", False)})) == ["department_subtree"]
    assert effective_levels(frozenset({("region", False), ("division", False)})) == ["division"]
    assert effective_levels(frozenset({("all", False), ("own", False)})) == ["all"]
