"""SQLite: WAL checkpoints in a background thread instead of inside a request's commit.

By default SQLite checkpoints the WAL inside whichever commit grows it past 1,000 pages: that
COMMIT returns only once the pages are copied back into the database file and both files
fsynced, still inside `core.db.atomic`, i.e. holding the writer queue — so one web-form post
in ~36 waits for the copy and the fsyncs, and every writer queued behind it waits too (the
p99 of bench/bench_leads_capture.py). A server process instead turns
`wal_autocheckpoint` off on its kept connection (`core.db.tune_kept_connection`) and runs a
`WalCheckpointer`: a daemon thread with its own connection that every `interval` seconds runs

1. a PASSIVE checkpoint without any lock — it copies what it can and never blocks a writer;
2. when the WAL holds more than `max_wal_pages` frames: another unlocked pass (for what was
   committed during the first), then a last PASSIVE checkpoint while holding the writer
   queue (`core.writer_queue`, waited for blocked in the kernel: `patient`). Under a
   steady write load a checkpoint almost never ends in a gap between transactions, and
   SQLite only restarts the WAL from its beginning when a writer starts on a fully
   checkpointed WAL: without step 2 the WAL grows for ever (250 MB in one 2×4 bench run).
   Step 2 holds the writers for the last few frames and the fsyncs (3–8 ms, 2×4 bench),
   once per `max_wal_pages` of writes rather than inside every ~36th commit as
   autocheckpoint did.

Durability is unchanged: a commit is durable when it is in the WAL (`synchronous = NORMAL`);
checkpoints only move committed pages into the database file. Every server process runs one;
two checkpointers at once are harmless (the second reports busy and tries again later).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

from core.writer_queue import leave_writer_queue, writer_queue

log = logging.getLogger("huike.db")

DEFAULT_INTERVAL = 0.5  # seconds between checkpoints
DEFAULT_MAX_WAL_PAGES = 16384  # 64 MiB at 4 KiB pages: the WAL's bound, plus one interval


@dataclass
class CheckpointStats:
    """Counters a test or a benchmark can read: runs, runs under the lock, errors."""

    runs: int = 0
    locked_runs: int = 0
    errors: int = 0
    last_log_frames: int = 0
    last_checkpointed: int = 0


class WalCheckpointer:
    """Checkpoints the WAL of the SQLite file at `path` from a daemon thread (see module doc)."""

    def __init__(self, path: str, *, interval: float = DEFAULT_INTERVAL,
                 max_wal_pages: int = DEFAULT_MAX_WAL_PAGES, busy_timeout_s: float = 10.0):
        if interval <= 0 or max_wal_pages < 1:
            raise ValueError("interval must be > 0 and max_wal_pages ≥ 1")
        self.path = path
        self.interval = interval
        self.max_wal_pages = max_wal_pages
        self.busy_timeout_s = busy_timeout_s
        self.stats = CheckpointStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    def start(self) -> "WalCheckpointer":
        self._thread = threading.Thread(target=self._loop, name="huike-wal-checkpoint",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last checkpoint (so a clean stop leaves a short WAL)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.busy_timeout_s + 5)
            self._thread = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s,
                                         isolation_level=None, check_same_thread=False)
        return self._conn

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._guarded()
            self._guarded()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _guarded(self) -> None:
        try:
            self.run_once()
        except sqlite3.Error:  # e.g. the file went away in a test teardown; try again later
            self.stats.errors += 1
            log.warning("WAL checkpoint failed", exc_info=True)

    def _passive(self) -> tuple[int, int, int]:
        busy, frames, done = self._connection().execute(
            "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return busy, frames, done

    def run_once(self) -> tuple[int, int]:
        """One round (steps 1 and 2 of the module doc); returns (WAL frames, checkpointed)."""
        _busy, frames, done = self._passive()
        self.stats.runs += 1
        if frames > self.max_wal_pages:
            self._passive()  # the frames written during the first pass: less to do locked
            handle = writer_queue(self.path, self.busy_timeout_s, patient=True)
            try:
                _busy, frames, done = self._passive()
            finally:
                leave_writer_queue(handle)
            self.stats.locked_runs += 1
        self.stats.last_log_frames, self.stats.last_checkpointed = frames, done
        return frames, done
