"""The data layer: one peewee `DatabaseProxy` that every model binds to.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout;
PostgreSQL (`postgresql://user@host:port/db`) uses a connection pool. A request takes a
connection in `prepare` and returns it to the pool in `on_finish`; on SQLite the server thread
keeps its one connection open between requests (see `core.web.base`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

from core import early_release
from core.writer_queue import (QUEUE_POLL, leave_writer_queue, writer_queue,  # noqa: F401
                               writers_waiting)

database = pw.DatabaseProxy()


class DatabaseURLError(ValueError):
    """The configured database URL has an unsupported scheme or shape."""


def utcnow() -> dt.datetime:
    """Naive UTC timestamp (stored in UTC everywhere; shown in the user's zone)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _bind_plain_values_directly() -> None:
    """Bind `None` and `bool` parameters on SQLite without the adapter search. `sqlite3` binds
    only exact int / float / str / bytes without looking for an adapter; for any other value
    it builds a `(type, protocol)` key, misses the registry, then looks up `__adapt__` and
    `__conform__` — 0.19 µs a parameter more than an int (`bench/bench_sqlite_bind.py`: 40
    NULLs a row 9.05 µs, 40 ints 1.48). A lead row of 43 columns has 20-odd NULLs and a bool:
    ~3 µs of the import's ~25 µs INSERT a row, and every other write pays the same per NULL.
    Registered adapters are found by the first lookup: `None` maps to itself (`{}.get`
    returns None for any key; C, no Python frame) and is bound as NULL as before; `bool` to
    `int`, the integer `sqlite3` stored for it before (bool is an int subclass). Process-wide
    and idempotent; the stored values are unchanged."""
    sqlite3.register_adapter(type(None), {}.get)
    sqlite3.register_adapter(bool, int)


_bind_plain_values_directly()


SQLITE_PAGE_BYTES = 4096
"""Page size of new SQLite databases (SQLite's default; existing files keep theirs). Measured
both ways on 2026-12-05: 16 KiB pages make a bulk import's large commits cheaper
(re-inserting 1M lead rows with every index: 29.5 → 25.7 µs a row of the writer's time) but
every small transaction dearer — each dirtied index page is four times the bytes in the WAL
and in the checkpoint — and web-form capture is the latency goal: 1.74 → 2.35 ms server CPU
a post, p99 8.9 → 19.9 ms (`bench/bench_leads_capture.py --posts 2000`, two pairs). The
import gets its large commits from its commit groups instead (`importer.run.commit_rows`)."""


def make_database(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 10_000) -> pw.Database:
    """Build (not connect) a peewee database from a URL: `sqlite:///path` or `postgresql://…`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        if path in ("", "/:memory:", ":memory:"):
            path = ":memory:"
        elif path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return pw.SqliteDatabase(path, pragmas={
            "page_size": SQLITE_PAGE_BYTES,  # only a new file takes it: set before WAL
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": busy_timeout_ms,
            "synchronous": "normal",
        }, timeout=busy_timeout_ms / 1000)
    if parsed.scheme in ("postgres", "postgresql"):
        if not parsed.path.strip("/"):
            raise DatabaseURLError(f"database URL {url!r} names no database")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
            **options,
        )
    raise DatabaseURLError(f"unsupported database URL scheme {parsed.scheme!r}: "
                           "use sqlite:///path or postgresql://user@host/db")


def bind(db: pw.Database) -> pw.Database:
    """Point the shared proxy at a concrete database."""
    database.initialize(db)
    return db


def is_postgres(db: pw.Database | None = None) -> bool:
    target = db or database.obj
    return isinstance(target, pw.PostgresqlDatabase)


SERVER_CACHE_KIB = 65536
SERVER_MMAP_BYTES = 1 << 30  # reads of up to 1 GiB of the file through memory maps
_checkpointer = None  # this process's `core.wal_checkpoint.WalCheckpointer`, when running


def tune_kept_connection() -> None:
    """SQLite: give a connection that a server thread keeps between requests
    (`core.web.base`) a 64 MiB page cache (default 2 MiB), so the indexes scoped lists seek
    stay in memory. Connections
    opened and closed per task keep the default: a large cache only costs them.
    Pages outside that cache are read through a memory map (`mmap_size`, 1 GiB of address
    space, not memory): a restricted page's 50 rows lie on ~50 scattered pages of a large
    table, and a page fault in the OS cache costs less than a `pread` and a copy (server CPU
    per restricted contacts page at 1M rows: 4.29 → 3.59 ms, measured in-process A/B).
    While this process runs a background checkpointer (`start_wal_checkpointer`) the kept
    connection never checkpoints in a commit (`wal_autocheckpoint = 0`): no request waits
    for a checkpoint's copy and fsync."""
    if database.obj is not None and not is_postgres():
        database.execute_sql(f"PRAGMA cache_size = -{SERVER_CACHE_KIB}")
        database.execute_sql(f"PRAGMA mmap_size = {SERVER_MMAP_BYTES}")
        if _checkpointer is not None:
            database.execute_sql("PRAGMA wal_autocheckpoint = 0")


def start_wal_checkpointer(**options):
    """SQLite file database: start this process's background WAL checkpointer (idempotent;
    `options` go to `WalCheckpointer`) and return it; None on PostgreSQL or in memory.
    Start it before the kept connection opens so `tune_kept_connection` sees it."""
    global _checkpointer
    path = _sqlite_file()
    if path is None:
        return None
    if _checkpointer is None:
        from core.wal_checkpoint import WalCheckpointer

        _checkpointer = WalCheckpointer(path, busy_timeout_s=database.obj.timeout,
                                        **options).start()
    return _checkpointer


def wal_checkpointer_running() -> bool:
    """Does this process run a background WAL checkpointer (`start_wal_checkpointer`)?"""
    return _checkpointer is not None


@contextlib.contextmanager
def background_checkpoints(max_wal_pages: int, interval: float | None = None):
    """SQLite file database: no checkpoint inside this connection's commits while the block
    runs — the process's checkpointer (or one started for the block and stopped after it,
    with a last checkpoint) copies the WAL back from its own thread, with the GIL released,
    so a bulk writer's commits stop paying for it (`importer.run.bulk_session`). The WAL
    stays bounded near `max_wal_pages`. Yields the checkpointer at work; PostgreSQL or in
    memory: nothing to do (yields None)."""
    path = _sqlite_file()
    if path is None:
        yield None
        return
    from core.wal_checkpoint import DEFAULT_INTERVAL, WalCheckpointer

    saved = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]
    own = None if _checkpointer is not None else WalCheckpointer(
        path, busy_timeout_s=database.obj.timeout, max_wal_pages=max_wal_pages,
        interval=interval or DEFAULT_INTERVAL).start()
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    try:
        yield own or _checkpointer
    finally:
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {int(saved)}")
        if own is not None:
            own.stop()


