"""Periodic jobs of lead automation (huey; `huike worker` runs them).

- `leads.sla_check` every minute: first-response breaches and follow-up escalations;
- `leads.nurture` every five minutes: idle-lead rules;
- `leads.pool_recycle` hourly: untouched leads back to the pool;
- `leads.rescore_nightly` daily at 02:30 Asia/Shanghai (18:30 UTC): recency decays;
- `leads.rescore_open` on demand, after a scoring rule changed (`rescore_soon`).

Each job opens its own connection and acts as the system (`via="job"`); all of them are
safe to run twice at once (conditional updates and unique keys, see each service).
"""
from __future__ import annotations

import logging

from core.db import connection, on_commit

log = logging.getLogger("huike.leads.jobs")
RESCORE = "leads.rescore_open"


def register(huey, registry) -> list:
    from huey import crontab

    from modules.leads import nurture, pool, scoring, sla
    from security.context import system_context

    def ctx():
        return system_context(registry, via="job")

    @huey.periodic_task(crontab(minute="*"), name="leads.sla_check")
    def sla_check():
        with connection():
            return sla.check(ctx())

    @huey.periodic_task(crontab(minute="*/5"), name="leads.nurture")
    def nurture_run():
        with connection():
            return nurture.run(ctx())

    @huey.periodic_task(crontab(minute="7"), name="leads.pool_recycle")
    def pool_recycle():
        with connection():
            return pool.recycle(ctx())

    @huey.periodic_task(crontab(minute="30", hour="18"), name="leads.rescore_nightly")
    def rescore_nightly():
        with connection():
            return scoring.rescore_open(ctx())

    @huey.task(name=RESCORE)
    def rescore_open(division_id=None):
        with connection():
            return scoring.rescore_open(ctx(), division_id)

    return [sla_check, nurture_run, pool_recycle, rescore_nightly, rescore_open]


def rescore_soon(registry, division_id: int | None = None) -> None:
    """After the current transaction commits, queue a rescore of every open lead."""
    from core.jobs import build_huey

    def enqueue():
        tasks = build_huey(registry).huike_tasks.values()
        task = next((t for t in tasks if getattr(t, "name", None) == RESCORE), None)
        if task is None:
            log.warning("no %s task registered: scores refresh at the nightly run", RESCORE)
            return
        task(division_id)

    on_commit(enqueue)
