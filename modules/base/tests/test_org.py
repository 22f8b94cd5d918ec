"""The org tree: materialised paths, subtree predicate (indexed), moves rewriting the subtree,
refused moves, duplicate codes, and the manager chain refusing cycles."""
from __future__ import annotations

import pytest

from core.db import database, is_postgres
from modules.base import services
from modules.base.models import Department, User


@pytest.fixture
def tree(install):
    """IA: 销售中心 → {销售一部 → 一组, 销售二部}; 市场部 (root). MD: 销售中心."""
    ia = services.create_division("IA", "工业自动化事业部")
    md = services.create_division("MD", "医疗器械事业部")
    sc = services.create_department(ia, "IA-SC", "销售中心")
    s1 = services.create_department(ia, "IA-S1", "销售一部（华东）", sc)
    g1 = services.create_department(ia, "IA-S1-G1", "一组", s1)
    s2 = services.create_department(ia, "IA-S2", "销售二部（华南）", sc)
    mkt = services.create_department(ia, "IA-MKT", "市场部")
    md_sc = services.create_department(md, "MD-SC", "销售中心")
    return dict(ia=ia, md=md, sc=sc, s1=s1, g1=g1, s2=s2, mkt=mkt, md_sc=md_sc)


def codes(predicate) -> set[str]:
    return {d.code for d in Department.select().where(predicate)}


def fresh(dept: Department) -> Department:
    return Department.get_by_id(dept.id)


def test_paths_are_materialised(tree):
    sc, s1, g1 = tree["sc"], tree["s1"], tree["g1"]
    assert sc.path == f"/{sc.id}/"
    assert s1.path == f"/{sc.id}/{s1.id}/"
    assert g1.path == f"/{sc.id}/{s1.id}/{g1.id}/"


def test_subtree_is_one_predicate(tree):
    assert codes(services.subtree(tree["sc"])) == {"IA-SC", "IA-S1", "IA-S1-G1", "IA-S2"}
    assert codes(services.subtree(tree["s1"])) == {"IA-S1", "IA-S1-G1"}
    assert codes(services.subtree(tree["mkt"])) == {"IA-MKT"}


def test_subtree_predicate_does_not_match_sibling_ids_with_the_same_digits(install):
    """`/1/` must not match `/10/` or `/12/`: the trailing slash is part of the prefix."""
    ia = services.create_division("IA", "工业自动化事业部")
    depts = [services.create_department(ia, f"D{i}", f"部门{i}") for i in range(12)]
    first = depts[0]
    assert codes(services.subtree(first)) == {"D0"}
    with pytest.raises(ValueError):
        services.subtree_predicate(Department.path, "/1/4")


def test_subtree_query_uses_an_index(tree):
    query = Department.select(Department.id).where(services.subtree(tree["sc"]))
    sql, params = query.sql()
    if is_postgres():
        with database.atomic():
            database.execute_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(r[0] for r in database.execute_sql("EXPLAIN " + sql, params))
        assert "base_department_path_pattern" in plan, plan
    else:
        plan = " ".join(str(r[-1]) for r in database.execute_sql(
            "EXPLAIN QUERY PLAN " + sql, params))
        assert "USING" in plan and "INDEX base_department_path" in plan, plan


def test_move_rewrites_the_whole_subtree(tree):
    sc, s1, g1, mkt = tree["sc"], tree["s1"], tree["g1"], tree["mkt"]
    moved = services.move_department(s1, mkt)
    assert moved.parent_id == mkt.id
    assert moved.path == f"/{mkt.id}/{s1.id}/"
    assert fresh(g1).path == f"/{mkt.id}/{s1.id}/{g1.id}/"
    assert codes(services.subtree(fresh(mkt))) == {"IA-MKT", "IA-S1", "IA-S1-G1"}
    assert codes(services.subtree(fresh(sc))) == {"IA-SC", "IA-S2"}
    assert fresh(tree["s2"]).path == f"/{sc.id}/{tree['s2'].id}/"  # siblings untouched


