"""What a lead row's width and its bound parameters cost SQLite — why score breakdowns are
stored by reference (`modules.leads.breakdown`) and an import batch binds only its varying
columns (`importer.sql.InsertPlan.insert`):

    /tmp/venv/bin/python bench/bench_lead_rows.py [--rows 100000]

Imports `--rows` generated leads (`bench_leads_import`'s file and install), reads the finished
rows back, and re-inserts them with `executemany` — batches of 2,000, 20,000 a commit, like the
import — into an empty copy of `leads_lead`, four ways: the breakdown as a pointer (as stored
now) or expanded to its full JSON (as stored before), each with every index of the table and
with the primary key only; plus every column bound against the batch's constant columns
written into the statement. Printed: µs a row, best of two, and the ratio to the first line.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.bench_leads_import as leads_bench  # noqa: E402


def imported(rows: int) -> tuple[Path, Path]:
    """(data dir, database file) of a fresh install holding `rows` imported leads."""
    from core.db import database
    from modules.leads.importer import service
    from modules.leads.importer.run import execute
    from security.context import system_context

    registry, data_dir = leads_bench.install(None)
    division = leads_bench.org()
    path = data_dir / "leads.csv"
    leads_bench.generate(path, rows)
    ctx = system_context(registry, via="import")
    run, _ = service.start(ctx, path, path.name, {"policy": "skip"}, division.id)
    execute(ctx, run.id)
    database.close()
    return data_dir, data_dir / "huike.db"


def expanded(rows: list[tuple], column: int) -> list[tuple]:
    """The rows with their breakdown pointer replaced by the full JSON it points at."""
    import json

    from modules.leads.breakdown import expand

    return [row[:column] + (json.dumps(expand(json.loads(row[column])), ensure_ascii=False,
                                       sort_keys=True),) + row[column + 1:] for row in rows]


def reinsert(con: sqlite3.Connection, rows: list, indexes: list[str], sql: str) -> float:
    """µs a row to write `rows` into an empty copy of leads_lead with `indexes` (best of 2)."""
    best = float("inf")
    for _ in range(2):
        con.execute("DROP TABLE IF EXISTS t")
        con.execute("CREATE TABLE t AS SELECT * FROM leads_lead WHERE 0")
        for index in indexes:
            con.execute(index.replace('"leads_lead_', '"t_').replace('ON "leads_lead"', 'ON "t"'))
        started = time.perf_counter()
        for group in range(0, len(rows), 20_000):
            con.execute("BEGIN")
            for at in range(group, min(group + 20_000, len(rows)), 2000):
                con.executemany(sql, rows[at:at + 2000])
            con.execute("COMMIT")
        best = min(best, time.perf_counter() - started)
    con.execute("DROP TABLE t")
    return best / len(rows) * 1e6


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    data_dir, path = imported(args.rows)
    try:
        con = sqlite3.connect(str(path), isolation_level=None)
        con.execute("PRAGMA cache_size = -262144")
        columns = [r[1] for r in con.execute('PRAGMA table_info("leads_lead")')][1:]
        rows = con.execute(f'SELECT {", ".join(columns)} FROM "leads_lead" '
                           f'ORDER BY "id"').fetchall()
        indexes = [r[0] for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads_lead' "
            "AND sql IS NOT NULL")]
        full = expanded(rows, columns.index("score_breakdown"))
        every = f'INSERT INTO t ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        same = [i for i in range(len(columns)) if len({r[i] for r in rows[:5000]}) == 1]
        vary = [i for i in range(len(columns)) if i not in same]
        some = (f'INSERT INTO t ({", ".join(columns[i] for i in vary + same)}) VALUES '
                f'({", ".join(["?"] * len(vary) + [literal(rows[0][i]) for i in same])})')
        narrow = [tuple(r[i] for i in vary) for r in rows]
        size = sum(len(r[columns.index("score_breakdown")].encode()) for r in rows) / len(rows)
        wide = sum(len(r[columns.index("score_breakdown")].encode()) for r in full) / len(full)
        print(f"{len(rows):,} imported leads; breakdown {size:.0f} bytes as stored, "
              f"{wide:.0f} expanded; {len(same)} of {len(columns)} columns constant")
        lines = [("full breakdown JSON, every index, all bound", full, indexes, every),
                 ("pointer, every index, all bound", rows, indexes, every),
                 ("pointer, every index, constants in the SQL", narrow, indexes, some),
                 ("full breakdown JSON, primary key only", full, [], every),
                 ("pointer, primary key only", rows, [], every)]
        first = None
        for label, data, chosen, sql in lines:
            cost = reinsert(con, data, chosen, sql)
            first = first or cost
            print(f"  {label:<46} {cost:6.1f} µs a row  ({cost / first:.2f})")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