def stop_wal_checkpointer() -> None:
    """Stop the background checkpointer (after a last checkpoint); commits checkpoint again."""
    global _checkpointer
    running, _checkpointer = _checkpointer, None
    if running is not None:
        running.stop()


@contextlib.contextmanager
def connection() -> Iterator[pw.Database]:
    """Open a connection for a unit of work (CLI command, job) and always close it."""
    opened = database.connect(reuse_if_open=True)
    try:
        yield database
    finally:
        if opened and not database.is_closed():
            database.close()


_after_commit = threading.local()


def _callbacks() -> list:
    if not hasattr(_after_commit, "items"):
        _after_commit.items = []
    return _after_commit.items


def in_transaction() -> bool:
    return not database.is_closed() and database.transaction_depth() > 0


def on_commit(callback) -> None:
    """Run `callback()` after the outermost `atomic()` block commits (now, if none is open).
    A rollback discards it."""
    if in_transaction():
        _callbacks().append(callback)
    else:
        callback()


def _sqlite_file() -> str | None:
    """The bound SQLite database's file path (None for PostgreSQL or an in-memory database)."""
    path = getattr(database.obj, "database", ":memory:")
    if is_postgres() or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def _writer_queue():
    """The bound database's writer queue before BEGIN IMMEDIATE (None: nothing to queue on)."""
    path = _sqlite_file()
    return writer_queue(path, database.obj.timeout) if path else None


_leave_queue = leave_writer_queue


def other_writers_waiting() -> bool:
    """SQLite file: does another writer wait in the writer queue (`core.writer_queue.
    writers_waiting`) — asked by a long transaction that can end early (a bulk import's
    commit group). PostgreSQL or in memory: False (no queue)."""
    path = _sqlite_file()
    return writers_waiting(path) if path else False


class _Atomic:
    """peewee's `atomic()` plus after-commit callbacks for the outermost block (and, when
    asked, early lock release on PostgreSQL: `core.early_release`)."""

    def __init__(self, release_early: bool = False):
        self._inner = None
        self._outermost = False
        self._release_early = release_early
        self._early = False

    def __enter__(self):
        self._outermost = not in_transaction()
        if self._outermost:
            _after_commit.items = []
        # SQLite: the outermost block takes the write lock at BEGIN (IMMEDIATE) and so waits in
        # busy_timeout for another writer. A deferred transaction that read first cannot
        # upgrade once another process has committed (SQLITE_BUSY at once: "database is
        # locked" under concurrent writes, found by `python -m bench loadtest`).
        immediate = self._outermost and not is_postgres()
        self._inner = database.atomic("IMMEDIATE") if immediate else database.atomic()
        self._queued = _writer_queue() if immediate else None
        try:
            entered = self._inner.__enter__()
        except BaseException:
            _leave_queue(self._queued)
            raise
        try:
            self._early = self._release_early and self._outermost and is_postgres() \
                and early_release.start(database)
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return entered

    def __exit__(self, exc_type, exc, tb):
        try:
            result = self._inner.__exit__(exc_type, exc, tb)
        except BaseException:
            if self._outermost:
                _after_commit.items = []
            raise
        finally:
            _leave_queue(self._queued)
        if self._outermost:
            pending, _after_commit.items = _callbacks(), []
            if exc_type is None:
                if self._early:
                    early_release.wait_durable(database)
                for callback in pending:
                    callback()
        return result


def atomic(release_early: bool = False) -> _Atomic:
    """The transaction helper: a transaction, or a savepoint inside one.

    Commits on success and rolls back on any exception; callbacks registered with
    `on_commit` (after-commit events, job enqueues) run only once the outermost block has
    committed. `release_early` (outermost block on PostgreSQL only): the commit drops the
    transaction's row locks before its WAL flush, and the block still returns only after
    the flush (`core.early_release`) — for short transactions on hot rows."""
    return _Atomic(release_early)


class JSONField(pw.TextField):
    """JSON stored as text (portable between SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                     default=str)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(pw.Model):
    """Base for every table. Subclasses set `table_name` as `<module>_<thing>`."""

    class Meta:
        database = database
        legacy_table_names = False


class TimestampedModel(BaseModel):
    created_at = pw.DateTimeField(default=utcnow, index=True)
    updated_at = pw.DateTimeField(default=utcnow)

    def save(self, *args, **kwargs):
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)
