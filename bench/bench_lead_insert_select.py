"""Is binding the cost of the lead import's INSERT on SQLite? With the lead table filled to
`--leads` rows in SQL, 20k-row blocks alternate between the importer's way — `executemany` of
finished rows, every column bound from Python — and rows staged in an attached database
(written by another connection, as the import's worker process could) copied with one
`INSERT … SELECT` per 2,000 rows: no Python and no binding per row at all. Prints µs a row of
each, and of writing the staged rows. Same indexes, commit groups and connection settings
(`bulk_session`) as the import.

    python bench/bench_lead_insert_select.py --leads 1000000
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_leads_import import installed, org  # noqa: E402

BATCH, BLOCK, ROUNDS = 2000, 20_000, 6

# Rows shaped like imported leads: ciphertexts and 16-hex blind indexes (60% e-mail, 30%
# WeChat), 5,000 companies, 7 regions, 5 owners, adjacent import keys.
GENERATE = """WITH RECURSIVE s(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM s WHERE n < ?)
SELECT '2026-12-05 10:00:00', '2026-12-05 10:00:00', '王伟' || (n % 97),
 '示例' || (n % 5000) || '科技有限公司', 'k' || (n % 5000) || 'key', '经理',
 hex(randomblob(60)), lower(hex(randomblob(8))),
 CASE WHEN n % 10 < 6 THEN hex(randomblob(70)) END,
 CASE WHEN n % 10 < 6 THEN lower(hex(randomblob(8))) END,
 CASE WHEN n % 10 < 3 THEN hex(randomblob(50)) END,
 CASE WHEN n % 10 < 3 THEN lower(hex(randomblob(8))) END,
 'sem', '春季展', 1 + n % 7, '电子', CASE WHEN n % 2 = 0 THEN (n % 2000) * 1000 END,
 '想了解产品与报价', 'new', NULL, ?, 1 + n % 5, n % 60, 'p:' || (n % 200), 0,
 '2026-12-05 10:00:00', '2026-12-05 10:05:00', NULL, NULL, NULL, 0, '2026-12-05 10:00:00',
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed:' || printf('%010d', n), NULL, '{}'
FROM s"""


def fill(columns: list[str], division: int, leads: int) -> None:
    from core.db import atomic, database

    insert = f'INSERT INTO "leads_lead" ({", ".join(columns)}) {GENERATE}'
    for first in range(0, leads, 100_000):
        with atomic():
            database.execute_sql(insert, (first, min(first + 100_000, leads) - 1, division))


def generated(first: int, division: int) -> list[list]:
    from core.db import database

    return [list(row) for row in
            database.execute_sql(GENERATE, (first, first + BLOCK - 1, division)).fetchall()]


def measure(columns: list[str], division: int, first: int, stage_path: str) -> dict:
    """Seconds spent by each way over `ROUNDS` alternating blocks, and rows each took."""
    from core.db import atomic, database

    marks = ", ".join("?" for _ in columns)
    listed = ", ".join(columns)
    bound = (f'INSERT INTO "leads_lead" ({listed}) VALUES ({marks}) '
             f'ON CONFLICT ("import_key") DO NOTHING')
    copied = (f'INSERT INTO "leads_lead" ({listed}) SELECT {listed} FROM stage.rows '
              f'WHERE n BETWEEN ? AND ? ON CONFLICT ("import_key") DO NOTHING')
    stage = sqlite3.connect(stage_path, isolation_level=None)
    stage.execute("PRAGMA journal_mode = WAL")
    stage.execute("PRAGMA synchronous = OFF")
    stage.execute(f"CREATE TABLE rows (n INTEGER PRIMARY KEY, {listed})")
    database.execute_sql(f"ATTACH DATABASE '{stage_path}' AS stage")
    spent = {"bound": 0.0, "copied": 0.0, "staged": 0.0, "rows": ROUNDS * BLOCK}
    at = first
    for _ in range(ROUNDS):
        for way in ("bound", "copied"):
            rows = generated(at, division)
            if way == "copied":
                started = time.perf_counter()
                stage.execute("BEGIN")
                stage.executemany(f"INSERT INTO rows VALUES (?, {marks})",
                                  [[at + i, *row] for i, row in enumerate(rows)])
                stage.execute("COMMIT")
                spent["staged"] += time.perf_counter() - started
            started = time.perf_counter()
            with atomic():
                for offset in range(0, BLOCK, BATCH):
                    if way == "bound":
                        database.cursor().executemany(bound, rows[offset:offset + BATCH])
                    else:
                        database.execute_sql(copied, (at + offset, at + offset + BATCH - 1))
            spent[way] += time.perf_counter() - started
            at += BLOCK
    stage.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()
    from core.db import database
    from modules.leads.importer.run import bulk_session

    with installed(None) as (_registry, data_dir):
        division = org().id
        columns = [c[1] for c in database.execute_sql("PRAGMA table_info(leads_lead)")][1:]
        started = time.perf_counter()
        with bulk_session():
            fill(columns, division, args.leads)
            filled = time.perf_counter() - started
            spent = measure(columns, division, args.leads, str(data_dir / "stage.db"))
        per_row = {k: 1e6 * spent[k] / spent["rows"] for k in ("bound", "copied", "staged")}
        print(f"{args.leads:,} leads filled in {filled:.1f} s; the next "
              f"{2 * spent['rows']:,} rows:")
        print(f"  executemany, bound from Python: {per_row['bound']:.1f} µs a row")
        print(f"  INSERT … SELECT from staged rows: {per_row['copied']:.1f} µs a row "
              f"(ratio {per_row['copied'] / per_row['bound']:.2f}); staging them "
              f"{per_row['staged']:.1f} µs a row more")


if __name__ == "__main__":
    main()
