"""One benchmark run: install, organisation, servers, data at each size, the scenarios, the
table. The external scripts run last, after the main install is gone, so they do not compete
with it for the CPU."""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from bench import machine, session, stack
from bench.context import Options, Run, size_label
from bench.report import Report
from bench.scenarios import all_scenarios

DATA_TABLES = ("accounts", "contacts", "opportunities", "leads")


def _tables(run: Run, first: bool) -> list[str]:
    """Tables to grow at this size: all at the first size; later only what sized scenarios
    read (accounts, contacts), unless `--all-tables`."""
    wanted = list(DATA_TABLES) if first or run.opts.all_tables else ["accounts", "contacts"]
    modules = {"accounts": "contacts", "contacts": "contacts", "opportunities": "opportunities",
               "leads": "leads"}
    return [t for t in wanted if run.has_module(modules[t])]


def grow(run: Run, size: int, first: bool) -> None:
    """Top the tables up to `size` rows and spread the measured users' rows over them."""
    from bench import bulk

    label = size_label(size)
    for table in _tables(run, first):
        started = time.perf_counter()
        try:
            added = getattr(run.gen, table)(size)
        except bulk.MissingColumn as exc:
            run.report.note(f"data: {table} not generated ({exc})")
            continue
        if added:
            run.report.add("data", f"{table} bulk insert to {label} (raw executemany)",
                           added / (time.perf_counter() - started), "rows/s")
    _spread(run)
    bulk.analyse()


def _spread(run: Run) -> None:
    from bench.datagen import spread_ownership

    rng = random.Random(11)
    org, own = run.org, run.opts.own
    ia = {"division": org.divisions["IA"]}
    if run.has_module("contacts"):
        from modules.contacts.models import Account
        spread_ownership(Account, "owner", [org.rep_id, org.masked_id], own, org.others, rng, ia)
    if run.has_module("opportunities"):
        from modules.opportunities.models import Opportunity
        spread_ownership(Opportunity, "owner", [org.rep_id], own, org.others, rng, ia)


def sign_in_all(run: Run) -> None:
    from bench.org import USER_PASSWORD

    base = run.huike.base_url
    run.tokens["admin"] = session.api_token(base, stack.ADMIN_LOGIN, stack.ADMIN_PASSWORD)[1]
    for login in ("bench_rep", "bench_masked"):
        run.tokens[login] = session.api_token(base, login, USER_PASSWORD)[1]


def _selected(opts: Options):
    scenarios = all_scenarios()
    chosen = []
    for name in opts.scenarios:
        if name not in scenarios:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(scenarios)}")
        chosen.append(scenarios[name])
    return chosen


def _runnable(run: Run, scenario) -> bool:
    missing = [m for m in scenario.needs if not run.has_module(m)]
    if missing:
        run.report.note(f"{scenario.name}: skipped, module(s) not installed: {', '.join(missing)}")
    return not missing


def _main_install(run_opts: Options, report: Report, chosen, out_dir: Path) -> None:
    from bench import org as org_mod
    from bench.datagen import Generator
    from core.db import database

    inner = [s for s in chosen if s.kind in ("once", "sized")]
    if not inner:
        return
    with stack.install(run_opts.database) as inst:
        registry = stack.open_registry(inst)
        run = Run(opts=run_opts, stack=inst, registry=registry, report=report, out_dir=out_dir)
        inner = [s for s in inner if _runnable(run, s)]
        print(f"organisation: {run_opts.reps} reps, measured users own {run_opts.own} rows each",
              flush=True)
        run.org = org_mod.build(run_opts.reps)
        run.gen = Generator(run.org, horizon=max(run_opts.sizes))
        with stack.Server.huike(inst, processes=run_opts.processes) as huike, \
                stack.Server.baseline(inst, processes=run_opts.processes) as bare:
            run.huike, run.bare = huike, bare
            sign_in_all(run)
            for index, size in enumerate(run_opts.sizes):
                print(f"== data: {size_label(size)} rows per table", flush=True)
                grow(run, size, first=index == 0)
                for scenario in inner:
                    if scenario.kind == "sized":
                        print(f"== {scenario.name} @{size_label(size)}", flush=True)
                        scenario.run(run, size)
                    elif index == 0:
                        print(f"== {scenario.name}", flush=True)
                        scenario.run(run)
            for line in huike.errors()[:20]:
                report.note(f"server error logged: {line[:400]}")
        database.close()


def run(opts: Options) -> Report:
    report = Report()
    report.machine = machine.describe(opts.database if opts.database != "sqlite" else "")
    report.machine["sizes"] = ", ".join(size_label(s) for s in opts.sizes)
    report.machine["settings"] = (f"{opts.processes} server process(es), {opts.concurrency} "
                                  f"client connections, {opts.seconds:g} s per figure")
    out_dir = Path(opts.out or tempfile.mkdtemp(prefix="huike-bench-out-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = _selected(opts)
    started = time.perf_counter()
    _main_install(opts, report, chosen, out_dir)
    for scenario in chosen:
        if scenario.kind == "external":
            print(f"== {scenario.name}", flush=True)
            scenario.run(Run(opts=opts, stack=None, registry=None, report=report,
                             out_dir=out_dir))
    report.machine["load avg"] += f"; {machine.load_average()} (at end)"
    report.machine["duration"] = f"{time.perf_counter() - started:.0f} s"
    (out_dir / "report.json").write_text(report.json(), encoding="utf-8")
    report.notes.append(f"full outputs and report.json in {out_dir}")
    return report
