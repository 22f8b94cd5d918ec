"""The security and leads helpers' own benchmark scripts (`bench/bench_*.py`) as scenarios.

Each runs in its own process with its own throwaway install (on PostgreSQL, in a fresh schema
of the same database), so it cannot disturb the main run. Every figure line it prints
(`label  123,456 ops/s`, `label: 12.3 ms`) becomes a table row; the full output is kept in the
run's output folder. A script that does not exist yet is skipped with a note."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.report import parse_figures
from bench.stack import ROOT, child_env

BENCH_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Script:
    file: str
    args: tuple[str, ...]
    summary: str
    parse: Callable[[str], list[Figure]] | None = None  # default: every figure line


# (measure, value, unit, baseline label, baseline value)
Figure = tuple[str, float, str, str, "float | None"]


def generic(output: str) -> list[Figure]:
    return [(label, value, unit, "", None) for label, value, unit in parse_figures(output)]


def leads_import(output: str) -> list[Figure]:
    """bench_leads_import prints a header and one row: backend, rows, import rows/s, bare
    insert_many rows/s, ratio, seconds, counts."""
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 5 and cells[0] in ("SQLite", "PostgreSQL"):
            rows, full, bare = (float(c.replace(",", "")) for c in cells[1:4])
            return [(f"lead import, {rows:,.0f} rows (full pipeline)", full, "rows/s",
                     "bare insert_many", bare)]
    return []



def leads_capture(output: str) -> list[Figure]:
    """bench_leads_capture prints `p50 … ms   p90 … ms   p99 … ms` and `throughput N posts/s`."""
    found: list[Figure] = []
    for name in ("p50", "p99"):
        match = re.search(rf"\b{name}\s+([\d.]+)\s*ms", output)
        if match:
            found.append((f"web form capture → assigned, {name}", float(match.group(1)), "ms",
                          "", None))
    match = re.search(r"throughput\s+([\d,]+)\s+posts/s", output)
    if match:
        found.append(("web form captures", float(match.group(1).replace(",", "")), "posts/s",
                      "", None))
    return found


SCRIPTS = {
    "policy": Script("bench_policy.py", ("--seconds", "2"),
                     "permission decisions per second: compiled table vs raw Casbin"),
    "crypto": Script("bench_crypto.py", ("--ops", "20000", "--rows", "2000"),
                     "encrypted fields: encrypt/decrypt, blind index, model rows, rotation"),
    "audit": Script("bench_audit.py", ("--appends", "2000"),
                    "audit chain: appends per second and verify rows per second"),
    "leads_import": Script("bench_leads_import.py", ("--rows", "20000"),
                           "lead import rows/s beside bare insert_many", leads_import),
    "leads_capture": Script("bench_leads_capture.py", ("--posts", "1000", "--warmup", "100"),
                            "lead capture → assignment latency", leads_capture),
}


def _accepts_database_url(path: Path) -> bool:
    try:
        helped = subprocess.run([sys.executable, str(path), "--help"], capture_output=True,
                                text=True, timeout=60, cwd=ROOT, env=child_env())
    except subprocess.TimeoutExpired:
        return False
    return "--database-url" in helped.stdout


def runner(name: str):
    spec = SCRIPTS[name]

    def run(run) -> None:
        path = BENCH_DIR / spec.file
        if not path.exists():
            run.report.note(f"{name}: skipped, bench/{spec.file} does not exist (yet)")
            return
        argv = [sys.executable, str(path), *spec.args]
        if run.opts.database not in ("", "sqlite"):
            if _accepts_database_url(path):
                argv += ["--database-url", run.opts.database]
            else:
                run.report.note(f"{name}: bench/{spec.file} has no --database-url; ran on SQLite")
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=child_env(),
                              timeout=1800)
        elapsed = time.perf_counter() - started
        output = done.stdout + ("\n" + done.stderr if done.returncode else "")
        if run.out_dir is not None:
            (run.out_dir / f"{name}.txt").write_text(output, encoding="utf-8")
        if done.returncode != 0:
            tail = " | ".join(output.strip().splitlines()[-3:])
            run.report.note(f"{name}: bench/{spec.file} failed ({done.returncode}): {tail[:400]}")
            return
        figures = (spec.parse or generic)(done.stdout)
        for label, value, unit, base_label, base_value in figures:
            run.report.add(name, label, value, unit,
                           baseline=(base_label, base_value) if base_value else None)
        if not figures:
            run.report.note(f"{name}: bench/{spec.file} printed no figure lines")
        run.report.note(f"{name}: bench/{spec.file} took {elapsed:.0f} s")

    return run
