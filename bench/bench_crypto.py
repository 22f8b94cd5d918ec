"""Encrypted-field throughput: encrypt/decrypt ops/s, blind-index ops/s, rows/s through a model,
blind-index lookups/s and rotation rows/s.

    /tmp/venv/bin/python bench/bench_crypto.py                        # SQLite in a temp dir
    /tmp/venv/bin/python bench/bench_crypto.py --database-url postgresql://postgres@127.0.0.1/test
    ... --ops 50000 --rows 5000

Builds a throwaway install with only the `base` module (a fresh schema on PostgreSQL, dropped
afterwards) and a model with two encrypted columns and a blind index."""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
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


def rate(label: str, count: int, func, unit: str = "ops/s") -> None:
    started = time.perf_counter()
    func()
    elapsed = time.perf_counter() - started
    print(f"{label:<34} {count / elapsed:>10,.0f} {unit}")


def install(database_url: str | None):
    """A temp install with only `base`; returns its registry (database bound and connected)."""
    import tomli_w

    from core.cli.install import write_master_key
    from core.config import load_settings
    from core.db import database
    from core.migrate import migrate_all
    from core.registry import Registry

    data_dir = Path(tempfile.mkdtemp(prefix="huike-bench-crypto-"))
    config = {"modules": {"enabled": ["base"]},
              "database": {"url": database_url or f"sqlite:///{data_dir / 'huike.db'}"}}
    (data_dir / "huike.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    write_master_key(data_dir / "master.key")
    registry = Registry.build(load_settings(data_dir, environ={}))
    database.connect(reuse_if_open=True)
    migrate_all(registry)
    return registry


def bench_model():
    import peewee as pw

    from core.db import BaseModel
    from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                                 EncryptedTextField, normalise_phone)

    class BenchLead(BlindIndexMixin, BaseModel):
        name = pw.CharField(max_length=64)
        phone = EncryptedCharField(max_length=32, null=True)
        phone_bidx = BlindIndexField("phone", normalise_phone)
        notes = EncryptedTextField(null=True)

        class Meta:
            table_name = "bench_crypto_lead"

    return BenchLead


def run(database_url: str | None, ops: int, rows: int) -> None:
    from core.db import atomic, database
    from security.crypto import blind_index, check_keys, normalise_phone
    from security.crypto.rotation import rotate

    registry = install(database_url)
    keyring = check_keys(registry)
    print(f"backend: {'PostgreSQL' if database_url else 'SQLite'}; {ops} ops, {rows} rows")
    phone, notes = "+86 138-0013-8000", "客户备注：预算八十万，决策人王总。" * 30  # ~1 KiB
    aad = "crm_lead.phone"
    token, note_token = keyring.encrypt(phone, aad), keyring.encrypt(notes, aad)
    rate("encrypt phone (17 chars)", ops, lambda: [keyring.encrypt(phone, aad)
                                                  for _ in range(ops)])
    rate("decrypt phone", ops, lambda: [keyring.decrypt(token, aad) for _ in range(ops)])
    rate(f"encrypt notes ({len(notes.encode())} bytes)", ops,
         lambda: [keyring.encrypt(notes, aad) for _ in range(ops)])
    rate("decrypt notes", ops, lambda: [keyring.decrypt(note_token, aad) for _ in range(ops)])
    rate("blind index (normalise + HMAC)", ops,
         lambda: [blind_index(phone, normalise_phone) for _ in range(ops)])

    lead = bench_model()
    database.create_tables([lead])

    def insert():
        with atomic():
            for n in range(rows):
                lead.create(name=f"lead{n}", phone=f"1380000{n:04d}", notes=f"备注{n}")

    rate("model create (2 enc + 1 index)", rows, insert, "rows/s")
    rate("model select + decrypt", rows, lambda: [(r.phone, r.notes) for r in lead.select()],
         "rows/s")
    lookups = min(rows, 2000)
    rate("blind-index lookup query", lookups, lambda: [
        lead.get(lead.phone_bidx.matches(f"+86 1380000{n:04d}")) for n in range(lookups)],
        "queries/s")
    rate("keys rotate (re-encrypt)", rows,
         lambda: rotate(keyring, [lead], batch_size=500, sleep=lambda s: None),  # no other
         "rows/s")  # processes here, so no need to wait for them to adopt the new key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="postgresql://… (a fresh schema is used); default SQLite")
    parser.add_argument("--ops", type=int, default=20000, help="operations per crypto figure")
    parser.add_argument("--rows", type=int, default=2000, help="rows for the model figures")
    args = parser.parse_args()
    if args.database_url:
        with pg_schema(args.database_url) as url:
            run(url, args.ops, args.rows)
    else:
        run(None, args.ops, args.rows)


if __name__ == "__main__":
    main()
