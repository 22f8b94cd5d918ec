"""Kanban: deals grouped by stage with counts and sums for the caller's scope, the first N
cards per stage through the door, and a statement count that does not grow with the deals
(100 → 10,000)."""
from __future__ import annotations

import contextlib
import decimal

import pytest

from core.db import database
from modules.opportunities.kanban import kanban
from modules.opportunities.models import Opportunity
from modules.opportunities.pipelines import default_pipeline, stages_of
from modules.opportunities.tests.test_forecast import money_keys


@contextlib.contextmanager
def count_statements():
    """Every SQL statement the database executes inside the block."""
    db = database.obj
    statements: list[str] = []
    original = db.execute_sql

    def execute_sql(sql, *args, **kwargs):
        statements.append(sql)
        return original(sql, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del db.execute_sql


def add_deals(org, count: int, start: int = 0) -> None:
    """`count` deals spread over owners, stages and amounts, inserted in batches."""
    pipeline = default_pipeline(org.divisions["IA"].id)
    stages = stages_of(pipeline.id)
    owners = [("rep1", "acme"), ("rep2", "bolt"), ("mgr", "dyna"), ("rep3", "crane")]
    now = org.clock.now
    rows = []
    for n in range(start, start + count):
        owner, account = owners[n % len(owners)]
        st = stages[n % len(stages)]
        rows.append({"name": f"deal {n}", "account": org.accounts[account].id,
                     "division": org.divisions["IA"].id, "owner": org.id(owner),
                     "pipeline": pipeline.id, "stage": st.id,
                     "amount": decimal.Decimal(1000 + n % 97), "created_at": now,
                     "updated_at": now, "stage_entered_at": now,
                     "closed_at": None if st.kind == "open" else now,
                     "lost_reason": "x" if st.kind == "lost" else None})
    for start_at in range(0, len(rows), 500):
        Opportunity.insert_many(rows[start_at:start_at + 500]).execute()


def measured(org, login: str) -> tuple[int, dict]:
    """Statements of one kanban request, after a warm-up (the process-wide policy cache).

    The door re-reads the policy version at most once a second, or when a PostgreSQL NOTIFY
    (from any process on the database) marks it stale; that read depends on the clock and
    on other processes, never on the number of deals, so it is left out of the count."""
    kanban(org.ctx(login), limit_per_stage=5)
    with count_statements() as statements:
        board = kanban(org.ctx(login), limit_per_stage=5)
    return len([s for s in statements if "security_policy_version" not in s]), board


@pytest.mark.parametrize("login", ["mgr", "pre", "admin"])
def test_statement_count_is_flat_from_100_to_10000_deals(org, login):
    add_deals(org, 100)
    small, board = measured(org, login)
    add_deals(org, 9_900, start=100)
    large, big = measured(org, login)
    assert small == large
    assert small <= 12
    expected = {"mgr": 7_500, "pre": 10_000, "admin": 10_000}[login]
    assert sum(stage["count"] for stage in big["stages"]) == expected
    assert all(len(stage["deals"]) == 5 for stage in big["stages"])


def test_counts_sums_and_cards_for_the_callers_scope(org):
    add_deals(org, 24)  # deal n: stage n % 6, owner n % 4, amount 1000 + n
    board = kanban(org.ctx("mgr"), limit_per_stage=2, order="amount")
    first = board["stages"][0]  # deals 0, 6, 12, 18 → owners rep1, mgr, rep1, mgr
    assert first["name"] == "初步接触"
    assert first["count"] == 4
    assert first["amount_sum"] == "4036.00"  # 1000 + 1006 + 1012 + 1018
    assert first["weighted_sum"] == "403.60"  # × 10 %
    second = board["stages"][1]  # deals 1, 7, 13, 19 → rep2, rep3 (not mgr's team), rep2, rep3
    assert (second["count"], second["amount_sum"]) == (2, "2014.00")
    assert [d["name"] for d in first["deals"]] == ["deal 0", "deal 6"]
    assert first["deals"][0]["owner_name"] == "李娜"
    assert first["deals"][0]["account_name"] == "acme 有限公司"
    won = next(s for s in board["stages"] if s["kind"] == "won")
    assert won["weighted_sum"] == won["amount_sum"]
    lost = next(s for s in board["stages"] if s["kind"] == "lost")
    assert lost["weighted_sum"] == "0.00"
    assert board["total"]["count"] == 18
    rep1 = kanban(org.ctx("rep1"))
    assert rep1["total"]["count"] == 6
    assert {d["owner"] for s in rep1["stages"] for d in s["deals"]} == {org.id("rep1")}


def test_no_money_for_a_role_that_cannot_read_amount(org):
    add_deals(org, 24)
    board = kanban(org.ctx("pre"))
    assert board["total"] == {"count": 24}
    assert money_keys(board) == set()
    assert all("amount" not in d and "budget" not in d
               for s in board["stages"] for d in s["deals"])


def test_sorting_by_a_hidden_field_is_refused(org):
    from core.web.base import APIError

    add_deals(org, 6)
    with pytest.raises(APIError) as err:
        kanban(org.ctx("pre"), order="-amount")
    assert err.value.status_code == 403 and err.value.fields == {"order": "hidden"}
