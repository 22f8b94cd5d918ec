"""The security door's cost on its most expensive read: a page of 50 contacts — a scoped model
(visibility follows the account's owner) with AES-GCM encrypted channels that the restricted
role sees masked — as the restricted user (`bench_masked_rep`), as the administrator, and as a
bare peewee query of the restricted user's rows. Goal: restricted ≥ 0.9 × admin and ≥ 0.8 × bare.
"""
from __future__ import annotations

import requests

from bench.context import Run, get, size_label


def _check_masked(run: Run) -> None:
    """The figure is only meaningful if the door really masks: look at one page."""
    answer = requests.get(run.huike.base_url + "/api/v1/contacts?limit=5", timeout=30,
                          headers={"Authorization": f"Bearer {run.tokens['bench_masked']}"})
    items = answer.json().get("items", []) if answer.status_code == 200 else []
    mobiles = [item.get("mobile") for item in items if item.get("mobile")]
    if not items or not all("*" in m for m in mobiles):
        run.report.note(f"security_list: restricted page not masked as expected "
                        f"({answer.status_code}, mobiles {mobiles[:2]})")


def run(run: Run, size: int) -> None:
    label = size_label(size)
    scenario = f"security@{label}"
    url = run.huike.base_url
    _check_masked(run)
    bare = run.rate(scenario, "bare contacts 50 rows JSON", run.bare.base_url,
                    lambda i: get(f"/bare/contacts?owner={run.org.masked_id}"),
                    server=run.bare)
    admin = run.rate(scenario, "contacts list 50 (admin)", url,
                     lambda i: get("/api/v1/contacts?limit=50"), token=run.tokens["admin"],
                     baseline=bare, server=run.huike)
    restricted = run.rate(scenario, "contacts list 50 (restricted, masked)", url,
                          lambda i: get("/api/v1/contacts?limit=50"),
                          token=run.tokens["bench_masked"], baseline=admin, server=run.huike)
    run.report.add(scenario, "contacts list 50 (restricted) vs bare",
                   restricted.value, "req/s", baseline=bare)
    per_cpu(run, scenario, bare, admin, restricted)


def per_cpu(run: Run, scenario: str, bare, admin, restricted) -> None:
    """The same comparison in requests per server CPU-second: what each request costs the
    server, independent of the client and of anything else the host runs (on a 2-core host
    the load generator shares the CPUs, so req/s moves ±30% from run to run)."""
    if not all(row.cpu_per_request_ms for row in (bare, admin, restricted)):
        return
    rates = {name: 1000 / row.cpu_per_request_ms for name, row in
             (("bare", bare), ("admin", admin), ("restricted", restricted))}
    for name in ("bare", "admin"):
        run.report.add(scenario, f"{name} per server CPU-second", rates[name], "req/CPU-s")
    for name in ("admin", "bare"):
        run.report.add(scenario, f"restricted per server CPU-second vs {name}",
                       rates["restricted"], "req/CPU-s",
                       baseline=(f"{name} per server CPU-second", rates[name]))
