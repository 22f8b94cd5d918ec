"""What binding a parameter costs in `sqlite3`, by type — why `core.db` registers adapters for
`None` and `bool` (`_bind_plain_values_directly`):

    /tmp/venv/bin/python bench/bench_sqlite_bind.py

`executemany` of 40-column rows into an in-memory table without indexes, every column the same
type, in one run: exact int / str are bound directly; any other type first goes through
sqlite3's adapter search (a `(type, protocol)` key, a registry miss, `__adapt__` and
`__conform__` lookups) unless an adapter is registered for it. Printed: µs a row and the ratio
to the int rows measured in the same run.
"""
from __future__ import annotations

import sqlite3
import time

COLUMNS = 40
ROWS = 50_000


def per_row(connection: sqlite3.Connection, sql: str, value) -> float:
    """µs a row to insert ROWS rows of COLUMNS copies of `value` (best of three)."""
    rows = [[value] * COLUMNS for _ in range(ROWS)]
    best = float("inf")
    for _ in range(3):
        connection.execute("DELETE FROM t")
        connection.execute("BEGIN")
        started = time.perf_counter()
        connection.executemany(sql, rows)
        best = min(best, time.perf_counter() - started)
        connection.execute("COMMIT")
    return best / ROWS * 1e6


def main() -> None:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.execute("CREATE TABLE t (" + ", ".join(f"c{i}" for i in range(COLUMNS)) + ")")
    sql = "INSERT INTO t VALUES (" + ", ".join("?" for _ in range(COLUMNS)) + ")"
    key_none = (type(None), sqlite3.PrepareProtocol)
    key_bool = (bool, sqlite3.PrepareProtocol)
    saved = {key: sqlite3.adapters.pop(key) for key in (key_none, key_bool)
             if key in sqlite3.adapters}  # measure sqlite3's own behaviour first
    try:
        figures = {"int": per_row(connection, sql, 1),
                   "str (ASCII)": per_row(connection, sql, "abcdefghij"),
                   "None": per_row(connection, sql, None),
                   "bool": per_row(connection, sql, False)}
        sqlite3.register_adapter(type(None), {}.get)
        sqlite3.register_adapter(bool, int)
        figures["None, adapter registered"] = per_row(connection, sql, None)
        figures["bool, adapter registered"] = per_row(connection, sql, False)
    finally:
        for key in (key_none, key_bool):
            sqlite3.adapters.pop(key, None)
        sqlite3.adapters.update(saved)
    base = figures["int"]
    print(f"{'40 parameters of':<26} {'µs a row':>9} {'× int':>6}")
    for name, micros in figures.items():
        print(f"{name:<26} {micros:>9.2f} {micros / base:>6.1f}")


if __name__ == "__main__":
    main()
