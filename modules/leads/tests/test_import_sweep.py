"""Uploaded lead files (customer data in clear text) do not outlive the imports that need
them: the API deletes a file whose import it refuses, and the hourly job deletes wizard
staging files, orphaned uploads and interrupted writes older than `leads.import_file_hours`
— never the file of an unfinished (resumable) run."""
from __future__ import annotations

import os
import time

from core.jobs import build_huey
from modules.leads.importer import service
from modules.leads.models_capture import ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.leads.tests.test_import_api import upload

DAY = 24 * 3600


def _files(folder) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _aged(path, seconds: float):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def test_refused_upload_leaves_no_file(clients, org):
    uploads = org.data_dir / "imports" / "uploads"
    refused = upload(clients("mgr"), csv_bytes([row("王芳", "13800138001")]), policy="bogus")
    assert refused.status_code == 422 and "policy" in refused.json()["error"]["fields"]
    no_name = upload(clients("mgr"), "手机号\n13800138001\n".encode("utf-8"))
    assert no_name.status_code == 422
    assert _files(uploads) == set()
    assert ImportRun.select().count() == 0


def test_hourly_job_deletes_old_files_no_import_needs(org):
    settings = org.registry.settings
    uploads = org.data_dir / "imports" / "uploads"
    staged = org.data_dir / "imports" / "web"
    resumable = service.store_upload(settings, csv_bytes([row("王芳", "13800138001")]), "a.csv")
    run, _ = service.start(org.ctx("mgr", "IA"), resumable, "a.csv", {"policy": "skip"})
    ImportRun.update(status="failed").where(ImportRun.id == run.id).execute()
    _aged(resumable, 3 * DAY)  # old, but its run can still be resumed
    orphan = _aged(service.store_upload(settings, csv_bytes([row("李雷", "13800138002")]),
                                        "b.csv"), 2 * DAY)
    fresh = service.store_upload(settings, csv_bytes([row("赵敏", "13800138003")]), "c.csv")
    staged.mkdir(parents=True, exist_ok=True)
    wizard = staged / f"{'0' * 64}.csv"
    wizard.write_bytes(b"name\n")
    _aged(wizard, 2 * DAY)
    interrupted = uploads / "tmpx.part"
    interrupted.write_bytes(b"half")
    _aged(interrupted, 2 * DAY)

    task = build_huey(org.registry).huike_tasks["leads.leads.sweep_import_files"]
    removed = task.call_local()

    assert sorted(removed) == sorted([orphan.name, wizard.name, interrupted.name])
    assert _files(uploads) == {resumable.name, fresh.name}
    assert _files(staged) == set()
    assert task.call_local() == []  # nothing left to delete


def test_the_age_is_a_setting(org):
    settings = org.registry.settings
    path = service.store_upload(settings, csv_bytes([row("王芳", "13800138001")]), "a.csv")
    from modules.leads.importer.sweep import sweep

    assert sweep(settings) == []  # younger than the default 24 hours
    assert sweep(settings, now=time.time() + 25 * 3600) == [path]
