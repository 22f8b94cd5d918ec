"""An out-of-tree module installed with pip through the `huike.modules` entry point appears in
`huike modules` and its route answers on a real server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests

from tests.support import ADMIN_PASSWORD

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-visits"
version = "0.3.0"

[project.entry-points."huike.modules"]
acme_visits = "acme_visits"

[tool.setuptools]
packages = ["acme_visits"]

[tool.setuptools.package-data]
acme_visits = ["module.toml"]
"""

MODULE_TOML = """
[module]
name = "acme_visits"
version = "0.3.0"
summary = "第三方模块示例 / third-party module"
depends = ["base"]
"""

INIT = '''
from core.hooks import hookimpl
from core.web.base import BaseHandler


class PingHandler(BaseHandler):
    def get(self):
        self.write_json({"pong": "acme", "module": "acme_visits"})


@hookimpl
def register_routes(registry):
    return [(r"/api/v1/acme/ping", PingHandler)]
'''


def build_package(root: Path) -> Path:
    project = root / "acme-visits"
    package = project / "acme_visits"
    package.mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (package / "module.toml").write_text(MODULE_TOML, encoding="utf-8")
    (package / "__init__.py").write_text(textwrap.dedent(INIT), encoding="utf-8")
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(project)],
                   check=True, capture_output=True)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_answer(url: str, seconds: float) -> requests.Response | None:
    """The first response of a server that is starting, None if none came in `seconds`.
    `huike serve` binds its port before it builds the app (and, with several processes,
    before it forks), so a request can be accepted and then wait: on a loaded CI host that
    wait once passed a 2 s read timeout. Read time-outs are retried like refused
    connections, bounded by one deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=15)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    return None


def huike(env, *args, **kwargs):
    return subprocess.run([sys.executable, "-c", "from core.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120, **kwargs)


def test_entry_point_module_is_listed_and_served(tmp_path, database_url):
    site = build_package(tmp_path)
    assert (site / "acme_visits" / "module.toml").exists()
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(root)])
    data = tmp_path / "data"
    password = tmp_path / "pw"
    password.write_text(ADMIN_PASSWORD)
    init = huike(env, "init", "--data-dir", str(data), "--admin-password-file", str(password),
                 "--database-url", database_url)
    assert init.returncode == 0, init.stderr
    assert "acme_visits: installed 0.3.0" in init.stdout

    listing = huike(env, "modules", "--data-dir", str(data))
    assert listing.returncode == 0, listing.stderr
    rows = [line.split() for line in listing.stdout.splitlines()[1:]]
    acme = next(r for r in rows if r[0] == "acme_visits")
    assert acme[1:4] == ["0.3.0", "installed", "base"]
    assert [r[0] for r in rows].index("base") < [r[0] for r in rows].index("acme_visits")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from core.cli import main; main()", "serve", "--data-dir",
         str(data), "--port", str(port)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        answer = first_answer(f"http://127.0.0.1:{port}/api/v1/acme/ping", 60)
        body = answer.json() if answer is not None else None
        assert body == {"pong": "acme", "module": "acme_visits"}
        meta = requests.get(f"http://127.0.0.1:{port}/api/v1/meta/modules", timeout=5).json()
        assert {"name": "acme_visits", "origin": "entry-point"}.items() <= next(
            m for m in meta["modules"] if m["name"] == "acme_visits").items()
    finally:
        server.terminate()
        server.wait(15)


def test_serve_with_several_processes_answers(tmp_path, database_url):
    """`huike serve --processes 2` forks two workers sharing the port; both answer."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKE_")}
    env["PYTHONPATH"] = str(root)
    data = tmp_path / "data"
    password = tmp_path / "pw"
    password.write_text(ADMIN_PASSWORD)
    assert huike(env, "init", "--data-dir", str(data), "--admin-password-file", str(password),
                 "--database-url", database_url).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from core.cli import main; main()", "serve", "--data-dir",
         str(data), "--port", str(port), "--processes", "2"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        first = first_answer(url, 90)
        assert first is not None
        statuses = [first.status_code] + [requests.get(url, timeout=15).status_code
                                          for _ in range(19)]
        assert set(statuses) == {200}
    finally:
        import signal
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
