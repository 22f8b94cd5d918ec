"""An import run from file to finish: create (checks, mapping, resume detection), execute in
batches (each one transaction with the run's counters), finish (error report), resume.

Idempotence and resume rest on two facts:
- each row's `import_key` = sha256(file sha + row number) is a unique column of `Lead`, and
  rows whose key exists are skipped — importing the same file again creates nothing;
- `ImportRun.processed` (the row cursor) and the counters are updated in the same
  transaction as the batch's leads — a run killed mid-batch loses exactly that uncommitted
  batch and continues after its last committed one, with no duplicate and no half row.

A run is executed by one worker at a time: `claim` takes it with a compare-and-set on the
`worker` token (`host:pid:random`); every batch commit re-checks the token, so a worker that
lost its claim stops without writing. A run whose worker died is taken over at once on the
same host (its pid is gone) and after `STALE` elsewhere (no heartbeat).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import itertools
import logging
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Callable, Iterator

import peewee as pw

from core.db import (atomic, background_checkpoints, database, is_postgres,
                     other_writers_waiting)
from core.web.base import APIError
from modules.leads import pipeline
from modules.leads.importer import bulkload, probes, worker
from modules.leads.importer.batch import BatchProcessor, Prepared, RunSpec, problem_rows
from modules.leads.importer.mapping import detect, require_name
from modules.leads.importer.reader import open_table
from modules.leads.models_capture import POLICIES, ImportRowError, ImportRun

log = logging.getLogger("huike.leads.import")
STALE = dt.timedelta(minutes=10)
UNFINISHED = ("pending", "running", "failed")
_ACTIVE: set[str] = set()  # tokens of runs being executed by this process


class Preempted(Exception):
    """Another worker took the run over; this one stops without writing."""


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_size(settings, size: int) -> None:
    limit = settings["leads"]["import_max_bytes"]
    if size > limit:
        raise APIError(413, f"文件过大（上限 {limit // 1048576} MB）/ file too large (limit "
                       f"{limit} bytes)", code="payload_too_large", fields={"file": "too_large"})


# ------------------------------------------------------------------ create
def create_run(ctx, path: Path, *, file_name: str, division_id: int, policy: str = "skip",
               dry_run: bool = False, owner_id: int | None = None, columns: dict | None = None,
               mapping_name: str | None = None) -> tuple[ImportRun, bool]:
    """Check the file and open a run for it; returns `(run, resumed)` — an unfinished run of
    the same file, division and options is resumed instead of starting over."""
    from security import audit

    if policy not in POLICIES:
        raise APIError(422, "重复处理策略可选 / policy is one of: " + ", ".join(POLICIES),
                       code="validation_failed", fields={"policy": "invalid"})
    sha, size = file_sha256(path)
    check_size(ctx.registry.settings, size)
    if not dry_run:
        previous = (ImportRun.select().where(
            (ImportRun.file_sha256 == sha) & (ImportRun.division == division_id)
            & (ImportRun.dry_run == False) & ImportRun.status.in_(UNFINISHED)  # noqa: E712
            & (ImportRun.policy == policy)).order_by(ImportRun.id.desc()).first())
        if previous is not None:
            if previous.file_path != str(path):  # the same bytes, moved or uploaded again
                ImportRun.update(file_path=str(path)).where(ImportRun.id == previous.id).execute()
                previous.file_path = str(path)
            return previous, True
    table = open_table(path)
    mapping, unmapped = detect(table.headers, columns)
    require_name(mapping)
    with atomic():
        run = ImportRun.create(
            division=division_id, created_by=ctx.user_id, owner=owner_id,
            file_name=file_name[:255], file_path=str(path), file_sha256=sha, file_size=size,
            file_type=table.file_type, encoding=table.encoding, headers=table.headers,
            mapping=mapping, mapping_name=mapping_name, unmapped=unmapped, policy=policy,
            dry_run=dry_run, total=table.total, created_at=ctx.now(), updated_at=ctx.now())
        audit.record(ctx, "import", model=ImportRun._meta.table_name, res_id=run.id,
                     details={"file": file_name, "sha256": sha, "rows": table.total,
                              "policy": policy, "dry_run": dry_run},
                     division_id=division_id)
    return run, False


# ------------------------------------------------------------------ claim
def new_token() -> str:
    return f"{socket.gethostname()[:12]}:{os.getpid()}:{secrets.token_hex(4)}"


def worker_alive(token: str | None, heartbeat: dt.datetime | None, now: dt.datetime) -> bool:
    """Is the worker holding a run still working on it?"""
    if not token:
        return False
    if token in _ACTIVE:
        return True
    host, _, rest = token.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname()[:12] and pid.isdigit():
        if int(pid) == os.getpid():
            return False  # this process, but no thread runs it any more
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return heartbeat is not None and now - heartbeat < STALE
    return heartbeat is not None and now - heartbeat < STALE


def claim(run_id: int, token: str, now: dt.datetime) -> ImportRun | None:
    """Take the run for this worker (None: finished, or another live worker holds it)."""
    run = ImportRun.get_or_none(ImportRun.id == run_id)
    if run is None or run.status == "done":
        return None
    if run.status == "running" and worker_alive(run.worker, run.heartbeat_at, now):
        return None
    held = (ImportRun.worker.is_null() if run.worker is None else ImportRun.worker == run.worker)
    taken = (ImportRun.update(status="running", worker=token, heartbeat_at=now, message=None,
                              started_at=pw.fn.COALESCE(ImportRun.started_at, now))
             .where((ImportRun.id == run_id) & held & (ImportRun.status == run.status))
             .execute())
    return ImportRun.get_by_id(run_id) if taken else None


# ------------------------------------------------------------------ execute
def _spec(run: ImportRun, headers: list[str]) -> RunSpec:
    positions = {header: at for at, header in reversed(list(enumerate(headers)))}
    mapping = [(positions[h], f) for h, f in run.mapping.items() if h in positions]
    return RunSpec(run.id, run.division_id, run.owner_id, run.created_by_id, run.policy,
                   run.dry_run, run.file_sha256, headers, mapping)


def _commit(ctx, run: ImportRun, token: str, processor: BatchProcessor,
            batch: Prepared | list) -> dict:
    """One batch (raw rows, or prepared by the worker) and the run's counters in one
    transaction."""
    from security import audit

    first, last = (batch.first, batch.last) if isinstance(batch, Prepared) else \
        (batch[0][0], batch[-1][0])
    with atomic():
        if is_postgres():  # a crash may lose the last batches — with their counters: resumable
            database.execute_sql("SET LOCAL synchronous_commit TO OFF")
        out = processor.handle(batch)
        problems = problem_rows(run.id, processor.spec.headers, out)
        if problems:
            ImportRowError.insert_many(problems).on_conflict_ignore().execute()
        if out.created_leads:
            pipeline.after_insert(ctx, out.created_leads)  # the batch's notifications
        moved = (ImportRun.update(
            processed=ImportRun.processed + out.rows, created=ImportRun.created + out.created,
            merged=ImportRun.merged + out.merged, skipped=ImportRun.skipped + out.skipped,
            failed=ImportRun.failed + out.failed, heartbeat_at=ctx.now(), updated_at=ctx.now())
            .where((ImportRun.id == run.id) & (ImportRun.worker == token)).execute())
        if not moved:
            raise Preempted(run.id)
        if not run.dry_run and (out.created or out.merged):
            audit.record(ctx, "import", model="leads_lead", division_id=run.division_id,
                         details={"run": run.id, "rows": [first, last],
                                  "created": out.created, "merged": out.merged,
                                  "ids": out.created_ids[:1] + out.created_ids[-1:],
                                  "merged_into": out.merged_into[:100]})
    return {"rows": out.rows, "created": out.created}


BULK_WAL_PAGES = 20_000  # ~80 MB of WAL between bounded checkpoints during an import


@contextlib.contextmanager
def bulk_session() -> Iterator[None]:
    """SQLite connection settings for a bulk import, restored afterwards: a page cache up to
    256 MB (the blind-index B-trees of a large table stop being re-read from disk for every
    random insert; about 20% more rows/s at 300k rows), and checkpoints in a background
    thread instead of inside the import's commits (`core.db.background_checkpoints`, the WAL
    bounded near ~80 MB): the copy back into the database file runs on the other core, and
    each commit group stops waiting for it (commit 12.5 → 5.6 µs a row, re-inserting 97k
    finished rows; docs/benchmarks.md "Lead import, late evening"). PostgreSQL: nothing to
    do."""
    if is_postgres():
        yield
        return
    saved = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    database.execute_sql("PRAGMA cache_size = -262144")
    try:
        with background_checkpoints(max_wal_pages=BULK_WAL_PAGES):
            yield
    finally:
        database.execute_sql(f"PRAGMA cache_size = {int(saved)}")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is received and committed: a batch makes
    ~100k objects that live until its commit, and the collector would walk them over and
    over (~15% of the importer's CPU). They are acyclic — freed by reference counting right
    after the batch; the collector runs again between batches."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _inline(table, skip: int, size: int) -> Iterator[list]:
    batch = []
    for row in table.rows(skip=skip):
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _held_ledger(processor: BatchProcessor, bulk: bool) -> None:
    """A bulk load's lookups come from memory (`bulkload.HeldLedger`), when it looks up."""
    if bulk and processor.spec.policy != "create":
        processor.ledger = bulkload.HeldLedger(processor.spec.division_id)


