"""`python -m bench` / `huike bench`: the benchmark table, the load test and the fuzz run.

    python -m bench                                   # every scenario, SQLite, 10k/100k/1M
    python -m bench --sizes 10k --scenarios baseline,api
    python -m bench --database postgresql://postgres@127.0.0.1:5432/test
    python -m bench loadtest --users 200 --minutes 2  # the mixed-workload load test
    python -m bench fuzz                              # the long schemathesis run
    python -m bench list                              # the scenarios
    python -m bench --data-dir /srv/bench-tmp run ...  # throwaway installs go there

`--data-dir` (first, before the command) is where the throwaway installs are made (default: a
new temp folder); an existing Huike install is never touched.
"""
from __future__ import annotations

import argparse
import sys

from bench.context import Options
from bench.scenarios import DEFAULT

SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    if text[-1:] in SUFFIXES:
        return int(float(text[:-1]) * SUFFIXES[text[-1]])
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="汇客 Huike benchmarks: one table of figures with "
        "the baselines measured in the same run. Subcommands: loadtest, fuzz, list.")
    parser.add_argument("--scenarios", default=",".join(DEFAULT),
                        help="comma-separated (see `python -m bench list`); default: all")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default) or a postgresql:// URL (a fresh schema is used)")
    parser.add_argument("--sizes", default="10k,100k,1m",
                        help="rows per table, ascending (default 10k,100k,1m)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per figure")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--processes", type=int, default=1, help="server processes each")
    parser.add_argument("--own", type=int, default=1000,
                        help="accounts (and deals) each measured user owns, at every size")
    parser.add_argument("--reps", type=int, default=100, help="other reps owning the data")
    parser.add_argument("--all-tables", action="store_true",
                        help="grow deals and leads to every size too (default: first size only)")
    parser.add_argument("--out", default=None, help="folder for report.json and raw outputs")
    return parser


def options(argv: list[str]) -> Options:
    args = _parser().parse_args(argv)
    sizes = sorted(parse_size(s) for s in args.sizes.split(",") if s.strip())
    return Options(scenarios=[s.strip() for s in args.scenarios.split(",") if s.strip()],
                   database=args.database, sizes=sizes, seconds=args.seconds,
                   concurrency=args.concurrency, processes=args.processes, own=args.own,
                   reps=args.reps, all_tables=args.all_tables, out=args.out)


def main(argv: list[str] | None = None, workdir: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--data-dir"] and len(argv) > 1:
        workdir, argv = argv[1], argv[2:]
    if workdir:
        from bench.stack import set_workdir
        set_workdir(workdir)
    command = argv[0] if argv and not argv[0].startswith("-") else "run"
    rest = argv[1:] if argv and argv[0] == command else argv
    if command == "loadtest":
        from bench.loadtest import main as loadtest
        return loadtest(rest)
    if command == "fuzz":
        from bench.fuzz import main as fuzz
        return fuzz(rest)
    if command == "list":
        from bench.scenarios import all_scenarios
        for scenario in all_scenarios().values():
            print(f"{scenario.name:<15} {scenario.kind:<9} {scenario.summary}")
        return 0
    if command != "run":
        print(f"unknown command {command!r} (run, loadtest, fuzz, list)", file=sys.stderr)
        return 2
    from bench.runner import run

    report = run(options(rest))
    print("\n" + report.render())
    return 0
