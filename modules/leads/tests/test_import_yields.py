"""On SQLite an import commits many batches in one transaction (`importer.run.commit_rows`:
fewer, larger commits rewrite fewer blind-index pages) but gives the write lock up after the
batch in hand as soon as another writer waits in the writer queue (`core.writer_queue.
writers_waiting`): a rep's edit or a web-form post during a large import waits for one batch,
not for the whole group."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from core.db import _sqlite_file, is_postgres
from core.writer_queue import writers_waiting
from modules.leads.importer import run as run_module
from modules.leads.importer.batch import BatchProcessor
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.leads.tests.test_import import run_import

ROWS, BATCH = 400, 50
ROOT = Path(__file__).resolve().parents[3]


def _wait_until(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


@pytest.fixture
def one_group(org, monkeypatch):
    """Settings under which the whole file would be one commit group, imported in process."""
    if is_postgres():
        pytest.skip("PostgreSQL commits each batch; there is no writer queue")
    leads = org.registry.settings.values["leads"]
    monkeypatch.setitem(leads, "import_batch_rows", BATCH)
    monkeypatch.setitem(leads, "import_commit_rows", 100_000)
    monkeypatch.setitem(leads, "import_worker_rows", 10 ** 9)
    return org


def _file(tmp_path):
    return write(tmp_path, "名单.csv", csv_bytes(
        [row(f"客户{n}", f"1350013{n:04d}") for n in range(ROWS)]))


WRITER = """
    import sqlite3, sys
    from core.writer_queue import leave_writer_queue, writer_queue
    handle = writer_queue(sys.argv[1], 60)  # blocked in the kernel, like a server's writer
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    print(*con.execute("SELECT (SELECT processed FROM leads_import_run), "
                       "(SELECT count(*) FROM leads_lead)").fetchone(), flush=True)
    con.execute("COMMIT")
    leave_writer_queue(handle)
"""


def test_a_waiting_writer_ends_the_commit_group_after_the_batch_in_hand(
        one_group, tmp_path, monkeypatch):
    org, path = one_group, _sqlite_file()
    handled, writer = [], []
    handle = BatchProcessor.handle

    def counted(self, *args, **kwargs):
        result = handle(self, *args, **kwargs)
        handled.append(len(handled))
        if len(handled) == 3:  # mid-group: another process's writer comes and waits
            writer.append(subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(WRITER), path], cwd=ROOT,
                stdout=subprocess.PIPE, text=True))
            assert _wait_until(lambda: writers_waiting(path))
        return result

    monkeypatch.setattr(BatchProcessor, "handle", counted)
    run = run_import(org, _file(tmp_path))
    out, _ = writer[0].communicate(timeout=60)
    processed, leads = map(int, out.split())
    assert (run.status, run.processed, run.created) == ("done", ROWS, ROWS)
    # the writer got in after a whole batch, long before the end of the file …
    assert processed % BATCH == 0 and 3 * BATCH <= processed < ROWS
    assert leads == processed  # … and saw committed batches only


def test_without_a_waiting_writer_the_file_is_one_commit(one_group, tmp_path, monkeypatch):
    org, commits = one_group, []
    monkeypatch.setattr(run_module, "_group_ends", _recording(commits, run_module._group_ends))
    run = run_import(org, _file(tmp_path))
    assert (run.status, run.created) == ("done", ROWS)
    assert commits == [False] * (ROWS // BATCH)  # asked after every batch: never ended


def _recording(calls: list, decide):
    def recorded(*args):
        calls.append(decide(*args))
        return calls[-1]
    return recorded


def test_writers_waiting_sees_queued_writers_only(tmp_path):
    """A writer that waits counts; one that gave up, got through or is the patient
    checkpointer does not."""
    from core.writer_queue import leave_writer_queue, writer_queue

    path = str(tmp_path / "x.db")
    held = writer_queue(path, 1)
    assert not writers_waiting(path)
    outcome = {}

    def wait(key, timeout, patient=False):
        outcome[key] = writer_queue(path, timeout, patient=patient)

    patient = threading.Thread(target=wait, args=("patient", 1, True))
    patient.start()
    time.sleep(0.1)
    assert not writers_waiting(path)  # the checkpointer waits for whatever runs to end
    gave_up = threading.Thread(target=wait, args=("gave_up", 0.05))
    gave_up.start()
    gave_up.join(30)
    assert outcome["gave_up"] is None and not writers_waiting(path)
    waiter = threading.Thread(target=wait, args=("waiter", 30))
    waiter.start()
    assert _wait_until(lambda: writers_waiting(path))
    leave_writer_queue(held)
    left: set[str] = set()

    def each_took_its_turn() -> bool:
        for key in ("patient", "waiter"):
            if outcome.get(key) is not None and key not in left:
                leave_writer_queue(outcome[key])
                left.add(key)
        return len(left) == 2

    assert _wait_until(each_took_its_turn)
    patient.join(30)
    waiter.join(30)
    assert not writers_waiting(path)
