"""Forecast figures equal hand-computed fixtures: by month, owner, team and category, the
rolling three months, snapshots and forecast-vs-actual variance — each in the caller's scope,
and without any money for a role that may not read `amount`.

The fixture (division IA unless noted; m0 = this month in Beijing time, m1, m2 the next):

    deal owner stage(prob)      amount      close  category   weighted (= amount × p)
    a    rep1  初步接触(10)   100000.00   m0-15  pipeline     10000.0000
    b    rep1  报价谈判(75)   333333.33   m0-20  commit      249999.9975
    c    rep1  方案演示(50→35) 80000.10   m1-05  best_case    28000.0350
    d    rep1  需求确认(25)    55555.55   m2-28  omitted      13888.8875
    e    rep2  报价谈判(75)   200000.00   m0-01  commit      150000.0000
    f    rep2  方案演示(50)    12345.67   m1-end pipeline      6172.8350
    g    rep3  需求确认(25)    99999.99   m1-10  best_case    24999.9975
    h    rep3  赢单           150000.00   won now (m0)
    i    rep1  初步接触        10000.00   no close date
    j    rep2  初步接触        70000.00   m3-01 (outside the window)
    k    rep1  输单            90000.00   m0-12 (lost)
    l    mgr   报价谈判(75)    (no amount) m2-03  commit
    m    md_rep 报价谈判(75)  400000.00   m0-09  commit   (division MD)

Weighted sums are rounded once, half up, after summing.
"""
from __future__ import annotations

import datetime as dt
import decimal

import pytest

from core.web.base import APIError
from modules.opportunities import forecast as fc
from modules.opportunities import money
from modules.opportunities.models import ForecastSnapshot, Opportunity
from modules.opportunities.moves import move
from modules.opportunities.snapshots import snapshot_dates, take_snapshot, variance
from modules.opportunities.tests.helpers import define_role, stage, user_with_role

MONEY_KEYS = {"amount", "weighted", "amount_sum", "weighted_sum", "weighted_amount", "budget"}


def money_keys(value) -> set:
    """Every money key anywhere in an answer."""
    if isinstance(value, dict):
        found = MONEY_KEYS & set(value)
        for item in value.values():
            found |= money_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(money_keys(v) for v in value)) if value else set()
    return set()


class Months:
    def __init__(self, ctx):
        self.m0 = money.month_start(money.local_today(ctx))
        self.m1, self.m2, self.m3 = (money.add_months(self.m0, n) for n in (1, 2, 3))
        self.labels = [money.period_label(m) for m in (self.m0, self.m1, self.m2)]

    @staticmethod
    def day(month: dt.date, number: int) -> dt.date:
        return month.replace(day=number)


def put(org, key, owner, stage_name, amount, close, category="pipeline", probability=None,
        account="acme", division="IA", **extra):
    st = stage(org, stage_name, division)
    now = org.clock.now
    values = {"name": f"deal {key}", "account": org.accounts[account].id,
              "division": org.divisions[division].id, "owner": org.id(owner),
              "pipeline": st.pipeline_id, "stage": st.id,
              "amount": None if amount is None else decimal.Decimal(amount),
              "expected_close": close, "forecast_category": category,
              "probability": probability, "created_at": now, "updated_at": now,
              "stage_entered_at": now, **extra}
    if st.kind != "open":
        values.update(closed_at=now, cycle_seconds=0)
    return Opportunity.insert(values).execute()


@pytest.fixture
def deals(org):
    define_role("sales_director", [
        ("model/opportunity", "read"), ("scope/opportunity", "read:division"),
        ("model/forecast_snapshot", "read"), ("scope/forecast_snapshot", "read:division"),
        ("model/base_user", "read"), ("scope/base_user", "read:all"),
        ("model/base_department", "read"), ("scope/base_department", "read:all"),
        ("model/pipeline_stage", "read")])
    user_with_role(org, "head", "sales_director")
    m = Months(org.ctx("rep1"))
    ids = {
        "a": put(org, "a", "rep1", "初步接触", "100000.00", m.day(m.m0, 15)),
        "b": put(org, "b", "rep1", "报价谈判", "333333.33", m.day(m.m0, 20), "commit"),
        "c": put(org, "c", "rep1", "方案演示", "80000.10", m.day(m.m1, 5), "best_case", 35),
        "d": put(org, "d", "rep1", "需求确认", "55555.55", m.day(m.m2, 28), "omitted"),
        "e": put(org, "e", "rep2", "报价谈判", "200000.00", m.day(m.m0, 1), "commit",
                 account="bolt"),
        "f": put(org, "f", "rep2", "方案演示", "12345.67", money.month_end(m.m1),
                 account="bolt"),
        "g": put(org, "g", "rep3", "需求确认", "99999.99", m.day(m.m1, 10), "best_case",
                 account="crane"),
        "h": put(org, "h", "rep3", "赢单", "150000.00", m.day(m.m0, 3), "commit",
                 account="crane"),
        "i": put(org, "i", "rep1", "初步接触", "10000.00", None),
        "j": put(org, "j", "rep2", "初步接触", "70000.00", m.m3, account="bolt"),
        "k": put(org, "k", "rep1", "输单", "90000.00", m.day(m.m0, 12), lost_reason="价格"),
        "l": put(org, "l", "mgr", "报价谈判", None, m.day(m.m2, 3), "commit", account="dyna"),
        "m": put(org, "m", "md_rep", "报价谈判", "400000.00", m.day(m.m0, 9), "commit",
                 account="med", division="MD"),
    }
    return m, ids


