"""What a large SQLite lead import costs the other writers of the same database, and what it
gains from long commit groups — the two ways of ending an import's commit group, in one run:

    /tmp/venv/bin/python bench/bench_import_neighbours.py [--rows 300000] [--every 0.05]

- "fixed": the rule before 2026-12-05 — a group ends at 20,000 rows or 1.5 s of write lock;
- "yield" (`importer.run._group_ends`): the same bounds, and a group ends after the batch in
  hand as soon as another writer waits in the writer queue (`core.writer_queue.
  writers_waiting`).

Each mode imports the same generated file (`bench_leads_import.generate`) into a fresh
install, first alone (rows/s) and then again into another fresh install beside a
*neighbour*: a separate process that, like a server's request thread, waits in the writer
queue (blocked in `flock`), then writes one row in its own transaction every `--every`
seconds. Printed: import rows/s alone and beside the neighbour, and the neighbour's write
latency (queue wait + transaction) p50 / p99 / max in ms.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.bench_leads_import as leads_bench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEIGHBOUR = """
    import sqlite3, sys, time
    from core.writer_queue import leave_writer_queue, writer_queue
    path, every = sys.argv[1], float(sys.argv[2])
    con = sqlite3.connect(path, isolation_level=None, timeout=60)
    con.execute("CREATE TABLE IF NOT EXISTS bench_neighbour (at REAL)")
    print("ready", flush=True)
    waits = []
    while not sys.stdin.readline().strip() == "stop":  # one line from the bench: one write
        started = time.perf_counter()
        handle = writer_queue(path, 60)
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO bench_neighbour VALUES (?)", (started,))
        con.execute("COMMIT")
        leave_writer_queue(handle)
        waits.append(time.perf_counter() - started)
    print(" ".join(f"{w:.6f}" for w in waits), flush=True)
"""


def fixed_groups(taken: int, group: int, started: float) -> bool:
    """The group rule before yielding: the same bounds (`leads.import_commit_rows` rows or
    `GROUP_SECONDS`), so the pair differs in the yielding alone."""
    from modules.leads.importer.run import GROUP_SECONDS

    return taken >= group or time.monotonic() - started >= GROUP_SECONDS


def one_import(rows: int, path: Path, every: float | None) -> tuple[float, list]:
    """rows/s of importing `rows` generated leads into a fresh install (the file made once,
    at `path`), with a neighbour writing every `every` seconds when given; and the
    neighbour's latencies (s)."""
    import threading

    from core.db import _sqlite_file
    from modules.leads.importer import service
    from modules.leads.importer.run import execute
    from security.context import system_context

    with leads_bench.installed(None) as (registry, data_dir):
        division = leads_bench.org()
        file = data_dir / "leads.csv"
        if path.exists():
            shutil.copy(path, file)
        else:
            leads_bench.generate(file, rows)
            shutil.copy(file, path)
        ctx = system_context(registry, via="import")
        neighbour = None
        if every:
            neighbour = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(NEIGHBOUR), _sqlite_file(), str(every)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert neighbour.stdout.readline().strip() == "ready"
        done = threading.Event()

        def tick():
            while not done.wait(every):
                neighbour.stdin.write("write\n")
                neighbour.stdin.flush()

        ticker = threading.Thread(target=tick, daemon=True) if every else None
        started = time.perf_counter()
        run, _ = service.start(ctx, file, file.name, {"policy": "skip"}, division.id)
        if ticker:
            ticker.start()
        execute(ctx, run.id)
        seconds = time.perf_counter() - started
        waits: list = []
        if neighbour:
            done.set()
            ticker.join()
            out, _ = neighbour.communicate("stop\n", timeout=600)
            waits = [float(w) for w in out.split()]
        return rows / seconds, waits


def percentile(values: list, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    from modules.leads.importer import run as run_module

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--every", type=float, default=0.05,
                        help="seconds between the neighbour's writes (default 0.05)")
    args = parser.parse_args()
    yielding = run_module._group_ends
    file = Path(tempfile.mkdtemp(prefix="huike-neighbours-")) / "leads.csv"
    print(f"{'groups':<7} {'alone rows/s':>12} {'beside rows/s':>13} "
          f"{'neighbour ms p50 / p99 / max':>30} {'writes':>6}")
    try:
        for name, rule in (("fixed", fixed_groups), ("yield", yielding)):
            run_module._group_ends = rule
            alone, _ = one_import(args.rows, file, None)
            beside, waits = one_import(args.rows, file, args.every)
            ms = [w * 1000 for w in waits]
            print(f"{name:<7} {alone:>12,.0f} {beside:>13,.0f} "
                  f"{percentile(ms, .5):>10.1f} / {percentile(ms, .99):>6.1f} / "
                  f"{max(ms, default=float('nan')):>6.1f} {len(ms):>6}", flush=True)
    finally:
        run_module._group_ends = yielding
        shutil.rmtree(file.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
