"""Audit chain throughput: appends/s (1 thread and 4 threads) and verify rows/s.

    /tmp/venv/bin/python bench/bench_audit.py                       # SQLite in a temp dir
    /tmp/venv/bin/python bench/bench_audit.py --database-url postgresql://postgres@127.0.0.1/test
    ... --appends 2000 --bulk 1000000                               # verify over a million rows

Builds a throwaway install (a fresh schema on PostgreSQL, dropped afterwards). `--bulk N`
additionally writes a valid chain of N rows with batched inserts (hashes computed as
`record` does) so `verify` can be timed on a large log; peak RSS before and after verify
shows that it streams."""
from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@contextlib.contextmanager
def pg_schema(base_url: str):
    """A fresh schema for the run; the yielded URL pins `search_path` to it."""
    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE SCHEMA "{schema}"')
    parsed = urlparse(base_url)
    query = dict(parse_qsl(parsed.query), options=f"-csearch_path={schema}")
    try:
        yield urlunparse(parsed._replace(query=urlencode(query)))
    finally:
        from core.db import database
        if hasattr(database.obj, "close_all"):
            database.obj.close_all()
        conn.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def appends(registry, admin, count: int, threads: int) -> float:
    """Append `count` entries split over `threads` threads (own connections); return per s."""
    from core.db import database
    from security import audit
    from security.context import Context

    barrier = threading.Barrier(threads + 1)

    def work(worker: int) -> None:
        database.connect(reuse_if_open=True)
        try:
            ctx = Context(registry=registry, user=admin, ip="10.0.0.1", request_id=f"b{worker}")
            barrier.wait()
            for i in range(count // threads):
                audit.record(ctx, "update", model="crm_lead", res_id=i,
                             details={"changes": {"stage": {"old": "new", "new": "won"}},
                                      "phone": "13800138000"}, sensitive={"phone"})
        finally:
            database.close()

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    return (count // threads) * threads / (time.perf_counter() - started)


def bulk_chain(rows: int, batch: int = 5000) -> None:
    """Extend the chain by `rows` valid entries using batched inserts."""
    from core.db import atomic, utcnow
    from security.audit import AuditEntry, AuditHead, entry_hash
    from security.audit.models import HEAD_ID

    head = AuditHead.get_by_id(HEAD_ID)
    seq, prev = head.seq, head.hash
    for start in range(0, rows, batch):
        chunk = []
        for _ in range(min(batch, rows - start)):
            seq += 1
            fields = {"seq": seq, "at": utcnow(), "actor_id": 1, "actor_login": "admin",
                      "action": "read_sensitive", "model": "crm_lead", "res_id": seq,
                      "division_id": 1, "ip": "10.0.0.1", "request_id": "bulk", "via": "job",
                      "details": {"fields": ["phone"]}, "prev_hash": prev}
            fields["hash"] = prev = entry_hash(fields)
            chunk.append(fields)
        with atomic():
            AuditEntry.insert_many(chunk).execute()
            AuditHead.update(seq=seq, hash=prev).where(AuditHead.id == HEAD_ID).execute()


def run(database_url: str | None, count: int, bulk: int) -> None:
    from core.cli.install import initialise
    from core.config import load_settings
    from core.db import connection
    from core.registry import Registry
    from modules.base.models import User
    from security import audit

    data_dir = Path(tempfile.mkdtemp(prefix="huike-bench-audit-"))
    initialise(data_dir, admin_password="Bench-root-2026", database_url=database_url)
    registry = Registry.build(load_settings(data_dir))
    with connection():
        admin = User.get(User.login == "admin")
    backend = "PostgreSQL" if database_url else "SQLite"
    print(f"backend: {backend}")
    print(f"append, 1 thread : {appends(registry, admin, count, 1):8.0f} entries/s")
    print(f"append, 4 threads: {appends(registry, admin, count, 4):8.0f} entries/s (total)")
    with connection():
        if bulk:
            started = time.perf_counter()
            bulk_chain(bulk)
            print(f"bulk chain write : {bulk / (time.perf_counter() - started):8.0f} rows/s "
                  f"({bulk} rows)")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = audit.verify()
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert result.ok, result.summary()
    print(f"verify           : {result.entries / elapsed:8.0f} rows/s ({result.entries} rows, "
          f"{elapsed:.2f} s; peak RSS {rss_before // 1024} -> {rss_after // 1024} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="postgresql://… (a fresh schema is used); default SQLite")
    parser.add_argument("--appends", type=int, default=2000, help="entries per append run")
    parser.add_argument("--bulk", type=int, default=0, help="extra rows to verify over")
    args = parser.parse_args()
    if args.database_url:
        with pg_schema(args.database_url) as url:
            run(url, args.appends, args.bulk)
    else:
        run(None, args.appends, args.bulk)


if __name__ == "__main__":
    main()
