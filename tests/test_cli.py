"""The `huike` command line: help everywhere, init safety, modules, users, outbox."""
from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from tests.support import ADMIN_PASSWORD


@pytest.fixture(scope="module")
def cli():
    return build_cli()


def run(cli, *args, input=None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def all_commands(group, prefix=()):
    import click
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_help_on_every_command(cli):
    paths = list(all_commands(cli))
    for expected in [("init",), ("serve",), ("worker",), ("migrate",), ("modules",), ("demo",),
                     ("user", "create"), ("user", "disable"), ("user", "list"),
                     ("outbox", "list"), ("outbox", "retry")]:
        assert expected in paths
    for path in [(), *paths]:
        result = run(cli, *path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "usage:" in result.output.lower()
        import click
        command = cli
        for part in path:
            command = command.commands[part]
        if not isinstance(command, click.Group):
            assert "--data-dir" in result.output, path


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "admin.pw"
    path.write_text(ADMIN_PASSWORD + "\n")
    return path


def test_init_creates_install_and_refuses_to_overwrite(cli, tmp_path, password_file, database_url):
    data = tmp_path / "inst"
    keys = tmp_path / "secrets" / "master.key"
    args = ["init", "--data-dir", str(data), "--admin-password-file", str(password_file),
            "--key-file", str(keys), "--database-url", database_url]
    first = run(cli, *args)
    assert first.exit_code == 0, first.output
    assert (data / "huike.toml").exists()
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    assert not (data / "master.key").exists()  # kept outside the data dir, as asked
    assert str(keys) in (data / "huike.toml").read_text()
    key_before = keys.read_bytes()

    again = run(cli, *args)
    assert again.exit_code == 2
    assert "already holds an install" in again.output and "--force" in again.output

    forced = run(cli, *args, "--force")
    assert forced.exit_code == 0, forced.output
    assert keys.read_bytes() == key_before  # a key is never overwritten
    assert "kept existing" in forced.output


def test_init_prompts_for_password_and_enforces_policy(cli, tmp_path, database_url):
    data = tmp_path / "inst"
    weak = run(cli, "init", "--data-dir", str(data), "--database-url", database_url,
               input="short\nshort\n")
    assert weak.exit_code == 2 and "at least 10 characters" in weak.output
    assert not (data / "huike.toml").exists()
    ok = run(cli, "init", "--data-dir", str(data), "--database-url", database_url,
             input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert ok.exit_code == 0, ok.output


def test_commands_on_a_missing_install_say_so(cli, tmp_path):
    result = run(cli, "modules", "--data-dir", str(tmp_path / "nothing"))
    assert result.exit_code == 2
    assert "huike init" in result.output


def test_data_dir_from_environment(cli, tmp_path, password_file, database_url, monkeypatch):
    data = tmp_path / "envdir"
    assert run(cli, "init", "--data-dir", str(data), "--admin-password-file", str(password_file),
               "--database-url", database_url).exit_code == 0
    monkeypatch.setenv("HUIKE_DATA_DIR", str(data))
    result = run(cli, "modules")
    assert result.exit_code == 0 and "base" in result.output


def test_users_and_modules_and_outbox(cli, tmp_path, password_file, database_url):
    data = str(tmp_path / "inst")
    assert run(cli, "init", "--data-dir", data, "--admin-password-file", str(password_file),
               "--database-url", database_url).exit_code == 0
    listing = run(cli, "modules", "--data-dir", data)
    assert listing.output.splitlines()[1].split()[:3] == ["base", "1.0.0", "installed"]

    pw = tmp_path / "rep.pw"
    pw.write_text("Sales-rep-2026")
    created = run(cli, "user", "create", "wang.fang", "--name", "王芳", "--password-file", str(pw),
                  "--data-dir", data)
    assert created.exit_code == 0, created.output
    duplicate = run(cli, "user", "create", "wang.fang", "--password-file", str(pw),
                    "--data-dir", data)
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    assert "王芳" in run(cli, "user", "list", "--data-dir", data).output
    assert run(cli, "user", "disable", "wang.fang", "--data-dir", data).exit_code == 0
    assert "wang.fang" not in run(cli, "user", "list", "--data-dir", data).output
    assert "disabled" in run(cli, "user", "list", "--all", "--data-dir", data).output
    assert run(cli, "user", "disable", "nobody", "--data-dir", data).exit_code == 2

    assert run(cli, "outbox", "retry", "--data-dir", data).exit_code == 2
    missing = run(cli, "outbox", "retry", "999", "--data-dir", data)
    assert missing.exit_code == 2 and "not dead letters" in missing.output
    migrated = run(cli, "migrate", "--data-dir", data)
    assert migrated.exit_code == 0 and "up to date" in migrated.output.splitlines()[0]