def run(ctx, groups, m):
    return fc.forecast(ctx, groups, m.m0, money.month_end(m.m2))


def fig(count, amount=None, weighted=None):
    out = {"count": count}
    if amount is not None:
        out["amount"] = amount
    if weighted is not None:
        out["weighted"] = weighted
    return out


def test_by_month_for_the_whole_division(org, deals):
    m, _ = deals
    result = run(org.ctx("head"), ["month"], m)
    assert [(r["month"], r["count"], r["amount"], r["weighted"]) for r in result["rows"]] == [
        (m.labels[0], 3, "633333.33", "410000.00"),
        (m.labels[1], 3, "192345.76", "59172.87"),
        (m.labels[2], 1, "0.00", "0.00"),
    ]
    assert result["total"] == fig(7, "825679.09", "469172.87")


def test_by_owner_and_by_team(org, deals):
    m, _ = deals
    owners = run(org.ctx("head"), ["owner"], m)
    assert {r["owner_name"]: (r["count"], r["amount"], r["weighted"])
            for r in owners["rows"]} == {
        "李娜": (3, "513333.43", "288000.03"),
        "刘洋": (2, "212345.67", "156172.84"),
        "赵敏": (1, "99999.99", "25000.00"),
        "王经理": (1, "0.00", "0.00"),
    }
    teams = run(org.ctx("head"), ["team"], m)
    assert {r["team_name"]: (r["count"], r["amount"], r["weighted"]) for r in teams["rows"]} == {
        "IA-S1": (6, "725679.10", "444172.87"),
        "IA-S2": (1, "99999.99", "25000.00"),
    }
    assert owners["total"] == teams["total"] == fig(7, "825679.09", "469172.87")


def test_by_category_reports_omitted_but_keeps_it_out_of_the_total(org, deals):
    m, _ = deals
    result = run(org.ctx("head"), ["category"], m)
    assert {r["category"]: (r["count"], r["amount"], r["weighted"])
            for r in result["rows"]} == {
        "commit": (3, "533333.33", "400000.00"),
        "best_case": (2, "180000.09", "53000.03"),
        "pipeline": (2, "112345.67", "16172.84"),
        "omitted": (1, "55555.55", "13888.89"),
    }
    assert result["total"] == fig(7, "825679.09", "469172.87")


def test_rolling_three_months(org, deals):
    m, _ = deals
    result = fc.rolling(org.ctx("head"))
    assert (result["from"], result["to"]) == (m.labels[0], m.labels[2])
    first, second, third = result["months"]
    assert first["categories"]["commit"] == fig(2, "533333.33", "400000.00")
    assert first["categories"]["pipeline"] == fig(1, "100000.00", "10000.00")
    assert first["categories"]["best_case"] == fig(0, "0.00", "0.00")
    assert first["forecast"] == fig(3, "633333.33", "410000.00")
    assert first["closed_won"] == fig(1, "150000.00")
    assert second["categories"]["best_case"] == fig(2, "180000.09", "53000.03")
    assert second["categories"]["pipeline"] == fig(1, "12345.67", "6172.84")
    assert second["forecast"] == fig(3, "192345.76", "59172.87")
    assert second["closed_won"] == fig(0, "0.00")
    assert third["categories"]["omitted"] == fig(1, "55555.55", "13888.89")
    assert third["forecast"] == fig(1, "0.00", "0.00")


def test_each_caller_sees_their_scope(org, deals):
    m, _ = deals
    rep1 = run(org.ctx("rep1"), ["month"], m)
    assert [(r["count"], r["amount"], r["weighted"]) for r in rep1["rows"]] == [
        (2, "433333.33", "260000.00"), (1, "80000.10", "28000.04")]
    mgr = run(org.ctx("mgr"), ["owner"], m)  # self + rep1 + rep2, not rep3
    assert {r["owner_name"] for r in mgr["rows"]} == {"李娜", "刘洋", "王经理"}
    assert mgr["total"] == fig(6, "725679.10", "444172.87")
    admin = run(org.ctx("admin"), ["month"], m)  # admin: every division
    assert admin["rows"][0] == {"month": m.labels[0], **fig(4, "1033333.33", "710000.00")}
    md = run(org.ctx("md_rep"), ["month"], m)
    assert md["total"] == fig(1, "400000.00", "300000.00")