@contextlib.contextmanager
def _batches(ctx, run: ImportRun, size: int, bulk: bool = False):
    """`(processor, total rows, batches)`: the run's remaining batches in file order —
    prepared by a worker process for big files (`importer.worker`; the file is unchanged
    since the run was created — its sha256 was just checked — so its stored headers and row
    count hold), read and prepared here otherwise (raw rows). In a `bulk` load (indexes
    dropped: `bulkload`) the importer's duplicate lookups come from memory."""
    settings = ctx.registry.settings
    if not worker.wanted(settings, run.total - run.processed):
        table = open_table(Path(run.file_path), run.encoding)
        processor = BatchProcessor(ctx, _spec(run, table.headers), cursor=run.processed)
        _held_ledger(processor, bulk)
        yield processor, run.total, _inline(table, run.processed, size)
        return
    processor = BatchProcessor(ctx, _spec(run, run.headers), cursor=run.processed)
    _held_ledger(processor, bulk)
    if processor.ledger is None and probes.usable(processor.spec):  # before the first snapshot
        processor.ledger = probes.Ledger()
    head = worker.HEAD_BATCHES * size  # imported here while the worker process starts
    with worker.Feed(settings, processor.spec, run.file_path, run.processed + head, size,
                     probing=processor.ledger is not None, encoding=run.encoding,
                     bulk=bulk) as feed:
        table = open_table(Path(run.file_path), run.encoding)

        def instead() -> Iterator[list]:
            if not bulk:
                processor.ledger = None  # no snapshot will come: the importer looks up itself
            return _inline(table, run.processed + head, size)

        yield processor, run.total, itertools.chain(
            itertools.islice(_inline(table, run.processed, size), worker.HEAD_BATCHES),
            fed(feed, instead))


