"""`huike serve`: bind once, fork N processes, each builds its own registry and connections."""
from __future__ import annotations

import gc
import logging
import signal

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.process

from core.cli.common import CliError, require_install
from core.config import load_settings
from core.db import start_wal_checkpointer, stop_wal_checkpointer

log = logging.getLogger("huike.server")


def _check_migrated(registry) -> None:
    from core.db import connection
    from core.migrate import installed_versions

    with connection():
        installed = installed_versions()
    stale = [m.name for m in registry.manifests if installed.get(m.name) != m.version]
    if stale:
        raise CliError("数据库需要迁移，请先运行 `huike migrate` / run `huike migrate` first; "
                       "not up to date: " + ", ".join(stale))


def settle_heap() -> None:
    """Collect once, then move everything start-up built (registry, policy, modules, routes)
    out of the collector's reach (`gc.freeze`): a full collection then scans only what
    requests allocate, not the whole start-up heap. A request that triggers a full
    collection otherwise pauses for it: 30–50 ms over the start-up heap of the capture bench
    (0.003 ms once frozen) — a latency spike on whichever request allocated the object that
    tipped the threshold."""
    gc.collect()
    gc.freeze()


def run_server(data_dir, *, host=None, port=None, processes=None, with_worker=False) -> None:
    from core.registry import Registry
    from core.web.app import make_app

    settings = load_settings(data_dir, overrides={"server": {"host": host, "port": port,
                                                             "processes": processes}})
    require_install(settings)
    checked = Registry.build(settings)
    _check_migrated(checked)
    from security.crypto import require_keys
    require_keys(checked)  # a missing or wrong master key stops start-up here, with a message
    server_cfg = settings["server"]
    sockets = tornado.netutil.bind_sockets(server_cfg["port"], server_cfg["host"])
    count = server_cfg["processes"]
    if count != 1:
        tornado.process.fork_processes(count)  # children return here; parent supervises
    registry = Registry.build(settings)  # after fork: every process opens its own connections
    app = make_app(registry)
    checkpointer = start_wal_checkpointer()  # SQLite: no checkpoint inside a request's commit
    settle_heap()
    server = tornado.httpserver.HTTPServer(app, xheaders=server_cfg["xheaders"],
                                           max_body_size=server_cfg["max_body_bytes"])
    server.add_sockets(sockets)
    consumer = None
    if with_worker and tornado.process.task_id() in (None, 0):
        from core.jobs import start_embedded_worker
        consumer = start_embedded_worker(registry)  # one consumer, in the first process only
    loop = tornado.ioloop.IOLoop.current()

    def stop(*_):
        loop.add_callback_from_signal(loop.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("汇客 Huike listening on http://%s:%s (pid %s)", server_cfg["host"],
             server_cfg["port"], tornado.process.task_id() or "main")
    loop.start()
    server.stop()
    if consumer is not None:
        consumer.stop(graceful=True)
    if checkpointer is not None:
        stop_wal_checkpointer()
