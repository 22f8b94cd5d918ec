"""What the figures came from: CPU, cores, memory, OS, Python, database and library versions,
and the load average (other work on the machine makes every figure noisy: say so)."""
from __future__ import annotations

import os
import platform
import sqlite3
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * size / 2**30:.1f} GiB"
    except (ValueError, OSError):
        return "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def database_version(database_url: str) -> str:
    if not database_url.startswith("postgres"):
        return f"SQLite {sqlite3.sqlite_version} (WAL)"
    import psycopg2

    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0]}"
    finally:
        conn.close()


def describe(database_url: str) -> dict:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return {
        "cpu": f"{_cpu_model()} × {os.cpu_count()} cores",
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "database": database_version(database_url),
        "libraries": f"tornado {version('tornado')}, peewee {version('peewee')}, "
                     f"aiohttp {version('aiohttp')}",
        "load avg": f"{load_average()} (at start)",
    }
