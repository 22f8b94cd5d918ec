"""Permission decisions per second: compiled-table lookups vs raw Casbin `enforce`.

    /tmp/venv/bin/python bench/bench_policy.py                 # SQLite in a temp dir
    /tmp/venv/bin/python bench/bench_policy.py --database-url postgresql://postgres@127.0.0.1/test
    ... --policies 2000 --seconds 3

Builds a throwaway install, adds ~`--policies` p-lines (40 roles over models, fields, scopes
and actions, in `*` and in two divisions) and a user holding three of the roles. Then, in the
same run and over the same random questions (model acts and actions), it times
`enforcer.enforce(user, division, resource, act)` and `security.can(ctx, act, resource)`
(the compiled table of a request), checks that both give the same answers, and prints
decisions per second and the ratio. It also times what the compiled path costs once: a
table compile (per role set and policy version) and `permissions(ctx)` for a new request.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_audit import pg_schema  # noqa: E402

MODEL_ACTS = ["read", "create", "write", "delete", "export"]
LEVELS = ["hidden", "masked", "read", "write"]
SCOPES = ["own", "subordinates", "department", "region", "division", "all"]


def policy_lines(count: int, rng: random.Random) -> list[list[str]]:
    """About `count` distinct lines over 40 roles, 60 models, fields, scopes and actions."""
    lines: set[tuple[str, ...]] = set()
    while len(lines) < count:
        role = f"bench_r{rng.randrange(40):02d}"
        domain = rng.choice(["*", "*", "IA", "MD"])
        model = f"bench_m{rng.randrange(60):02d}"
        kind = rng.random()
        if kind < 0.45:
            line = (role, domain, f"model/{model}", rng.choice(MODEL_ACTS))
        elif kind < 0.8:
            line = (role, domain, f"field/{model}/f{rng.randrange(20)}", rng.choice(LEVELS))
        elif kind < 0.92:
            op = rng.choice(["read", "write"])
            line = (role, domain, f"scope/{model}", f"{op}:{rng.choice(SCOPES)}")
        else:
            line = (role, domain, f"action/bench.a{rng.randrange(30)}", "execute")
        lines.add(line)
    return [list(line) for line in sorted(lines)]


def questions(count: int, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for _ in range(count):
        if rng.random() < 0.85:
            out.append((f"model/bench_m{rng.randrange(60):02d}", rng.choice(MODEL_ACTS)))
        else:
            out.append((f"action/bench.a{rng.randrange(30)}", "execute"))
    return out


def timed(fn, items, seconds: float, batch: int) -> tuple[float, int]:
    """Call fn over `items` (cycling) for about `seconds`, looking at the clock every `batch`
    calls; return (calls per second, calls)."""
    calls, started, index = 0, time.perf_counter(), 0
    deadline, size = started + seconds, len(items)
    while True:
        for _ in range(batch):
            fn(items[index])
            index = (index + 1) % size
        calls += batch
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started), calls


def setup(database_url, policies: int, rng: random.Random):
    from core.cli.install import initialise
    from core.config import load_settings
    from core.db import atomic, database
    from core.registry import Registry
    from modules.base import services
    from modules.base.models import Role
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    data_dir = Path(tempfile.mkdtemp(prefix="huike-bench-policy-"))
    initialise(data_dir, admin_password="Bench-root-2026", database_url=database_url)
    registry = Registry.build(load_settings(data_dir))
    database.connect(reuse_if_open=True)
    ia = services.create_division("IA", "工业自动化")
    services.create_division("MD", "医疗设备")
    dept = services.create_department(ia, "IA-S", "销售部")
    user = services.create_user("bench_user", "压测用户", "Bench-user-2026", department=dept)
    with atomic():
        for number in range(40):
            Role.create(code=f"bench_r{number:02d}", name=f"压测角色 {number}")
        services.assign_role(user, "bench_r03", ia)
        services.assign_role(user, "bench_r17", ia)
        services.assign_role(user, "bench_r29", None)
        PeeweeAdapter().add_policies("p", "p", policy_lines(policies, rng))
        bump_version()
    return registry, user


def run(database_url, policies: int, seconds: float) -> None:
    import security
    from security.context import Context
    from security.policy import watch
    from security.policy.api import compile_table
    from security.policy.engine import get_enforcer
    from security.policy.models import CasbinRule
    from security.policy.subjects import effective, held_roles

    rng = random.Random(2026)
    registry, user = setup(database_url, policies, rng)
    enforcer = get_enforcer()
    subject = f"user:{user.id}"
    asked = questions(500, rng)
    ctx = Context(registry=registry, user=user)
    table = security.permissions(ctx)
    sample = asked[:150]
    agree = sum(enforcer.enforce(subject, "IA", r, a) == security.can(ctx, a, r) for r, a in sample)
    granted = sum(security.can(ctx, a, r) for r, a in sample)

    raw_rate, raw_calls = timed(lambda q: enforcer.enforce(subject, "IA", q[0], q[1]), asked,
                                seconds, batch=1)
    can_rate, can_calls = timed(lambda q: security.can(ctx, q[1], q[0]), asked, seconds, 1000)
    fields = [(f"bench_m{m:02d}", f"f{f}") for m in range(60) for f in range(20)]
    field_rate, _ = timed(lambda q: table.field_level(q[0], q[1]), fields, seconds / 2, 1000)

    roles = effective(held_roles(user), "IA")
    started = time.perf_counter()
    for _ in range(20):
        compile_table(enforcer, roles, table.division_id, "IA")
    compile_ms = (time.perf_counter() - started) / 20 * 1000
    started, requests = time.perf_counter(), 0
    while time.perf_counter() - started < seconds / 2:
        security.permissions(Context(registry=registry, user=user))
        requests += 1
    per_request_ms = (time.perf_counter() - started) / requests * 1000

    print(f"backend: {'PostgreSQL' if database_url else 'SQLite'}; "
          f"policies: {CasbinRule.select().count()} p-lines; user holds {sorted(roles)} in IA; "
          f"policy version {watch.state_for().version}")
    print(f"decisions agree (enforce vs compiled): {agree}/{len(sample)} ({granted} allowed)")
    print("permission decisions per second:")
    print(f"  raw casbin enforce      : {raw_rate:12,.0f} /s  ({raw_calls} calls)")
    print(f"  compiled table (can)    : {can_rate:12,.0f} /s  ({can_calls} calls)")
    print(f"  compiled field_level    : {field_rate:12,.0f} /s")
    print(f"  ratio compiled / enforce: {can_rate / raw_rate:12,.0f} x")
    print(f"one-off costs: compile a table {compile_ms:.2f} ms (per role set and policy "
          f"version); permissions(ctx) for a new request {per_request_ms:.2f} ms "
          "(version check + role-set query + cache hit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="postgresql://… (a fresh schema is used); default SQLite")
    parser.add_argument("--policies", type=int, default=2000, help="p-lines to generate")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()
    if args.database_url:
        with pg_schema(args.database_url) as url:
            run(url, args.policies, args.seconds)
    else:
        run(None, args.policies, args.seconds)


if __name__ == "__main__":
    main()