def fed(feed, inline: Callable[[], Iterator[list]]) -> Iterator:
    """The worker's batches; when the worker cannot start (nothing received yet) the same
    batches read and prepared here instead (`inline()`) — slower, never wrong. A worker
    dying later stops the run (resumable from its last committed batch)."""
    started = False
    try:
        for batch in feed:
            started = True
            yield batch
    except worker.WorkerFailed as exc:
        if started:
            raise
        log.warning("import worker process unavailable (%s); importing in this process", exc)
        yield from inline()


def commit_rows(settings, batch_rows: int) -> int:
    """Rows committed in one transaction. SQLite writes every page a transaction dirtied to
    the WAL at commit, and a batch's blind indexes land on random pages: committing 2,000
    rows at 1M leads rewrote ~5,000 index pages (48 µs a row, more than the INSERT itself),
    20,000 rows share most of them (20 µs; `bench/bench_leads_import.py`). So on SQLite
    consecutive batches go into one transaction up to `leads.import_commit_rows` (each batch
    a savepoint) — while no other writer waits (`_group_ends`). Larger groups were measured
    too: 100,000 rows or 5 s imported 1M rows no faster with 4 KiB pages (12,583 against
    12,795 rows/s). PostgreSQL commits are cheap (asynchronous for imports): one batch each,
    the shortest lock hold."""
    if is_postgres():
        return batch_rows
    return max(batch_rows, int(settings["leads"].get("import_commit_rows", batch_rows)))


GROUP_SECONDS = 1.5  # a SQLite commit group ends after this long even if nobody waits


