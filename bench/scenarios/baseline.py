"""Baselines measured in the same run: tornado's hello world and a bare peewee list of 50 rows
as JSON, both served by `bench.baseline_server` on the same database as Huike."""
from __future__ import annotations

from bench.context import Run, get


def run(run: Run) -> None:
    url = run.bare.base_url
    hello = run.rate("baseline", "tornado hello-world", url, lambda i: get("/hello"),
                     key="hello")
    if run.has_module("contacts"):
        run.rate("baseline", "bare peewee list 50 rows JSON", url,
                 lambda i: get("/bare/accounts"), baseline=hello, key="bare_list")
    else:
        run.report.note("baseline: bare list skipped (contacts module not installed)")
