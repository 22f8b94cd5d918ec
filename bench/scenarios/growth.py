"""Growth: the restricted user's list and search at every data size. The user owns the same
number of accounts at every size (spread over the whole table), so a flat cost means the
door's SQL scales with what the user can see, not with the table. Each row's baseline is the
same figure at the first size."""
from __future__ import annotations

from bench.context import Run, get, size_label
from bench.scenarios.api import SEARCH_WORDS


def run(run: Run, size: int) -> None:
    label = size_label(size)
    token = run.tokens["bench_rep"]
    url = run.huike.base_url
    for key, measure, make in (
            ("list", "accounts list 50 (restricted)", lambda i: get("/api/v1/accounts?limit=50")),
            ("search", "accounts search (restricted)",
             lambda i: get(f"/api/v1/accounts?q={SEARCH_WORDS[i % 20]}&limit=50"))):
        first = run.keep.get(f"growth_{key}")
        row = run.rate(f"growth@{label}", measure, url, make, token=token,
                       baseline=None if first is None else
                       (f"{first.measure.split(' (')[0]} @{first.scenario.split('@')[1]}",
                        first.value))
        run.keep.setdefault(f"growth_{key}", row)