def test_a_role_that_cannot_read_amount_gets_counts_only(org, deals):
    m, _ = deals
    ctx = org.ctx("pre")
    for groups in (["month"], ["owner", "category"], ["team"]):
        result = run(ctx, groups, m)
        assert money_keys(result) == set()
        assert result["total"] == {"count": 7}
    rolling = fc.rolling(ctx)
    assert money_keys(rolling) == set()
    assert rolling["months"][0]["forecast"] == {"count": 3}


def test_grouping_is_checked(org, deals):
    m, _ = deals
    with pytest.raises(APIError) as err:
        run(org.ctx("head"), ["weekday"], m)
    assert err.value.status_code == 400


def test_snapshot_and_variance_against_actual_wins(org, deals):
    m, ids = deals
    system = org.system()
    stored = take_snapshot(system)
    assert take_snapshot(system) == stored  # rerun the same day: replaced, not doubled
    today = money.local_today(system)
    assert ForecastSnapshot.select().where(ForecastSnapshot.taken_on == today).count() == stored
    # close the month: b is won, e is lost (h was won already)
    move(org.ctx("rep1"), ids["b"], {"stage": stage(org, "赢单").id})
    move(org.ctx("rep2"), ids["e"], {"stage": stage(org, "输单").id, "lost_reason": "预算取消"})
    result = variance(org.ctx("head"), m.labels[0], today)
    rows = {r["owner_name"]: r for r in result["rows"]}
    assert set(rows) == {"李娜", "刘洋", "赵敏"}
    assert rows["李娜"]["forecast"]["commit"] == fig(1, "333333.33")
    assert rows["李娜"]["forecast"]["pipeline"] == fig(1, "100000.00")
    assert rows["李娜"]["forecast"]["weighted"] == "260000.00"
    assert rows["李娜"]["actual"] == fig(1, "333333.33")
    assert rows["李娜"]["variance"] == {"vs_commit": "0.00", "vs_weighted": "73333.33"}
    assert rows["刘洋"]["variance"] == {"vs_commit": "-200000.00", "vs_weighted": "-150000.00"}
    assert rows["赵敏"]["forecast"]["count"] == 0
    assert rows["赵敏"]["variance"] == {"vs_commit": "150000.00", "vs_weighted": "150000.00"}
    total = result["total"]
    assert total["forecast"]["commit"] == fig(2, "533333.33")
    assert total["forecast"]["weighted"] == "410000.00"
    assert total["actual"] == fig(2, "483333.33")
    assert total["variance"] == {"vs_commit": "-50000.00", "vs_weighted": "73333.33"}
    mine = variance(org.ctx("rep1"), m.labels[0], today)  # own snapshot rows and wins only
    assert [r["owner_name"] for r in mine["rows"]] == ["李娜"]
    with pytest.raises(APIError) as err:  # presales holds no right on snapshots
        variance(org.ctx("pre"), m.labels[0], today)
    assert err.value.status_code == 403
    define_role("director_no_money", [
        ("model/opportunity", "read"), ("scope/opportunity", "read:division"),
        ("field/opportunity/amount", "hidden"),
        ("model/forecast_snapshot", "read"), ("scope/forecast_snapshot", "read:division")])
    user_with_role(org, "head2", "director_no_money")
    blind = variance(org.ctx("head2"), m.labels[0], today)
    assert money_keys(blind) == set() and "variance" not in blind["total"]
    assert blind["total"]["actual"] == {"count": 2}


def test_variance_defaults_to_the_snapshot_going_into_the_month(org, deals):
    m, _ = deals
    take_snapshot(org.system())
    first_day = money.local_today(org.system())
    assert snapshot_dates(org.ctx("rep1")) == [first_day.isoformat()]
    with pytest.raises(APIError) as err:  # no snapshot on or before m0's first day
        variance(org.ctx("head"), m.labels[0])
    assert err.value.status_code == 404
    result = variance(org.ctx("head"), m.labels[1])  # taken before m1 began
    assert result["taken_on"] == first_day.isoformat()
    assert result["total"]["forecast"]["best_case"] == fig(2, "180000.09")
    assert result["total"]["forecast"]["pipeline"] == fig(1, "12345.67")
    assert result["total"]["actual"] == fig(0, "0.00")
