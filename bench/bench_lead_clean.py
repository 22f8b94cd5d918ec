"""What the import's worker process spends a row on before encryption: `batch.clean_rows`
(`validation.clean` of every mapped cell — phone, e-mail, source, region, budget, company
key) over `bench_leads_import`'s generated file:

    /tmp/venv/bin/python bench/bench_lead_clean.py [--rows 20000]

Prints µs a row, best of five passes. Compare trees by running it in each (`git worktree`).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.bench_leads_import as leads_bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    from modules.leads.importer import service
    from modules.leads.importer.batch import clean_rows
    from modules.leads.importer.reader import open_table
    from modules.leads.importer.run import _spec
    from modules.leads.validation import Refs
    from security.context import system_context

    with leads_bench.installed(None) as (registry, data_dir):
        division = leads_bench.org()
        path = data_dir / "leads.csv"
        leads_bench.generate(path, args.rows)
        ctx = system_context(registry, via="import")
        run, _ = service.start(ctx, path, path.name, {"policy": "skip"}, division.id)
        spec, refs = _spec(run, run.headers), Refs.load()
        rows = list(open_table(path).rows())
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            clean_rows(spec, refs, rows, [])
            best = min(best, time.perf_counter() - started)
        print(f"clean_rows: {best / len(rows) * 1e6:.2f} µs a row ({len(rows):,} rows, best of 5)")


if __name__ == "__main__":
    main()
