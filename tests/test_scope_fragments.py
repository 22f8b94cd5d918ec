"""Cached subquery texts: rendered once per shape, bound per use, never mixing callers."""
from __future__ import annotations

import pytest

from security import fragments
from tests.test_scope_org import T_Account, install, org  # noqa: F401


def names_where(sql_node):
    return {r.name for r in T_Account.select(T_Account.name).where(T_Account.id.in_(sql_node))}


def test_values_are_bound_per_use_and_the_text_is_reused(org):
    def build(owner_slot):
        return T_Account.select(T_Account.id).where(T_Account.owner == owner_slot)

    key = ("test_owner_ids",)
    first = fragments.subquery(key, build, [org.users["rep1"].id])
    second = fragments.subquery(key, build, [org.users["rep2"].id])
    assert first.sql == second.sql and first.params != second.params
    assert names_where(first) == {"a_rep1", "m_rep1"}
    assert names_where(second) == {"a_rep2"}


def test_text_slots_inside_longer_parameters(org):
    def build(prefix_slot):
        return T_Account.select(T_Account.id).where(T_Account.name.startswith(prefix_slot))

    assert names_where(fragments.subquery(("test_prefix",), build, ["a_rep"])) == {
        "a_rep1", "a_rep2", "a_rep3"}
    assert names_where(fragments.subquery(("test_prefix",), build, ["m_"])) == {
        "m_rep", "m_rep1"}


def test_only_ids_and_text_fill_slots():
    with pytest.raises(TypeError):
        fragments._slots([True])
    with pytest.raises(TypeError):
        fragments._slots([1.5])


def test_prepared_gives_what_the_query_gives_with_joins(org):
    """A `Prepared` lookup returns the same instances (joined model included) as the peewee
    query it was built from, for each value, and None when nothing matches."""
    from modules.base.models import User

    def build(name_slot):
        return (T_Account.select(T_Account, User).join(User, on=(T_Account.owner == User.id))
                .where(T_Account.name == name_slot).limit(1))

    lookup = fragments.Prepared(("test_prepared_account",), build)
    for name in ("a_rep1", "a_rep2", "m_rep"):
        expected = build(name).first()
        found = lookup.first(name)
        assert found.__data__ == expected.__data__
        assert found.owner.__data__ == expected.owner.__data__  # the join, not a lazy load
    assert lookup.first("no such account") is None
