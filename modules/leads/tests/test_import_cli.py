"""`huike import leads` from the command line: a real import with its summary, exit status 2
on bad input, idempotent re-runs, and a run killed mid-way (SIGKILL, in a separate process)
that resumes without duplicates or half rows."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database, is_postgres
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def huike(install):
    cli = build_cli()

    def invoke(*args):
        database.close()
        try:
            return CliRunner().invoke(cli, [*args, "--data-dir", str(install.data_dir)],
                                      catch_exceptions=False)
        finally:
            database.connect(reuse_if_open=True)
    return invoke


def test_cli_import_summary_and_idempotent_rerun(org, tmp_path, huike):
    path = write(tmp_path, "名单.csv", csv_bytes(
        [row("王芳", "13800138001"), row("李雷", "12-34"), row("王芳", "138 0013 8001")],
        encoding="gbk"))
    result = huike("import", "leads", str(path), "--division", "IA", "--owner", "rep1")
    assert result.exit_code == 0, result.output
    assert "created: 1" in result.output and "failed: 1" in result.output
    assert "errors.csv" in result.output
    assert [(lead.name, lead.owner_id) for lead in Lead.select()] == [("王芳", org.id("rep1"))]
    again = huike("import", "leads", str(path), "--division", "IA", "--policy", "merge")
    assert again.exit_code == 0 and "created: 0" in again.output
    assert Lead.select().count() == 1
    dry = huike("import", "leads", str(path), "--division", "MD", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output and "created: 1" in dry.output
    assert Lead.select().count() == 1


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--division", "IA"], "no such file"),
    (["{file}"], "--division"),  # two divisions: the command must be told which
    (["{file}", "--division", "XX"], "no division"),
    (["{file}", "--division", "IA", "--owner", "ghost"], "no active user"),
    (["{file}", "--division", "IA", "--mapping", "没有"], "no saved mapping"),
    (["{nameless}", "--division", "IA"], "no name column"),
])
def test_bad_input_exits_2(org, tmp_path, huike, args, message):
    files = {"file": write(tmp_path, "ok.csv", csv_bytes([row("王芳", "13800138001")])),
             "nameless": write(tmp_path, "x.csv", csv_bytes([["1"]], headers=["电话"]))}
    result = huike("import", "leads", *[a.format(**files) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert Lead.select().count() == 0


def _spawn(data_dir: Path, path: Path) -> subprocess.Popen:
    code = "import sys; from core.cli import main; sys.argv[0] = 'huike'; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "import", "leads", str(path), "--division", "IA",
         "--batch-size", "25", "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_for_batches(minimum: int, proc: subprocess.Popen) -> int:
    """Poll the committed cursor of the run (the deadline is a bound, not an assertion)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = ImportRun.select().first()
        if run is not None and run.processed >= minimum:
            return run.id
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        time.sleep(0.01)
    raise AssertionError("the import never committed a batch")


def _killed_mid_file(proc: subprocess.Popen, minimum: int,
                     before: Callable[[], None] | None = None) -> int:
    """Once `minimum` rows are committed (and `before()` ran), freeze the import wherever it
    is — most likely mid-batch — and SIGKILL it: no cleanup, no rollback by the process
    itself. Returns the run's id."""
    try:
        run_id = _wait_for_batches(minimum, proc)
        if before is not None:
            before()
        os.kill(proc.pid, signal.SIGSTOP)
        proc.kill()
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return run_id


def test_killed_import_resumes_without_duplicates_or_half_rows(org, tmp_path, huike):
    rows = [row(f"客户{n}", f"1380013{n:04d}", email=f"c{n}@example.com") for n in range(3000)]
    rows[1500] = row("坏行", "12-34")
    path = write(tmp_path, "big.csv", csv_bytes(rows))
    run_id = _killed_mid_file(_spawn(org.data_dir, path), 50)
    run = ImportRun.get_by_id(run_id)
    assert run.status == "running" and 0 < run.processed < 3000
    # whole commit groups only: on SQLite batches of 25 commit 100 rows at a time
    # (`leads.import_commit_rows`), on PostgreSQL one batch at a time
    assert run.processed % (25 if is_postgres() else 100) == 0
    # no half batch and no half row: exactly the committed batches' leads, all complete
    assert Lead.select().count() == run.created == run.processed - run.failed
    assert not Lead.select().where(Lead.email.is_null() | Lead.mobile_bidx.is_null()).exists()
    result = huike("import", "leads", str(path), "--division", "IA", "--batch-size", "25")
    assert result.exit_code == 0, result.output
    assert f"resuming run #{run_id}" in result.output
    run = ImportRun.get_by_id(run_id)
    assert (run.status, run.processed, run.created, run.failed) == ("done", 3000, 2999, 1)
    assert Lead.select().count() == 2999
    assert Lead.select(Lead.import_key).distinct().count() == 2999
    assert Lead.select(Lead.mobile_bidx).distinct().count() == 2999
