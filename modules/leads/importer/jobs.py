"""Huey tasks of the import: run one import, and resume interrupted ones.

`leads.import_run(run_id)` executes (or resumes) a run as the system (`via="import"`): the
caller's rights were checked when the run was created. `leads.resume_imports` runs every five
minutes and restarts runs whose worker died (pending ones whose enqueue was lost, running
ones without a live worker); `claim` makes sure only one worker executes a run.
`leads.sweep_import_files` deletes, every hour, uploaded files no import needs any more
(`importer.sweep`). When no run is being executed, `leads.resume_imports` also builds the
lead indexes a killed bulk load left dropped, and drops its triggers
(`importer.bulkload.restore`).
"""
from __future__ import annotations

import datetime as dt
import logging

from huey import crontab

log = logging.getLogger("huike.leads.import")
PENDING_GRACE = dt.timedelta(minutes=5)


def interrupted(now: dt.datetime) -> list[int]:
    """Ids of runs that should be running but whose worker is gone."""
    from modules.leads.importer.run import worker_alive
    from modules.leads.models_capture import ImportRun

    found = []
    for run in ImportRun.select().where(ImportRun.status.in_(("pending", "running"))):
        if run.status == "pending" and now - run.created_at < PENDING_GRACE:
            continue
        if run.status == "running" and worker_alive(run.worker, run.heartbeat_at, now):
            continue
        found.append(run.id)
    return found


def register(huey, registry) -> list:
    from core.db import connection
    from security.context import system_context

    @huey.task(name="leads.import_run")
    def import_run(run_id: int):
        from modules.leads.importer.run import execute

        with connection():
            try:
                run = execute(system_context(registry, via="import"), run_id)
            except Exception:
                log.exception("import run %s failed", run_id)  # recorded on the run
                return None
        return None if run is None else run.status

    @huey.periodic_task(crontab(minute="*/5"), name="leads.resume_imports")
    def resume_imports():
        from core.db import utcnow

        from modules.leads.importer.bulkload import others_executing, restore

        with connection():
            ids = interrupted(utcnow())
            if not others_executing():
                restore()  # what a killed bulk load left: dropped indexes, its triggers
        for run_id in ids:
            log.info("resuming interrupted import run %s", run_id)
            import_run(run_id)
        return ids

    @huey.periodic_task(crontab(minute="17"), name="leads.sweep_import_files")
    def sweep_import_files():
        from modules.leads.importer.sweep import sweep

        with connection():
            return [path.name for path in sweep(registry.settings)]

    return [import_run, resume_imports, sweep_import_files]
