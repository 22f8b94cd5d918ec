"""Shared fixtures: a real install per test on SQLite, or on PostgreSQL when
`HUIKE_TEST_DATABASE_URL` is set (each test gets its own schema, dropped afterwards), and a
real tornado server on a loopback port for HTTP tests."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import (  # noqa: E402
    HttpClient, LiveServer, make_install, pg_schema_url, TEST_PG_URL,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Tests never inherit a developer's HUIKE_* settings (except the test database URL)."""
    for name in list(os.environ):
        if name.startswith("HUIKE_") and not name.startswith("HUIKE_TEST_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database_url(tmp_path):
    """A fresh, empty database for this test: SQLite in tmp_path or a PostgreSQL schema."""
    if TEST_PG_URL:
        with pg_schema_url(TEST_PG_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'data' / 'huike.db'}"


@pytest.fixture
def install(tmp_path, database_url):
    """A migrated install (all in-tree modules) with an admin; yields the `Install` helper."""
    with make_install(tmp_path / "data", database_url) as inst:
        yield inst


@pytest.fixture
def server(install):
    """A live tornado server on 127.0.0.1 serving `install`."""
    with LiveServer(install.registry) as live:
        yield live


@pytest.fixture
def http(server):
    return HttpClient(server.base_url)
