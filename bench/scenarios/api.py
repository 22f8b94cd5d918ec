"""Huike's own API as an administrator and as a restricted user (`sales_rep`, own records):
accounts list (50 rows), get, create and search; deals list and get when the opportunities
module is installed. Admin figures compare with the bare baselines, restricted ones with the
admin's."""
from __future__ import annotations

import random

from bench.context import Run, cycle, get, serial
from bench.names import CITIES

SEARCH_WORDS = list(CITIES[:20])


def _ids(model, owner: int | None, count: int = 500) -> list[int]:
    query = model.select(model.id)
    if owner is not None:
        query = query.where(model.owner == owner)
    ids = [row.id for row in query.order_by(model.id.desc()).limit(20_000)]
    random.Random(5).shuffle(ids)
    return ids[:count] or [0]


def _create(i: int):
    number = serial()
    return ("POST", "/api/v1/accounts",
            {"name": f"压测新建{number}号精密机械有限公司", "industry": "机械制造"}, (201,))


def run(run: Run) -> None:
    from modules.contacts.models import Account

    url, keep = run.huike.base_url, run.keep
    users = (("admin", "admin", None), ("restricted", "bench_rep", run.org.rep_id))
    bare_search = run.rate("api", "bare search 50 rows JSON", run.bare.base_url,
                           lambda i: get(f"/bare/accounts?q={SEARCH_WORDS[i % 20]}"),
                           key="bare_search")
    for who, login, owner in users:
        token = run.tokens[login]
        admin = who == "admin"
        ids = cycle(_ids(Account, owner))
        keep[f"list_{who}"] = run.rate(
            "api", f"accounts list 50 ({who})", url, lambda i: get("/api/v1/accounts?limit=50"),
            token=token, baseline=keep.get("bare_list") if admin else keep.get("list_admin"))
        keep[f"get_{who}"] = run.rate(
            "api", f"accounts get ({who})", url, lambda i: get(f"/api/v1/accounts/{ids(i)}"),
            token=token, baseline=keep.get("hello") if admin else keep.get("get_admin"))
        keep[f"search_{who}"] = run.rate(
            "api", f"accounts search ({who})", url,
            lambda i: get(f"/api/v1/accounts?q={SEARCH_WORDS[i % 20]}&limit=50"),
            token=token, baseline=bare_search if admin else keep.get("search_admin"))
        keep[f"create_{who}"] = run.rate(
            "api", f"accounts create ({who})", url, _create, token=token,
            baseline=None if admin else keep.get("create_admin"))
    if run.has_module("opportunities"):
        _deals(run)
    else:
        run.report.note("api: deals skipped (opportunities module not installed)")


def _deals(run: Run) -> None:
    from modules.opportunities.models import Opportunity

    url, keep = run.huike.base_url, run.keep
    bare = run.rate("api", "bare deals list 50 rows JSON", run.bare.base_url,
                    lambda i: get("/bare/opportunities"))
    for who, login, owner in (("admin", "admin", None), ("restricted", "bench_rep",
                                                          run.org.rep_id)):
        admin = who == "admin"
        ids = cycle(_ids(Opportunity, owner))
        keep[f"deals_list_{who}"] = run.rate(
            "api", f"deals list 50 ({who})", url,
            lambda i: get("/api/v1/opportunities?limit=50"), token=run.tokens[login],
            baseline=bare if admin else keep.get("deals_list_admin"))
        keep[f"deals_get_{who}"] = run.rate(
            "api", f"deals get ({who})", url, lambda i: get(f"/api/v1/opportunities/{ids(i)}"),
            token=run.tokens[login], baseline=None if admin else keep.get("deals_get_admin"))
