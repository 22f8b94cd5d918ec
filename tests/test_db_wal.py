"""SQLite write path of a server process: the writer queue (`core.writer_queue`: blocking
wait in the main thread, bounded by a timer; polling elsewhere) and the background WAL
checkpointer (`core.wal_checkpoint`: no checkpoint inside a commit, WAL still bounded)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core import db
from core.wal_checkpoint import WalCheckpointer
from core.writer_queue import leave_writer_queue, writer_queue

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run `code` as a fresh interpreter's main thread (SIGALRM free: the blocking path)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def _hold(path: Path):
    """Hold the writer queue of `path` from another open file description (as another
    process would)."""
    import fcntl

    handle = open(f"{path}-writer", "ab")  # noqa: SIM115
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


BLOCKING_WAITER = """
    import signal, sys, time
    from core.writer_queue import writer_queue, leave_writer_queue, _can_block
    assert _can_block()
    print("waiting", flush=True)
    handle = writer_queue(sys.argv[1], float(sys.argv[2]))
    print("got" if handle else "timeout", flush=True)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL  # the timer is put back
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    leave_writer_queue(handle)
"""


def test_main_thread_blocks_until_the_holder_leaves(tmp_path):
    path = tmp_path / "x.db"
    held = _hold(path)
    waiter = subprocess.Popen([sys.executable, "-c", textwrap.dedent(BLOCKING_WAITER),
                               str(path), "30"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert waiter.stdout.readline().strip() == "waiting"
    leave_writer_queue(held)
    out, _ = waiter.communicate(timeout=60)
    assert waiter.returncode == 0 and out.strip() == "got"


def test_main_thread_wait_times_out_and_leaves_nothing_held(tmp_path):
    path = tmp_path / "x.db"
    held = _hold(path)
    done = _run(BLOCKING_WAITER, str(path), "0.2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["waiting", "timeout"]
    leave_writer_queue(held)
    mine = writer_queue(str(path), 1)  # the timed-out waiter holds nothing
    assert mine is not None
    leave_writer_queue(mine)


def test_other_threads_poll_and_time_out(tmp_path):
    path = tmp_path / "x.db"
    held = _hold(path)
    outcome = {}

    def wait(timeout):
        outcome[timeout] = writer_queue(str(path), timeout)

    thread = threading.Thread(target=wait, args=(0.05,))
    thread.start()
    thread.join(30)
    assert outcome[0.05] is None
    thread = threading.Thread(target=wait, args=(30,))
    thread.start()
    leave_writer_queue(held)
    thread.join(60)
    assert outcome[30] is not None
    leave_writer_queue(outcome[30])


def test_a_patient_thread_waits_in_the_kernel_past_any_timeout(tmp_path, monkeypatch):
    """The checkpointer's wait (`patient`): one blocking `flock`, no polling, no timeout — it
    holds the queue as soon as the holder lets go."""
    import fcntl

    import core.writer_queue as queue_module

    path = tmp_path / "x.db"
    held = _hold(path)
    calls, got = [], threading.Event()
    flock = fcntl.flock

    def counted(handle, operation):
        calls.append(operation)
        return flock(handle, operation)

    monkeypatch.setattr(queue_module.fcntl, "flock", counted)
    outcome = {}

    def wait():
        outcome["handle"] = writer_queue(str(path), 0.01, patient=True)
        got.set()

    thread = threading.Thread(target=wait)
    thread.start()
    assert not got.wait(0.3)  # far past its 10 ms timeout: still waiting
    leave_writer_queue(held)
    thread.join(30)
    assert outcome["handle"] is not None
    assert [c for c in calls if c != fcntl.LOCK_UN] == [  # a try, then one wait
        fcntl.LOCK_EX | fcntl.LOCK_NB, fcntl.LOCK_EX]
    leave_writer_queue(outcome["handle"])


# ------------------------------------------------------------------ checkpointer
def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # as a server connection with a checkpointer
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    for n in range(rows):
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 3000 + str(n),))


def _wal_frames(conn: sqlite3.Connection) -> int:
    """Frames in the WAL now (a PASSIVE checkpoint reports them)."""
    return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


def test_small_wal_is_checkpointed_without_the_lock(tmp_path):
    path = tmp_path / "x.db"
    conn = _writer(path)
    _write(conn, 20)
    checkpointer = WalCheckpointer(str(path), max_wal_pages=1000)
    frames, done = checkpointer.run_once()
    assert frames >= 20 and done == frames
    assert checkpointer.stats.locked_runs == 0
    held = _hold(path)  # a writer in flight does not stop an unlocked checkpoint
    _write(conn, 5)
    assert checkpointer.run_once()[1] > 0
    leave_writer_queue(held)
    conn.close()


def test_large_wal_restarts_after_a_locked_checkpoint(tmp_path):
    path = tmp_path / "x.db"
    conn = _writer(path)
    _write(conn, 200)
    before = _wal_frames(conn)
    checkpointer = WalCheckpointer(str(path), max_wal_pages=50)
    checkpointer.run_once()
    assert checkpointer.stats.locked_runs == 1
    _write(conn, 1)  # the next writer starts the WAL over from its beginning
    assert _wal_frames(conn) < 10 < before
    conn.close()


def test_background_thread_keeps_the_wal_bounded(tmp_path):
    path = tmp_path / "x.db"
    conn = _writer(path)
    checkpointer = WalCheckpointer(str(path), interval=0.01, max_wal_pages=50).start()
    try:
        for _ in range(40):
            handle = writer_queue(str(path), 10)
            try:
                _write(conn, 10)
            finally:
                leave_writer_queue(handle)
            threading.Event().wait(0.005)
    finally:
        checkpointer.stop()
    assert checkpointer.stats.locked_runs > 0 and checkpointer.stats.errors == 0
    _write(conn, 1)
    assert _wal_frames(conn) < 200  # 400 pages written: the WAL was started over
    conn.close()


def test_checkpointer_refuses_nonsense():
    with pytest.raises(ValueError):
        WalCheckpointer("x.db", interval=0)
    with pytest.raises(ValueError):
        WalCheckpointer("x.db", max_wal_pages=0)


def test_kept_connection_stops_autocheckpoint_only_with_a_checkpointer(tmp_path):
    previous = db.database.obj
    db.bind(db.make_database(f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        db.database.connect()
        db.tune_kept_connection()
        assert db.database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        checkpointer = db.start_wal_checkpointer(interval=0.01)
        assert checkpointer is not None and db.start_wal_checkpointer() is checkpointer
        db.tune_kept_connection()
        assert db.database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        db.database.close()
    finally:
        db.stop_wal_checkpointer()
        if previous is not None:
            db.bind(previous)


def _autocheckpoint() -> int:
    return db.database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]


def _checkpoint_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "huike-wal-checkpoint")


def _bulk_write(commits: int) -> None:
    """`commits` transactions of ten 3 kB rows through `core.db.atomic` (the writer queue)."""
    for _ in range(commits):
        with db.atomic():
            for n in range(10):
                db.database.execute_sql("INSERT INTO t (v) VALUES (?)", ("x" * 3000 + str(n),))
        threading.Event().wait(0.005)


@pytest.fixture
def bound_sqlite(tmp_path):
    previous = db.database.obj
    path = tmp_path / "bulk.db"
    db.bind(db.make_database(f"sqlite:///{path}"))
    db.database.connect()
    db.database.execute_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    try:
        yield path
    finally:
        db.stop_wal_checkpointer()
        db.database.close()
        if previous is not None:
            db.bind(previous)


def test_bulk_writes_checkpoint_in_a_background_thread(bound_sqlite):
    """Inside `background_checkpoints` the writer's commits never checkpoint, yet the rows
    reach the database file and the WAL restarts (a thread of its own did it); afterwards the
    connection checkpoints in its commits again and the thread is gone."""
    before, threads = bound_sqlite.stat().st_size, _checkpoint_threads()
    with db.background_checkpoints(max_wal_pages=50, interval=0.01) as checkpointer:
        assert _autocheckpoint() == 0 and _checkpoint_threads() == threads + 1
        _bulk_write(40)  # ~400 pages
    assert _autocheckpoint() == 1000 and _checkpoint_threads() == threads
    assert checkpointer.stats.runs > 0 and checkpointer.stats.errors == 0
    assert bound_sqlite.stat().st_size - before > 400 * 3000  # copied into the database file


def test_bulk_writes_use_the_process_checkpointer_when_one_runs(bound_sqlite):
    running = db.start_wal_checkpointer(interval=0.01)
    threads = _checkpoint_threads()
    with db.background_checkpoints(max_wal_pages=50) as checkpointer:
        assert checkpointer is running and _checkpoint_threads() == threads  # no second one
        assert _autocheckpoint() == 0
        _bulk_write(5)
    assert db.wal_checkpointer_running() and _checkpoint_threads() == threads  # still running


def test_none_and_bool_parameters_are_stored_as_before(bound_sqlite):
    """`None` and `bool` go through registered adapters (`core.db._bind_plain_values_directly`)
    and are stored exactly as sqlite3 stored them without: NULL and the integers 1 / 0."""
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
    row = db.database.execute_sql("SELECT typeof(?), ? IS NULL, typeof(?), ?, typeof(?), ?",
                                  (None, None, True, True, False, False)).fetchone()
    assert row == ("null", 1, "integer", 1, "integer", 0)
