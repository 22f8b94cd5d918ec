"""Oversize import files are refused before anything is kept: 413 over HTTP, exit status 2
from the command line (an install whose limit is 4 KB)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from tests.support import make_install

LIMIT = 4096


@pytest.fixture
def install(tmp_path, database_url):  # noqa: F811
    with make_install(tmp_path / "data", database_url,
                      extra_config=extra_config(max_bytes=LIMIT)) as inst:
        yield inst


def big_file() -> bytes:
    data = csv_bytes([row(f"客户{n}", f"1380013{n:04d}", need="需求" * 10) for n in range(80)])
    assert len(data) > LIMIT
    return data


def test_oversize_upload_answers_413(clients, org):
    response = clients("mgr").post("/api/v1/leads/imports",
                                   files={"file": ("big.csv", big_file())})
    assert response.status_code == 413
    assert response.json()["error"]["fields"] == {"file": "too_large"}
    assert ImportRun.select().count() == 0 and Lead.select().count() == 0
    assert not list((org.data_dir / "imports").rglob("*.csv"))
    small = clients("mgr").post("/api/v1/leads/imports",
                                files={"file": ("ok.csv", csv_bytes([row("王芳", "13800138001")]))})
    assert small.status_code == 202


def test_oversize_file_exits_2(org, tmp_path, install):
    path = write(tmp_path, "big.csv", big_file())
    database.close()
    try:
        result = CliRunner().invoke(build_cli(), ["import", "leads", str(path), "--division", "IA",
                                                  "--data-dir", str(install.data_dir)])
    finally:
        database.connect(reuse_if_open=True)
    assert result.exit_code == 2
    assert "too large" in result.output
    assert ImportRun.select().count() == 0
