"""What a bulk load (`modules.leads.importer.bulkload`) costs the other users meanwhile: a
lookup of a lead by channel — a web-form capture's dedupe — with the lead table filled to
`--leads` rows in SQL, first with its indexes, then with the four random-key indexes dropped
as during a bulk load; then the time to build them again (the load's last step).

    python bench/bench_lead_bulk_lookups.py --leads 1000000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_lead_insert_select import fill  # noqa: E402
from bench.bench_leads_import import installed, org  # noqa: E402

LOOKUP = 'SELECT "id" FROM "leads_lead" WHERE "mobile_bidx" = ? OR "email_bidx" = ? LIMIT 5'


def lookups_ms(rounds: int = 7) -> list[float]:
    """Milliseconds of `rounds` lookups of values no lead holds (the whole search)."""
    from core.db import database

    spent = []
    for i in range(rounds):
        started = time.perf_counter()
        database.execute_sql(LOOKUP, (f"{i:016x}", f"{i:016x}")).fetchall()
        spent.append(1000 * (time.perf_counter() - started))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()
    from core.db import database
    from modules.leads.importer import bulkload
    from modules.leads.importer.run import bulk_session

    with installed(None) as (_registry, _data_dir):
        division = org().id
        columns = [c[1] for c in database.execute_sql("PRAGMA table_info(leads_lead)")][1:]
        with bulk_session():
            fill(columns, division, args.leads)
        for state in ("indexed", "bulk load (indexes dropped)"):
            if state != "indexed":
                for name in bulkload.index_names():
                    database.execute_sql(f'DROP INDEX "{name}"')
            spent = lookups_ms()
            print(f"{args.leads:,} leads, {state}: a lookup by channel "
                  f"{statistics.median(spent):.2f} ms (median of {len(spent)}, "
                  f"max {max(spent):.2f})")
        started = time.perf_counter()
        with bulk_session():
            bulkload.restore()
        print(f"the four indexes built again in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
