"""Background jobs on huey: `SqliteHuey` in the data dir by default, `RedisHuey` with a URL.

`build_huey(registry)` creates the queue, declares the core tasks (outbox draining) and asks
every module's `register_jobs` hook for its own periodic and background tasks. The web
processes build the same queue to enqueue work; `huike worker` consumes it.
"""
from __future__ import annotations

import logging
import threading

from huey import RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from core import outbox
from core.db import connection

log = logging.getLogger("huike.jobs")


def make_queue(settings):
    """The huey instance for these settings (no tasks declared yet)."""
    immediate = bool(settings["jobs"]["immediate"])
    redis_url = settings["jobs"]["redis_url"]
    if redis_url:
        return RedisHuey("huike", url=redis_url, immediate=immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("huike", filename=str(settings.data_dir / "jobs.db"), immediate=immediate)


def _declare_core_tasks(huey, registry) -> dict:
    policy = outbox.RetryPolicy.from_settings(registry.settings)
    batch = registry.settings["outbox"]["batch_size"]

    @huey.task(name="core.drain_outbox")
    def drain_outbox():
        with connection():
            counts = outbox.drain(registry.outbox_handlers, policy, limit=batch)
        if any(counts.values()):
            log.info("outbox drained: %s", counts)
        return counts

    @huey.periodic_task(crontab(minute="*"), name="core.drain_outbox_periodic")
    def drain_outbox_periodic():
        return drain_outbox.call_local()

    return {"drain_outbox": drain_outbox, "drain_outbox_periodic": drain_outbox_periodic}


def build_huey(registry):
    """Queue plus every task (core and modules'), cached on the registry."""
    def build():
        huey = make_queue(registry.settings)
        tasks = _declare_core_tasks(huey, registry)
        for name, result in registry.call_each("register_jobs", huey=huey, registry=registry):
            for task in result or []:
                tasks[f"{name}.{getattr(task, 'name', task)}"] = task
        drain = tasks["drain_outbox"]
        if not huey.immediate:
            outbox.add_kicker(lambda: drain())
        huey.huike_tasks = tasks
        return huey
    return registry.cached("huey", build)


class EmbeddedConsumer(Consumer):
    """A huey consumer that can run beside the web server: signal handlers are installed only
    from the main thread (the server owns SIGTERM/SIGINT otherwise)."""

    def _set_signal_handlers(self):
        if threading.current_thread() is threading.main_thread():
            super()._set_signal_handlers()


def make_consumer(registry, workers: int | None = None, **options) -> Consumer:
    huey = build_huey(registry)
    count = workers or registry.settings["jobs"]["workers"]
    log.info("worker: %s with %d worker threads, %d tasks", type(huey).__name__, count,
             len(huey.huike_tasks))
    options.setdefault("periodic", True)
    return EmbeddedConsumer(huey, workers=count, worker_type="thread", **options)


def run_worker(registry, workers: int | None = None) -> None:
    """Run the huey consumer in the foreground until SIGINT/SIGTERM (`huike worker`)."""
    make_consumer(registry, workers, check_worker_health=True).run()


def start_embedded_worker(registry, workers: int | None = None) -> Consumer:
    """Start consumer threads inside the current process (`huike serve --with-worker`)."""
    consumer = make_consumer(registry, workers, check_worker_health=False)
    consumer.start()
    return consumer