def _group_ends(taken: int, group: int, started: float) -> bool:
    """Does a SQLite commit group end after this batch? When it holds `group` rows or has
    held the write lock `GROUP_SECONDS`, or as soon as another writer — a web-form post, a
    rep's edit — waits in the writer queue: it waits for the batch in hand (~0.1 s), not for
    the rest of the group (p99 1.32 s → 0.23 s: `bench/bench_import_neighbours.py`)."""
    return (taken >= group or time.monotonic() - started >= GROUP_SECONDS
            or other_writers_waiting())


def _commit_group(ctx, run: ImportRun, token: str, processor: BatchProcessor, batches,
                  group: int) -> int:
    """Commit the next batches — one, or on SQLite several up to `group` rows — in one
    transaction with the run's counters; the rows taken (0: no batch left). Resume and
    idempotence are unchanged: a crash loses the whole uncommitted group, counters too.
    The group's first batch is awaited before the transaction begins (no write lock held
    while the worker process prepares it)."""
    batch = next(batches, None)
    if batch is None:
        return 0
    taken, started = 0, time.monotonic()
    with atomic():
        while batch is not None:
            taken += _commit(ctx, run, token, processor, batch)["rows"]
            if _group_ends(taken, group, started):
                break
            batch = next(batches, None)
    return taken


def execute(ctx, run_id: int, progress: Callable[[int, int], None] | None = None,
            batch_rows: int | None = None) -> ImportRun | None:
    """Run (or resume) an import to the end; None when another worker holds it.
    `progress(processed, total)` is called after every committed batch."""
    token = new_token()
    run = claim(run_id, token, ctx.now())
    if run is None:
        return None
    _ACTIVE.add(token)
    try:
        if not Path(run.file_path).is_file():
            raise APIError(409, f"找不到导入文件 / the import file is gone: {run.file_path}",
                           code="file_missing")
        if file_sha256(Path(run.file_path))[0] != run.file_sha256:
            raise APIError(409, "文件已变化，无法继续导入 / the file changed since the import "
                           "started; start a new import", code="file_changed")
        size = batch_rows or ctx.registry.settings["leads"]["import_batch_rows"]
        group = commit_rows(ctx.registry.settings, size)
        done = run.processed
        bulk = bulkload.wanted(ctx.registry.settings, run, run.total - run.processed)
        with bulk_session(), bulkload.deferred(run, bulk), \
                _batches(ctx, run, size, bulk) as (processor, total, batches):
            batches = iter(batches)
            while True:
                with gc_paused():
                    taken = _commit_group(ctx, run, token, processor, batches, group)
                if not taken:
                    break
                done += taken
                if progress:
                    progress(done, total)
            if processor.ledger is not None:
                log.debug("import run %s: %d batches' duplicate lookups made ahead by the "
                          "worker process, %d by the importer", run.id, processor.ledger.used,
                          processor.ledger.refused)
        return finish(ctx, run.id, token)
    except Preempted:
        log.warning("import run %s was taken over by another worker", run_id)
        return None
    except Exception as exc:
        fail(run_id, token, exc)
        raise
    finally:
        _ACTIVE.discard(token)


def fail(run_id: int, token: str, exc: Exception) -> None:
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    (ImportRun.update(status="failed", message=str(message)[:2000], worker=None)
     .where((ImportRun.id == run_id) & (ImportRun.worker == token)).execute())


def finish(ctx, run_id: int, token: str) -> ImportRun:
    """Mark the run done, write its error report, drop the stored upload."""
    from modules.leads.importer.report import write_report

    run = ImportRun.get_by_id(run_id)
    report = write_report(ctx.registry.settings, run)
    (ImportRun.update(status="done", total=ImportRun.processed, finished_at=ctx.now(),
                      worker=None, error_report=str(report) if report else None)
     .where((ImportRun.id == run_id) & (ImportRun.worker == token)).execute())
    drop_upload(ctx.registry.settings, Path(run.file_path), but=run.id)
    return ImportRun.get_by_id(run_id)


def drop_upload(settings, path: Path, but: int | None = None) -> None:
    """Delete an uploaded copy (under the data dir) once no unfinished run — other than
    `but` — needs it: when its run is done, or when its run was refused at the start. Files
    given on the command line are the user's and stay."""
    uploads = (settings.data_dir / "imports" / "uploads").resolve()
    if path.resolve().parent != uploads or not path.exists():
        return
    needed = (ImportRun.file_path == str(path)) & ImportRun.status.in_(UNFINISHED)
    if but is not None:
        needed &= ImportRun.id != but
    if not ImportRun.select().where(needed).exists():
        path.unlink(missing_ok=True)
