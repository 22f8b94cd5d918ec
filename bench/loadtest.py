"""Load test: N simulated sales reps, each signed in with their own account, run a bounded mixed
workload (browse, search, create, update, move deals) for T minutes against `huike serve
--processes 2` on loopback; the run prints throughput, p50/p95/p99 per action and every error.

    python -m bench loadtest                          # 200 users × 2 minutes, SQLite
    python -m bench loadtest --users 20 --seconds 15  # the CI form (tests/test_loadtest.py)
    python -m bench loadtest --database postgresql://postgres@127.0.0.1:5432/test

Bounded twice: by time, and by `--max-requests` in total. Zero errors are expected.
"""
from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

from bench import httpload, stack
from bench.httpload import Stats
from bench.workload import ACTIONS, Plan, VirtualUser


LOGINS_AT_ONCE = 8  # password checks (argon2) are deliberately slow: sign users in gradually


@dataclass
class LoadResult:
    users: int
    seconds: float
    stats: dict[str, Stats]
    server_errors: list[str] = field(default_factory=list)
    signed_in: int = 0

    @property
    def requests(self) -> int:
        return sum(s.count for name, s in self.stats.items() if name != "login")

    @property
    def errors(self) -> list[str]:
        return [e for s in self.stats.values() for e in s.errors] + self.server_errors

    @property
    def error_count(self) -> int:
        return sum(s.error_count for s in self.stats.values()) + len(self.server_errors)

    def render(self) -> str:
        lines = [f"{self.users} users ({self.signed_in} signed in), {self.seconds:.0f} s: "
                 f"{self.requests} requests, {self.requests / max(self.seconds, 1e-9):,.1f} req/s, "
                 f"{self.error_count} errors",
                 f"{'action':<8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
                 f"{'p99 ms':>8} {'errors':>7}"]
        for name, s in self.stats.items():
            seconds = self.seconds if name != "login" else max(s.elapsed, 1e-9)
            lines.append(f"{name:<8} {s.count:>9} {s.count / seconds:>8.1f} "
                         f"{s.percentile(50):>8.1f} {s.percentile(95):>8.1f} "
                         f"{s.percentile(99):>8.1f} {s.error_count:>7}")
        if self.error_count:
            lines.append("errors:")
            lines += [f"  {e}" for e in self.errors]
        return "\n".join(lines)


def prepare(users: int, size: int, own: int = 20) -> Plan:
    """In the connected install: the org, `size` rows per table, `users` reps (load0001…)
    each owning `own` accounts and deals; returns the plan the simulated users share."""
    import random

    from bench import org as org_mod
    from bench.datagen import Generator, spread_ownership
    from bench.org import make_user, shared_hash
    from core.db import atomic
    from modules.base.models import Department

    org = org_mod.build(other_reps=20)
    gen = Generator(org, horizon=size)
    digest = shared_hash()
    with atomic():
        dept = Department.get(Department.code == "EAST", Department.division == org.divisions["IA"])
        ids = [make_user(f"load{n:04d}", f"压测用户{n}", digest, department=dept,
                         manager=None, role="sales_rep", division=org.divisions["IA"]).id
               for n in range(1, users + 1)]
    gen.accounts(size)
    gen.contacts(size)
    plan = Plan(deals=_has_table("opportunities_opportunity"))
    from modules.contacts.models import Account
    spread_ownership(Account, "owner", ids, own, org.others, random.Random(3),
                     {"division": org.divisions["IA"]})
    if plan.deals:
        from modules.opportunities.models import Opportunity
        from modules.opportunities.pipelines import stages_of
        gen.opportunities(size)
        spread_ownership(Opportunity, "owner", ids, own, org.others, random.Random(4),
                         {"division": org.divisions["IA"]})
        for pipeline in {row.pipeline_id for row in Opportunity.select(Opportunity.pipeline)
                         .distinct()}:
            open_stages = [s.id for s in stages_of(pipeline) if s.kind == "open"]
            if len(open_stages) >= 2:
                plan.stages[pipeline] = (open_stages[0], open_stages[1])
    return plan


def _has_table(name: str) -> bool:
    from core.db import database
    return name in database.get_tables()


async def _simulate(base_url: str, logins: list[str], password: str, plan: Plan,
                    seconds: float, max_requests: int) -> tuple[dict[str, Stats], float, int]:
    stats = {name: Stats(name) for name in ("login", *[a for a, _ in ACTIONS])}
    users = [VirtualUser(login, password, base_url, plan, seed, stats)
             for seed, login in enumerate(logins)]
    sessions = [httpload.session(4, cookies=True) for _ in users]
    gate = asyncio.Semaphore(LOGINS_AT_ONCE)

    async def login(user: VirtualUser, http) -> bool:
        async with gate:  # people arrive over a minute, not in one millisecond
            return await user.login(http)

    try:
        started = time.perf_counter()
        signed = await asyncio.gather(*[login(u, s) for u, s in zip(users, sessions)])
        stats["login"].elapsed = time.perf_counter() - started
        started = time.perf_counter()
        deadline = started + seconds

        async def loop(user: VirtualUser, http) -> None:
            while time.perf_counter() < deadline:
                if sum(s.count + s.error_count for s in stats.values()) >= max_requests:
                    return
                await user.step(http)

        await asyncio.gather(*[loop(u, s) for u, s, ok in zip(users, sessions, signed) if ok])
        return stats, time.perf_counter() - started, sum(signed)
    finally:
        await asyncio.gather(*[s.close() for s in sessions])


def run(database: str = "sqlite", users: int = 200, seconds: float = 120, size: int = 10_000,
        processes: int = 2, max_requests: int = 2_000_000, echo: bool = False) -> LoadResult:
    """Set up an install, start the server, run the workload, stop everything."""
    from bench.org import USER_PASSWORD
    from core.db import database as db

    with stack.install(database) as inst:
        stack.open_registry(inst)
        if echo:
            print(f"preparing: {users} users, {size} rows per table", flush=True)
        plan = prepare(users, size)
        db.close()
        with stack.Server.huike(inst, processes=processes) as server:
            if echo:
                print(f"running: {server.base_url}, {processes} processes, {seconds:.0f} s",
                      flush=True)
            logins = [f"load{n:04d}" for n in range(1, users + 1)]
            stats, elapsed, signed = asyncio.run(
                _simulate(server.base_url, logins, USER_PASSWORD, plan, seconds, max_requests))
            logged = [f"server: {line}" for line in server.errors()]
    return LoadResult(users, elapsed, stats, logged, signed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench loadtest",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=None, help="overrides --minutes")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (default) or a postgresql:// URL (a fresh schema is used)")
    parser.add_argument("--size", type=int, default=10_000, help="rows per table")
    parser.add_argument("--processes", type=int, default=2, help="server processes")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    result = run(args.database, args.users, seconds, args.size, args.processes,
                 args.max_requests, echo=True)
    print(result.render())
    return 1 if result.error_count else 0