def test_move_to_root_and_back(tree):
    s1, g1, sc = tree["s1"], tree["g1"], tree["sc"]
    services.move_department(s1, None)
    assert fresh(s1).path == f"/{s1.id}/" and fresh(s1).parent_id is None
    assert fresh(g1).path == f"/{s1.id}/{g1.id}/"
    services.update_department(fresh(s1), {"parent_id": sc.id})
    assert fresh(g1).path == f"/{sc.id}/{s1.id}/{g1.id}/"


@pytest.mark.parametrize("target", ["sc", "s1", "g1"])
def test_move_under_itself_or_a_descendant_is_refused(tree, target):
    with pytest.raises(services.BaseError) as caught:
        services.move_department(tree["sc"], tree[target])
    assert caught.value.status == 422 and caught.value.field == "parent_id"
    assert fresh(tree["g1"]).path == f"/{tree['sc'].id}/{tree['s1'].id}/{tree['g1'].id}/"


def test_move_across_divisions_is_refused(tree):
    with pytest.raises(services.BaseError) as caught:
        services.move_department(tree["s1"], tree["md_sc"])
    assert caught.value.field == "parent_id"


def test_duplicate_codes_conflict(tree):
    with pytest.raises(services.Conflict):
        services.create_division("IA", "重复")
    with pytest.raises(services.Conflict):
        services.create_department(tree["ia"], "IA-S1", "重复")
    services.create_department(tree["md"], "IA-S1", "另一事业部可以同名编码")
    with pytest.raises(services.Conflict):
        services.update_department(tree["s2"], {"code": "IA-S1"})


@pytest.fixture
def chain(install):
    director = services.create_user("zhang.wei", "张伟")
    manager = services.create_user("wang.fang", "王芳", manager=director)
    rep = services.create_user("li.na", "李娜", manager=manager)
    return director, manager, rep


def test_manager_cycles_are_refused(chain):
    director, manager, rep = chain
    for user, new_manager in [(director, rep), (director, manager), (rep, rep)]:
        with pytest.raises(services.BaseError) as caught:
            services.set_manager(user, new_manager)
        assert caught.value.field == "manager_id"
    assert User.get_by_id(director.id).manager_id is None
    assert services.subordinates_ids(director) == [manager.id, rep.id]


def test_update_user_fields_and_regions(chain, tree):
    director, manager, rep = chain
    updated = services.update_user(rep, {
        "name": "李娜娜", "email": "li.na@example.com", "department_id": tree["s1"].id,
        "manager_id": director.id, "regions": ["east", "south"], "active": False})
    assert (updated.name, updated.email, updated.department_id, updated.manager_id,
            updated.active) == ("李娜娜", "li.na@example.com", tree["s1"].id, director.id, False)
    assert services.region_codes(updated) == ["east", "south"]
    services.update_user(updated, {"regions": []})
    assert services.region_codes(updated) == []


@pytest.mark.parametrize("changes, field", [
    ({"email": "not-an-email"}, "email"), ({"name": ""}, "name"),
    ({"department_id": 99999}, "department_id"), ({"manager_id": "x"}, "manager_id"),
    ({"regions": ["mars"]}, "regions"), ({"regions": "east"}, "regions"),
    ({"active": "yes"}, "active"),
])
def test_update_user_validation_names_the_field(chain, changes, field):
    with pytest.raises(services.BaseError) as caught:
        services.update_user(chain[2], changes)
    assert caught.value.field == field


def test_assign_role_is_idempotent(chain, tree):
    rep = chain[2]
    first = services.assign_role(rep, "sales_rep", tree["ia"])
    assert services.assign_role(rep, "sales_rep", tree["ia"]).id == first.id
    everywhere = services.assign_role(rep, "auditor")
    assert everywhere.division_id is None
    assert services.assign_role(rep, "auditor").id == everywhere.id
    with pytest.raises(services.BaseError):
        services.assign_role(rep, "no_such_role")
