"""Settings precedence: defaults < huike.toml < HUIKE_* environment < command-line flags."""
from __future__ import annotations

import pytest

from core.config import ConfigError, load_settings, resolve_data_dir


def write(data_dir, text):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "huike.toml").write_text(text, encoding="utf-8")


def test_precedence(tmp_path):
    write(tmp_path, "[server]\nport = 9000\nhost = '0.0.0.0'\n[jobs]\nworkers = 4\n")
    env = {"HUIKE_SERVER_PORT": "9100", "HUIKE_JOBS_REDIS_URL": "redis://127.0.0.1:6379/3"}
    settings = load_settings(tmp_path, environ=env,
                             overrides={"server": {"port": 9200, "host": None}})
    assert settings["server"]["port"] == 9200          # flag beats env
    assert settings["server"]["host"] == "0.0.0.0"     # file beats default; None flag ignored
    assert settings["jobs"]["redis_url"] == "redis://127.0.0.1:6379/3"  # env beats default
    assert settings["jobs"]["workers"] == 4             # file
    assert settings["outbox"]["max_attempts"] == 6      # default
    assert load_settings(tmp_path, environ=env)["server"]["port"] == 9100  # env beats file


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir(None, {}) == tmp_path / "huike-data"
    assert resolve_data_dir(None, {"HUIKE_DATA_DIR": str(tmp_path / "env")}) == tmp_path / "env"
    assert resolve_data_dir(str(tmp_path / "flag"), {"HUIKE_DATA_DIR": "x"}) == tmp_path / "flag"


def test_env_values_are_typed(tmp_path):
    settings = load_settings(tmp_path, environ={"HUIKE_MODULES_DISABLED": '["leads"]',
                                                "HUIKE_JOBS_IMMEDIATE": "true"})
    assert settings["modules"]["disabled"] == ["leads"]
    assert settings["jobs"]["immediate"] is True


@pytest.mark.parametrize("text,message", [
    ("[nosuch]\nx = 1\n", "unknown section"),
    ("[server]\nprot = 1\n", "unknown key server.prot"),
    ("[server]\nport = 'eighty'\n", "server.port must be int"),
    ("[server\n", "huike.toml"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, environ={})


def test_database_url_defaults_to_sqlite_in_data_dir(tmp_path):
    settings = load_settings(tmp_path, environ={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'huike.db'}"
    assert settings.key_file == tmp_path / "master.key"
