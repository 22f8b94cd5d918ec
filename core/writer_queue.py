"""SQLite's writer queue: an `flock` on `<db>-writer` that every write transaction takes before
BEGIN IMMEDIATE (`core.db.atomic`), and the WAL checkpointer before a bounded checkpoint.

Why a queue of our own: SQLite's busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, so
under concurrent web-form posts a waiting writer oversleeps the holder's few milliseconds
(p99 in the hundreds of ms, bench/bench_leads_capture.py).

How a writer waits: the server's request thread (the main thread of a `huike serve`
process) *blocks* in `flock`, so the kernel wakes it the moment the holder lets go. Polling
(a retry every 0.5 ms) is unfair: the process that just committed takes the lock again for
its next queued post before the other process's sleep ends, and that process's posts wait
through several transactions (2×4 bench: p99 34 ms polling vs 20 ms blocking, throughput
+45 %). The blocking wait is bounded by a one-shot `SIGALRM` timer, which only the main
thread can take; other threads — and a main thread whose SIGALRM is already in use (a test
runner's timeout, an armed timer) — poll every 0.5 ms as before. After `timeout` seconds
the writer stops waiting and meets SQLite's own lock (busy timeout, then "database is
locked"), as it always did.

Who waits: a writer that finds the queue taken holds a shared `flock` on `<db>-writer-waiting`
while it waits, so a long writer (a bulk import's commit group) can ask `writers_waiting`
between its batches and give the lock up at once when someone waits — and keep it, writing
fewer, larger transactions, while nobody does. The background checkpointer (`patient`) does
not count: it waits for whatever transaction is running to end.
"""
from __future__ import annotations

import fcntl
import os
import signal
import threading
import time

WAITING = "-writer-waiting"  # suffix of the file waiting writers hold a shared lock on
QUEUE_POLL = 0.0005  # seconds between tries for the writer queue when polling
_handles = threading.local()


class _QueueTimeout(Exception):
    """Raised by the SIGALRM handler to end a blocking `flock` after the timeout."""


def _raise_timeout(signum, frame):
    raise _QueueTimeout


def _handle(path: str, suffix: str = "-writer"):
    """This thread's open handle on `<path><suffix>` (per thread and per process: a handle
    inherited over fork shares its lock)."""
    name = f"{path}{suffix}"
    handles = getattr(_handles, "by_suffix", None)
    if handles is None or _handles.pid != os.getpid():
        handles = _handles.by_suffix = {}  # a forked child's inherited handles are dropped
        _handles.pid = os.getpid()
    handle = handles.get(suffix)
    if handle is None or handle.name != name:
        if handle is not None:
            handle.close()
        handle = handles[suffix] = open(name, "ab")  # noqa: SIM115 (kept open)
    return handle


def _can_block() -> bool:
    """Only the main thread can take SIGALRM, and only when nobody else uses it."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


def _block(handle, timeout: float) -> bool:
    """Blocking `flock` ended by a one-shot timer; True when the lock is held. Wherever the
    timer's exception lands before the result is settled (even just after the lock was
    granted) the lock is given back, so a timeout never leaves it held; the default SIGALRM
    disposition is always put back."""
    signal.signal(signal.SIGALRM, _raise_timeout)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        acquired = True
    except _QueueTimeout:
        fcntl.flock(handle, fcntl.LOCK_UN)
        acquired = False
    finally:
        _restore_alarm()
    return acquired


def _restore_alarm() -> None:
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    except _QueueTimeout:  # a late alarm handled on the way in: the timer is off by now
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def _poll(handle, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(QUEUE_POLL)


def writer_queue(path: str, timeout: float, *, patient: bool = False):
    """Wait (at most `timeout` seconds) for the writer queue of the SQLite file at `path`;
    return the handle to pass to `leave_writer_queue`, or None when the wait timed out.

    `patient`: a background thread with nothing else to do (the WAL checkpointer) waits as
    long as it takes, blocked in `flock` without the GIL, instead of polling — a poll every
    0.5 ms takes the GIL from the process's working thread each time (a 1M-row import
    held the queue for its 1.5 s commit groups while its checkpointer polled: the importing
    thread spent 2–4 µs a row more); the kernel wakes it when the holder lets go."""
    handle = _handle(path)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle
    except BlockingIOError:
        pass
    if patient:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle
    waiting = _handle(path, WAITING)
    fcntl.flock(waiting, fcntl.LOCK_SH)  # seen by the holder's `writers_waiting`
    try:
        acquired = (_block(handle, timeout) if timeout > 0 and _can_block()
                    else _poll(handle, timeout))
    finally:
        fcntl.flock(waiting, fcntl.LOCK_UN)
    return handle if acquired else None


def writers_waiting(path: str) -> bool:
    """True when another writer waits for the queue of the SQLite file at `path` (asked by
    its holder; one non-blocking `flock` try, ~1 µs)."""
    waiting = _handle(path, WAITING)
    try:
        fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(waiting, fcntl.LOCK_UN)
    return False


def leave_writer_queue(handle) -> None:
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
