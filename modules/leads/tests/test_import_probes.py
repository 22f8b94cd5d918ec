"""The import's per-batch duplicate lookups (`importer.sql.leads_holding`,
`contacts_holding`) probe the blind indexes on both databases. On PostgreSQL the planner
would rather scan the whole lead table for a batch's few thousand values (118 ms a batch at
300k leads); `_probing` prices the scan out for that statement only."""
from __future__ import annotations

from core.db import atomic, database, is_postgres
from modules.leads.importer import sql
from modules.leads.models import Lead
from modules.leads.tests.capture_org import *  # noqa: F401,F403  (the org fixture)


def _leads(org, count: int) -> None:
    division = org.divisions["IA"].id
    Lead.insert_many([{"division": division, "name": f"客户{n}", "mobile": f"1380013{n:04d}",
                       "email": f"c{n}@example.com"} for n in range(count)]).execute()
    if is_postgres():  # statistics of a small table: without `_probing` PostgreSQL would scan
        database.execute_sql(f'ANALYZE "{Lead._meta.table_name}"')


def _plans(monkeypatch) -> list[str]:
    """Capture the plan of each lookup instead of running it."""
    plans: list[str] = []
    prefix = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "

    def explain(text, params):
        rows = database.execute_sql(prefix + text, params).fetchall()
        plans.append("\n".join(" ".join(str(cell) for cell in row) for row in rows))
        return []

    monkeypatch.setattr(sql, "_fetch", explain)
    return plans


def _seqscan() -> str:
    return database.execute_sql("SHOW enable_seqscan").fetchone()[0]


def test_batch_lookups_use_the_blind_indexes_and_leave_the_planner_as_it_was(org, monkeypatch):
    _leads(org, 300)
    wanted = {"mobile_bidx": {Lead.mobile_bidx.compute(f"1390013{n:04d}")
                              for n in range(50)},
              "email_bidx": {Lead.email_bidx.compute(f"d{n}@example.com")
                             for n in range(50)},
              "wechat_bidx": set()}
    plans = _plans(monkeypatch)
    with atomic():
        before = _seqscan() if is_postgres() else None
        sql.leads_holding(org.divisions["IA"].id, wanted)
        sql.contacts_holding(wanted)
        if is_postgres():
            assert _seqscan() == before == "on"  # reset right after the statement
    assert len(plans) == 2
    for plan, table in zip(plans, ("leads_lead", "contacts_contact")):
        assert "Index" in plan or "INDEX" in plan, plan
        assert f"Seq Scan on {table}" not in plan and f"SCAN {table}\n" not in plan + "\n", plan


def test_batch_lookups_find_the_leads_holding_the_values(org):
    _leads(org, 30)
    mobile = Lead.mobile_bidx.compute("+86 138-0013-0007")
    email = Lead.email_bidx.compute("C12@Example.com")
    with atomic():
        found = sql.leads_holding(org.divisions["IA"].id,
                                  {"mobile_bidx": {mobile}, "email_bidx": {email},
                                   "wechat_bidx": set()})
    names = {Lead.get_by_id(row[0]).name for row in found}
    assert names == {"客户7", "客户12"}
