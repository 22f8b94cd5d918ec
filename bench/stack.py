"""The benchmark's own installation and servers, all on loopback.

`install(database)` creates a throwaway install — `huike init` in a temp data dir on SQLite, or
in a fresh PostgreSQL schema that is dropped afterwards — and yields a `Stack`. `Server` runs a
real server process (`huike serve`, or the bench's baseline server) on a free loopback port in
its own process group, waits for it to answer, and stops the whole group afterwards.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "Bench-root-2026"


_WORKDIR: list[Path] = []


def set_workdir(path: str | Path) -> None:
    """Make throwaway installs under `path` instead of the system temp folder."""
    folder = Path(path).expanduser().resolve()
    if (folder / "huike.toml").exists():
        raise SystemExit(f"{folder} holds a Huike install; the bench never uses one")
    folder.mkdir(parents=True, exist_ok=True)
    _WORKDIR[:] = [folder]


@dataclass
class Stack:
    data_dir: Path
    database_url: str  # "" for the embedded SQLite file

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url.startswith("postgres") else "sqlite"


@contextlib.contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A fresh schema for the run; the yielded URL pins `search_path` to it."""
    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE SCHEMA "{schema}"')
    parsed = urlparse(base_url)
    query = dict(parse_qsl(parsed.query), options=f"-csearch_path={schema}")
    try:
        yield urlunparse(parsed._replace(query=urlencode(query)))
    finally:
        from core.db import database
        if database.obj is not None and hasattr(database.obj, "close_all"):
            database.obj.close_all()
        conn.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@contextlib.contextmanager
def install(database: str = "sqlite", *, keep: bool = False,
            extra_config: dict | None = None) -> Iterator[Stack]:
    """A new install (every module, admin `admin`/`ADMIN_PASSWORD`) in a temp data dir.
    `database` is "sqlite" or a postgresql:// URL (a fresh schema inside it)."""
    data_dir = Path(tempfile.mkdtemp(prefix="huike-bench-",
                                     dir=_WORKDIR[0] if _WORKDIR else None)) / "data"
    with contextlib.ExitStack() as stack:
        url = ""
        if database not in ("", "sqlite"):
            url = stack.enter_context(pg_schema(database))
        _initialise(data_dir, url, extra_config or {})
        try:
            yield Stack(data_dir=data_dir, database_url=url)
        finally:
            from core.db import database as db
            if db.obj is not None and not db.is_closed():
                db.close()
            if not keep:
                shutil.rmtree(data_dir.parent, ignore_errors=True)


def _initialise(data_dir: Path, url: str, extra_config: dict) -> None:
    import tomllib

    import tomli_w

    from core.cli.install import initialise

    initialise(data_dir, admin_login=ADMIN_LOGIN, admin_password=ADMIN_PASSWORD,
               database_url=url or None)
    if extra_config:
        path = data_dir / "huike.toml"
        config = tomllib.loads(path.read_text(encoding="utf-8"))
        for section, values in extra_config.items():
            config.setdefault(section, {}).update(values)
        path.write_text(tomli_w.dumps(config), encoding="utf-8")


def open_registry(stack: Stack):
    """The install's registry in this process, with the database connected (for data setup)."""
    from core.config import load_settings
    from core.db import database
    from core.registry import Registry

    registry = Registry.build(load_settings(stack.data_dir, environ={}))
    database.connect(reuse_if_open=True)
    return registry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Server:
    """A server process group on 127.0.0.1; `base_url` once `start()` has returned."""

    def __init__(self, argv: list[str], log_path: Path, *, health: str = "/healthz",
                 port: int | None = None):
        self.port = port or free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.log_path = log_path
        self.health = health
        self.process: subprocess.Popen | None = None

    @classmethod
    def huike(cls, stack: Stack, *, processes: int = 1, with_worker: bool = True) -> "Server":
        argv = [sys.executable, "-c", "from core.cli import main; main()", "--log-level",
                "WARNING", "serve", "--data-dir", str(stack.data_dir), "--host", "127.0.0.1",
                "--port", "{port}", "--processes", str(processes)]
        if with_worker:
            argv.append("--with-worker")
        return cls(argv, stack.data_dir / f"serve-{uuid.uuid4().hex[:6]}.log")

    @classmethod
    def baseline(cls, stack: Stack, *, processes: int = 1) -> "Server":
        argv = [sys.executable, "-m", "bench.baseline_server", "--data-dir", str(stack.data_dir),
                "--port", "{port}", "--processes", str(processes)]
        return cls(argv, stack.data_dir / "baseline.log", health="/hello")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> "Server":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=child_env(), stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.base_url + self.health, timeout=2) as answer:
                    if answer.status == 200:
                        return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer {self.health} in {timeout} s:\n"
                           f"{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of every process in the server's group (the
        leader and forked children; Linux `/proc`) — unlike a rate, it does not depend on what
        else the host runs, so "requests per server CPU-second" compares fairly under load."""
        if self.process is None:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # field 5 of stat: the process group
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def errors(self) -> list[str]:
        """Every request the server answered with a 5xx (from its access log), as
        `<method> <path> → <status> :: <exception line of its traceback>`."""
        lines = self.log_tail(10_000_000).splitlines()
        causes: dict[str, str] = {}
        found = []
        for index, line in enumerate(lines):
            if "unhandled error request_id=" in line:
                request_id = line.split("request_id=", 1)[1].split()[0]
                causes[request_id] = next(
                    (later for later in lines[index + 1:index + 400] if later and not
                     later.startswith((" ", "Traceback", "During handling", "The above"))), "")
            elif "huike.access" in line and '"status": 5' in line:
                try:
                    entry = json.loads(line[line.index("{"):])
                except ValueError:
                    continue
                found.append(f"{entry.get('method')} {entry.get('path')} → {entry.get('status')}"
                             f" :: {causes.get(entry.get('request_id'), '')[:300]}")
        return found

    def stop(self) -> None:
        """SIGTERM to the server's own process group (parent and forked children), then KILL."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid  # start_new_session: the group id is the leader's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # forked children left behind by a dead parent

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
