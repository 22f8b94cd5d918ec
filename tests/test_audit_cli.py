"""`huike audit verify|tail`: exit codes and output, on a real install."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database
from security import audit
from security.context import Context
from tests.test_audit import drop_guards, raw_delete, raw_update


@pytest.fixture
def run(install):
    """Invoke a CLI command against `install` (the command opens its own connection; the
    test's connection is closed around it and reopened afterwards)."""
    cli = build_cli()

    def invoke(*args):
        database.close()
        try:
            return CliRunner().invoke(cli, [*args, "--data-dir", str(install.data_dir)],
                                      catch_exceptions=False)
        finally:
            database.connect(reuse_if_open=True)
    return invoke


@pytest.fixture
def entries(install):
    ctx = Context(registry=install.registry, user=install.admin, via="cli")
    return [audit.record(ctx, "export", model="base_user", res_id=i, details={"n": i})
            for i in range(1, 6)]


def test_verify_intact_chain_exits_zero(run, entries):
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "审计链完整 / chain intact: 5 entries" in result.output
    assert entries[-1].hash in result.output


def test_verify_names_the_edited_entry_and_exits_one(run, entries):
    drop_guards()
    raw_update(2, details={"n": 42})
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert f"seq 2 (id {entries[1].id})" in result.output and "edited" in result.output


def test_verify_names_the_entry_after_a_deletion(run, entries):
    drop_guards()
    raw_delete(3)
    result = run("audit", "verify", "--json", "--batch-size", "2")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["ok"], report["broken_seq"], report["broken_id"], report["code"]) == (
        False, 4, entries[3].id, "missing")


def test_tail_shows_the_latest_entries_oldest_first(run, entries):
    result = run("audit", "tail", "-n", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "4" and lines[1].split()[0] == "5"
    assert "admin" in lines[1] and "export" in lines[1] and "base_user#5" in lines[1]
    as_json = run("audit", "tail", "-n", "3", "--json")
    assert [json.loads(line)["seq"] for line in as_json.output.splitlines()] == [3, 4, 5]


def test_verify_on_a_missing_install_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(build_cli(), ["audit", "verify", "--data-dir",
                                              str(tmp_path / "nowhere")])
    assert result.exit_code == 2
