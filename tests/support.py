"""Test helpers: real installs, PostgreSQL schemas, a live server and an HTTP client."""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import requests
import tomli_w

TEST_PG_URL = os.environ.get("HUIKE_TEST_DATABASE_URL", "")
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "Huike-root-2026"


@contextlib.contextmanager
def pg_schema_url(base_url: str) -> Iterator[str]:
    """A throwaway schema in the test database; the URL pins `search_path` to it."""
    import psycopg2

    schema = f"t_{uuid.uuid4().hex[:12]}"
    parsed = urlparse(base_url)
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    query = dict(parse_qsl(parsed.query))
    query["options"] = f"-csearch_path={schema}"
    try:
        yield urlunparse(parsed._replace(query=urlencode(query)))
    finally:
        from core.db import database
        obj = database.obj
        if obj is not None and hasattr(obj, "close_all"):
            obj.close_all()
        with conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@dataclass
class Install:
    data_dir: Path
    registry: Any
    admin: Any

    @property
    def settings(self):
        return self.registry.settings


def write_config(data_dir: Path, database_url: str, extra: dict | None = None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = {"database": {"url": database_url}, "jobs": {"immediate": True}}
    for section, values in (extra or {}).items():
        config.setdefault(section, {}).update(values)
    (data_dir / "huike.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


@contextlib.contextmanager
def make_install(data_dir: Path, database_url: str, extra_config: dict | None = None,
                 environ: dict | None = None) -> Iterator[Install]:
    """Write config, create the master key, migrate every module, create the admin."""
    from core.cli.install import write_master_key
    from core.config import load_settings
    from core.db import database
    from core.migrate import migrate_all
    from core.registry import Registry
    from modules.base import services

    write_config(data_dir, database_url, extra_config)
    write_master_key(data_dir / "master.key")
    settings = load_settings(data_dir, environ=environ or {})
    registry = Registry.build(settings)
    database.connect(reuse_if_open=True)
    try:
        migrate_all(registry)
        admin = services.create_user(ADMIN_LOGIN, "系统管理员", ADMIN_PASSWORD, is_admin=True)
        yield Install(data_dir=data_dir, registry=registry, admin=admin)
    finally:
        if not database.is_closed():
            database.close()


class LiveServer:
    """Runs the application on its own IOLoop thread on a free loopback port."""

    def __init__(self, registry, **app_overrides):
        self.registry = registry
        self.app_overrides = app_overrides
        self.port = None
        self._loop = None
        self._server = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import tornado.httpserver
        import tornado.netutil

        from core.web.app import make_app

        async def main():
            app = make_app(self.registry, **self.app_overrides)
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            self._server = tornado.httpserver.HTTPServer(
                app, max_body_size=self.registry.settings["server"]["max_body_bytes"])
            self._server.add_sockets(sockets)
            self._stop = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
            self._server.stop()

        asyncio.run(main())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class HttpClient:
    """A cookie-keeping client; every call returns the `requests.Response`."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


_TOTP_SECRETS: dict[tuple[str, str], str] = {}  # (base_url, login) -> secret the helper enrolled
_TOTP_LAST_STEP: dict[tuple[str, str], int] = {}


def _totp_code(secret: str, key: tuple[str, str]) -> str:
    """A fresh code for `secret`: the current 30 s step, or the next one (the server accepts
    ±1 step) when this helper already spent the current one — each code is single-use."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    step = max(totp.timecode(time.time()), _TOTP_LAST_STEP.get(key, 0) + 1)
    while step > totp.timecode(time.time()) + 1:  # both usable steps spent: wait for the next
        time.sleep(1)
    _TOTP_LAST_STEP[key] = step
    return totp.generate_otp(step)


def login(http: HttpClient, login: str, password: str, totp: str | None = None) -> dict:
    """Sign `http` in as a real user through `POST /api/v1/auth/login`; return the answer
    (`{"state", "xsrf_token", "user", ...}`). The session cookie stays in `http`, and the XSRF
    token is set as the `X-XSRF-Token` default header, so later writes just work.

    `totp` is a one-time code, or a base32 TOTP secret to generate one from. Without it, a
    user who needs a second factor (admins) is enrolled on the spot — setup, then confirm with
    a pyotp code — and the secret is kept on `http.totp_secrets[login]` (and reused for later
    logins of that user on the same server). Raises AssertionError when login fails."""
    key = (http.base_url, login)
    secret = None
    if totp is not None and not (totp.isdigit() and len(totp) == 6):
        secret, totp = totp, None
    secret = secret or _TOTP_SECRETS.get(key)
    body = {"login": login, "password": password}
    if totp is not None:
        body["totp"] = totp
    elif secret is not None:
        body["totp"] = _totp_code(secret, key)
    response = http.post("/api/v1/auth/login", json=body)
    if response.status_code != 200:
        raise AssertionError(f"login as {login!r} failed: {response.status_code} {response.text}")
    data = response.json()
    http.session.headers["X-XSRF-Token"] = data["xsrf_token"]
    if data["state"] == "pending_2fa":
        setup = http.post("/api/v1/auth/totp/setup")
        assert setup.status_code == 200, setup.text
        secret = setup.json()["secret"]
        _TOTP_SECRETS[key] = secret
        _TOTP_LAST_STEP.pop(key, None)
        confirm = http.post("/api/v1/auth/totp/confirm", json={"code": _totp_code(secret, key)})
        assert confirm.status_code == 200, confirm.text
        data = confirm.json()
        http.session.headers["X-XSRF-Token"] = data["xsrf_token"]
    if secret is not None:
        if not hasattr(http, "totp_secrets"):
            http.totp_secrets = {}
        http.totp_secrets[login] = secret
    return data
