"""Lead import throughput: rows/s of the full import (read CSV, normalise, dedupe, encrypt,
blind-index, insert, score, assign) beside a bare peewee `insert_many` of the same rows into a
plain table (no encryption, no indexes beyond the primary key, no rules).

    /tmp/venv/bin/python bench/bench_leads_import.py                          # SQLite, 100k
    /tmp/venv/bin/python bench/bench_leads_import.py --rows 1000000
    /tmp/venv/bin/python bench/bench_leads_import.py --no-pipeline    # capture without part 2
    /tmp/venv/bin/python bench/bench_leads_import.py \
        --database-url postgresql://postgres@127.0.0.1:5432/test              # PostgreSQL

Builds a throwaway install (base, contacts, opportunities, leads; a fresh schema on
PostgreSQL, dropped afterwards) with one division, five reps and a round-robin assignment
rule, and a generated GBK-free UTF-8 CSV: messy phone spellings (`+86 138-…`, `138 …`,
`0086…`), 60% with e-mail, 30% with WeChat, ~2% duplicates of earlier rows and ~1% malformed
rows (bad phone or e-mail). Goals: ≥ 20k rows/s on SQLite, ≥ 10k on PostgreSQL, ≥ 0.5 × bare.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
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


def install(database_url: str | None):
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
    (data_dir / "huike.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    write_master_key(data_dir / "master.key")
    registry = Registry.build(load_settings(data_dir, environ={}))
    database.connect(reuse_if_open=True)
    migrate_all(registry)
    return registry, data_dir


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


def run(database_url: str | None, rows: int, batch: int, pipeline: bool = True) -> dict:
    from modules.leads import pipeline as post_create
    from modules.leads.importer import service
    from modules.leads.importer.run import execute
    from modules.leads.models import Lead
    from security.context import system_context

    registry, data_dir = install(database_url)
    division = org()
    if not pipeline:  # capture alone: no scoring, no assignment (part 2's steps)
        post_create.steps = lambda: []
    path = data_dir / "leads.csv"
    data = generate(path, rows)
    ctx = system_context(registry, via="import")
    started, cpu_started = time.perf_counter(), time.process_time()
    created, _ = service.start(ctx, path, path.name, {"policy": "skip"}, division.id)
    result = execute(ctx, created.id, batch_rows=batch)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assigned = Lead.select().where(Lead.owner.is_null(False)).count()
    bare = bare_insert(data, batch)
    return {"backend": ("PostgreSQL" if database_url else "SQLite")
            + ("" if pipeline else " (no score/assign)"), "rows": rows,
            "import": rows / seconds, "bare": bare, "seconds": seconds, "cpu": cpu,
            "created": result.created, "skipped": result.skipped, "failed": result.failed,
            "assigned": assigned}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-pipeline", action="store_true",
                        help="skip scoring and assignment (measure capture alone)")
    args = parser.parse_args()
    pipeline = not args.no_pipeline
    if args.database_url:
        with pg_schema(args.database_url) as url:
            result = run(url, args.rows, args.batch, pipeline)
    else:
        result = run(None, args.rows, args.batch, pipeline)
    print(f"{'backend':<29} {'rows':>9} {'import rows/s':>14} {'bare insert_many':>17} "
          f"{'ratio':>6} {'seconds':>8}  created / skipped / failed / assigned")
    print(f"{result['backend']:<29} {result['rows']:>9,} {result['import']:>14,.0f} "
          f"{result['bare']:>17,.0f} {result['import'] / result['bare']:>6.2f} "
          f"{result['seconds']:>8.1f}  {result['created']:,} / {result['skipped']:,} / "
          f"{result['failed']:,} / {result['assigned']:,}")
    where = ("the database runs in this process on SQLite" if not args.database_url else
             "the PostgreSQL server's own CPU is not counted")
    print(f"  import CPU {result['cpu']:.1f} s = {result['rows'] / result['cpu']:,.0f} rows per "
          f"CPU-second of this process ({where}; host load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
