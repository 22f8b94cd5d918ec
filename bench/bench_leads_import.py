"""Lead import throughput: rows/s of the full import (read CSV, normalise, dedupe, encrypt,
blind-index, insert, score, assign) beside a bare peewee `insert_many` of the same rows into a
plain table (no encryption, no indexes beyond the primary key, no rules) — every (backend,
size) in one run, as issue 5 asks:

    /tmp/venv/bin/python bench/bench_leads_import.py --rows 100000,1000000 \
        --backends sqlite,postgresql --database-url postgresql://postgres@127.0.0.1:5432/test
    /tmp/venv/bin/python bench/bench_leads_import.py --rows 20000               # SQLite only
    /tmp/venv/bin/python bench/bench_leads_import.py --no-pipeline    # capture without part 2
    /tmp/venv/bin/python bench/bench_leads_import.py --worker-rows 0  # no worker process
    /tmp/venv/bin/python bench/bench_leads_import.py --bulk-rows 0    # never bulk-load mode

Each (backend, size) gets a throwaway install (base, contacts, opportunities, leads; on
PostgreSQL a fresh schema, dropped afterwards) with one division, five reps and a round-robin
assignment rule, and a generated GBK-free UTF-8 CSV: messy phone spellings (`+86 138-…`,
`138 …`, `0086…`), 60% with e-mail, 30% with WeChat, ~2% duplicates of earlier rows and ~1%
malformed rows (bad phone or e-mail). Beside wall-clock rows/s the table gives CPU seconds of
the importing process, of the import's worker process (`importer.worker`: reading, cleaning,
encryption) and of the PostgreSQL backend serving the import (read from /proc when the server
runs on this host) — on a shared host the CPU figures are the steadier ones. "floor" is the
database alone writing the same finished rows again into an empty copy of the lead table with
its indexes, batched and committed like the import (`floor_insert`; for a SQLite run in
bulk-load mode, `importer.bulkload`, with the same indexes built after the rows): no importer
can beat it. The backend is named "bulk-load" when the run loaded in that mode.
Goals: ≥ 20k rows/s on SQLite, ≥ 10k on PostgreSQL, ≥ 0.5 × bare.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_crypto import pg_schema  # noqa: E402

HEADERS = ["姓名", "公司名称", "职位", "手机号", "邮箱", "微信", "来源", "活动", "区域", "行业", "预算",
           "需求"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
SOURCES = ["官网", "SEM", "SEO", "抖音", "微信公众号", "展会", "转介绍", "广告", "电话", "百度推广"]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
INDUSTRIES = ["装备制造", "汽车零部件", "新能源", "电子", "化工", "医疗器械"]


def phone_spelling(rng: random.Random, number: int) -> str:
    digits = f"13{number % 10}{number:08d}"[-11:]
    style = rng.randrange(4)
    if style == 0:
        return f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"0086{digits}"
    return digits


def generate(path: Path, rows: int, seed: int = 7) -> list[list[str]]:
    """Write the CSV; return its data rows (for the bare baseline)."""
    rng = random.Random(seed)
    data = []
    for n in range(rows):
        if n > 100 and rng.random() < 0.02:  # a duplicate of an earlier row, spelled anew
            source = data[rng.randrange(len(data))]
            row = list(source)
            row[3] = phone_spelling(rng, int(source[3][-8:]) if source[3][-8:].isdigit() else n)
        else:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if n % 3 else "")
            row = [name, f"示例{n % 5000}科技有限公司", rng.choice(["经理", "总监", "工程师", ""]),
                   phone_spelling(rng, n), f"user{n}@example{n % 97}.com"
                   if rng.random() < 0.6 else "", f"wx_{n}" if rng.random() < 0.3 else "",
                   rng.choice(SOURCES), rng.choice(["", "春季展", "直播 3 月"]),
                   rng.choice(REGIONS), rng.choice(INDUSTRIES),
                   str(rng.randrange(0, 2_000_000, 1000)) if rng.random() < 0.5 else "",
                   "想了解产品与报价"]
        if rng.random() < 0.01:
            row[3 if n % 2 else 4] = "12-34" if n % 2 else "not-an-email"
        data.append(row)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(data)
    return data


def install(database_url: str | None, worker_rows: int | None = None,
            bulk_rows: int | None = None):
    import tomli_w

    from core.cli.install import write_master_key
    from core.config import load_settings
    from core.db import database
    from core.migrate import migrate_all
    from core.registry import Registry

    data_dir = Path(tempfile.mkdtemp(prefix="huike-bench-leads-"))
    config = {"modules": {"enabled": ["base", "contacts", "opportunities", "leads"]},
              "database": {"url": database_url or f"sqlite:///{data_dir / 'huike.db'}"},
              "leads": {"import_max_bytes": 2 ** 40}}
    if worker_rows is not None:
        config["leads"]["import_worker_rows"] = worker_rows
    if bulk_rows is not None:
        config["leads"]["import_bulk_rows"] = bulk_rows
    (data_dir / "huike.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    write_master_key(data_dir / "master.key")
    registry = Registry.build(load_settings(data_dir, environ={}))
    database.connect(reuse_if_open=True)
    migrate_all(registry)
    return registry, data_dir


@contextlib.contextmanager
def installed(database_url: str | None, worker_rows: int | None = None,
              bulk_rows: int | None = None):
    """A throwaway install for one measurement (`install`): yields `(registry, data dir)`,
    then closes the connection and removes the data dir, whatever happened."""
    from core.db import database

    registry, data_dir = install(database_url, worker_rows, bulk_rows)
    try:
        yield registry, data_dir
    finally:
        database.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def org():
    """One division, five reps, a round-robin assignment rule over them."""
    from modules.base import services
    from modules.leads.automation_models import AssignmentRule

    division = services.create_division("IA", "工业自动化事业部")
    dept = services.create_department(division, "IA-S1", "销售一部")
    reps = [services.create_user(f"rep{i}", f"销售{i}", None, department=dept) for i in range(5)]
    for rep in reps:
        services.assign_role(rep, "sales_rep", division)
    AssignmentRule.create(name="默认轮转", division=division, strategy="round_robin",
                          team_users=[r.id for r in reps])
    return division


def bare_model():
    import peewee as pw

    from core.db import BaseModel

    class BareLead(BaseModel):
        name = pw.CharField(max_length=100)
        company = pw.CharField(max_length=200, null=True)
        title = pw.CharField(max_length=100, null=True)
        mobile = pw.CharField(max_length=64, null=True)
        email = pw.CharField(max_length=200, null=True)
        wechat = pw.CharField(max_length=100, null=True)
        source = pw.CharField(max_length=16, null=True)
        campaign = pw.CharField(max_length=100, null=True)
        region = pw.CharField(max_length=16, null=True)
        industry = pw.CharField(max_length=64, null=True)
        budget = pw.CharField(max_length=20, null=True)
        need = pw.TextField(null=True)

        class Meta:
            table_name = "bench_bare_lead"

    return BareLead


def bare_insert(rows: list[list[str]], batch: int) -> float:
    """rows/s of `insert_many` of the same rows into a plain table, one transaction a batch."""
    from core.db import atomic, database

    model = bare_model()
    database.create_tables([model])
    fields = [model.name, model.company, model.title, model.mobile, model.email, model.wechat,
              model.source, model.campaign, model.region, model.industry, model.budget,
              model.need]
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        with atomic():
            model.insert_many(rows[start:start + batch], fields).execute()
    return len(rows) / (time.perf_counter() - started)


def floor_insert(batch: int, group: int, bulk: bool = False) -> float:
    """rows/s of writing the import's finished rows once more, in SQL alone (no Python per
    row), into an empty copy of `leads_lead` with the same indexes, `batch` rows a statement
    and `group` rows a commit like the import: what the database itself allows for these
    rows and indexes on this host — the ceiling of any importer. With the import's connection
    settings (`bulk_session`: on SQLite its 256 MB page cache) and, when the import loaded in
    `bulk` mode, its index order too: the deferred indexes built after the rows (timed)."""
    from core.db import atomic, database, is_postgres
    from modules.leads.importer.bulkload import index_names
    from modules.leads.importer.run import bulk_session

    table, copy = "leads_lead", "bench_floor_lead"
    after = []
    if is_postgres():
        database.execute_sql(f'CREATE TABLE "{copy}" (LIKE "{table}" INCLUDING ALL)')
    else:
        database.execute_sql(f'CREATE TABLE "{copy}" AS SELECT * FROM "{table}" WHERE 0')
        for name, sql in database.execute_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL", (table,)).fetchall():
            sql = sql.replace(f'"{table}_', f'"{copy}_').replace(f'ON "{table}"', f'ON "{copy}"')
            if bulk and name in index_names():
                after.append(sql)
            else:
                database.execute_sql(sql)
    ids = [row[0] for row in database.execute_sql(f'SELECT "id" FROM "{table}" ORDER BY "id"')]
    p = database.param
    sql = (f'INSERT INTO "{copy}" SELECT * FROM "{table}" WHERE "id" >= {p} AND "id" <= {p}')
    started = time.perf_counter()
    with bulk_session():
        for first in range(0, len(ids), group):
            with atomic():
                for at in range(first, min(first + group, len(ids)), batch):
                    chunk = ids[at:at + batch]
                    database.execute_sql(sql, (chunk[0], chunk[-1]))
        for sql in after:
            database.execute_sql(sql)
    seconds = time.perf_counter() - started
    database.execute_sql(f'DROP TABLE "{copy}"')
    return len(ids) / seconds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_cpu() -> float | None:
    """CPU seconds of the PostgreSQL backend of this connection (None: not on this host)."""
    from core.db import database, is_postgres

    if not is_postgres():
        return None
    pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(database_url: str | None, rows: int, batch: int, pipeline: bool = True,
        worker_rows: int | None = None, bulk_rows: int | None = None) -> dict:
    from modules.leads import pipeline as post_create
    from modules.leads.importer import bulkload, service
    from modules.leads.importer.run import commit_rows, execute
    from modules.leads.models import Lead
    from security.context import system_context

    with installed(database_url, worker_rows, bulk_rows) as (registry, data_dir):
        division = org()
        saved_steps = post_create.steps
        if not pipeline:  # capture alone: no scoring, no assignment (part 2's steps)
            post_create.steps = lambda: []
        path = data_dir / "leads.csv"
        data = generate(path, rows)
        ctx = system_context(registry, via="import")
        server = server_cpu()
        started, cpu_started = time.perf_counter(), time.process_time()
        children = children_cpu()
        created, _ = service.start(ctx, path, path.name, {"policy": "skip"}, division.id)
        bulk = bulkload.wanted(registry.settings, created, rows)
        result = execute(ctx, created.id, batch_rows=batch)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        worker = children_cpu() - children
        server = None if server is None else (server_cpu() or server) - server
        assigned = Lead.select().where(Lead.owner.is_null(False)).count()
        bare = bare_insert(data, batch)
        floor = floor_insert(batch, commit_rows(registry.settings, batch), bulk)
        post_create.steps = saved_steps
        return {"backend": ("PostgreSQL" if database_url else "SQLite")
                + (" bulk-load" if bulk else "") + ("" if pipeline else " (no score/assign)"),
                "rows": rows,
                "import": rows / seconds, "bare": bare, "floor": floor, "seconds": seconds,
                "cpu": cpu,
                "worker": worker, "server": server, "created": result.created,
                "skipped": result.skipped, "failed": result.failed, "assigned": assigned}


HEAD = (f"{'backend':<20} {'rows':>9} {'import rows/s':>13} {'bare rows/s':>11} {'ratio':>5} "
        f"{'floor rows/s':>12} "
        f"{'seconds':>7} {'CPU s: import':>13} {'worker':>6} {'server':>6}  "
        f"created / skipped / failed / assigned")


def line(r: dict) -> str:
    server = "-" if r["server"] is None else f"{r['server']:.1f}"
    return (f"{r['backend']:<20} {r['rows']:>9,} {r['import']:>13,.0f} {r['bare']:>11,.0f} "
            f"{r['import'] / r['bare']:>5.2f} {r['floor']:>12,.0f} "
            f"{r['seconds']:>7.1f} {r['cpu']:>13.1f} "
            f"{r['worker']:>6.1f} {server:>6}  {r['created']:,} / {r['skipped']:,} / "
            f"{r['failed']:,} / {r['assigned']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000",
                        help="comma-separated sizes, e.g. 100000,1000000")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--backends", default=None,
                        help="comma-separated: sqlite, postgresql (default: sqlite, or "
                             "postgresql alone when --database-url is given)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server for the postgresql backend (a fresh schema "
                             "is made in it and dropped)")
    parser.add_argument("--worker-rows", type=int, default=None,
                        help="leads.import_worker_rows for the runs (0: no worker process)")
    parser.add_argument("--bulk-rows", type=int, default=None,
                        help="leads.import_bulk_rows for the runs (0: never bulk-load mode)")
    parser.add_argument("--no-pipeline", action="store_true",
                        help="skip scoring and assignment (measure capture alone)")
    args = parser.parse_args()
    sizes = [int(n.replace("_", "")) for n in args.rows.split(",") if n.strip()]
    backends = (args.backends.split(",") if args.backends else
                ["postgresql"] if args.database_url else ["sqlite"])
    if "postgresql" in backends and not args.database_url:
        parser.error("the postgresql backend needs --database-url")
    pipeline = not args.no_pipeline
    print(HEAD, flush=True)
    for backend in backends:
        for size in sizes:
            if backend == "postgresql":
                with pg_schema(args.database_url) as url:
                    result = run(url, size, args.batch, pipeline, args.worker_rows,
                                 args.bulk_rows)
            elif backend == "sqlite":
                result = run(None, size, args.batch, pipeline, args.worker_rows,
                             args.bulk_rows)
            else:
                parser.error(f"unknown backend {backend!r}")
            print(line(result), flush=True)
    print(f"  host load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; SQLite runs in the "
          "importing process (its CPU is in 'import')")


if __name__ == "__main__":
    main()
