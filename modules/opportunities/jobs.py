"""The daily forecast snapshot (02:30 Beijing time = 18:30 UTC; huey's crontab is UTC)."""
from __future__ import annotations

import logging

from huey import crontab

log = logging.getLogger("huike.opportunities")


def register(huey, registry) -> list:
    from core.db import connection
    from security.context import system_context

    @huey.periodic_task(crontab(hour="18", minute="30"), name="opportunities.forecast_snapshot")
    def forecast_snapshot():
        from modules.opportunities.snapshots import take_snapshot

        with connection():
            rows = take_snapshot(system_context(registry, via="job"))
        log.info("forecast snapshot: %d rows", rows)
        return rows

    return [forecast_snapshot]
