"""Load test, short form: 20 simulated reps × 15 s of the mixed workload (browse, search,
create, update, move deals) against `huike serve --processes 2` started by the harness on a
temp install (SQLite, or a schema in the test PostgreSQL database). The assertion is about
errors, not timing: there must be none. The default run is `python -m bench loadtest`
(200 users × 2 minutes, docs/benchmarks.md)."""
from __future__ import annotations

from bench import httpload
from bench.loadtest import run
from tests.support import TEST_PG_URL


def test_short_load_test_has_zero_errors():
    result = run(TEST_PG_URL or "sqlite", users=20, seconds=15, size=2000, processes=2,
                 max_requests=20_000)

    assert result.signed_in == 20, result.render()
    assert result.error_count == 0, result.render()
    for action in ("browse", "search", "create", "update", "move"):
        assert result.stats[action].count > 0, f"no {action} request ran:\n{result.render()}"


def test_driver_keeps_every_unexpected_answer(server):
    """The harness can fail: answers other than the accepted status are errors, each kept."""
    stats = httpload.measure(server.base_url,
                             lambda i: ("GET", f"/api/v1/no-such-route/{i}", None, (200,)),
                             seconds=5, max_requests=12, concurrency=3, warmup=0)

    assert stats.count == 0 and stats.error_count >= 12
    assert all(" → 404 " in line for line in stats.errors)
    assert len(stats.errors) == stats.error_count
