"""Settings: built-in defaults < `<data-dir>/huike.toml` < `HUIKE_*` environment < CLI flags.

Environment variables name a section and a key: `HUIKE_DATABASE_URL` sets `[database] url`,
`HUIKE_JOBS_REDIS_URL` sets `[jobs] redis_url`. Values are parsed as TOML scalars when they
look like one (`8080`, `true`, `["a", "b"]`) and kept as strings otherwise. `HUIKE_DATA_DIR`
chooses the data directory itself and is not a setting.
"""
from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

CONFIG_FILE = "huike.toml"
ENV_PREFIX = "HUIKE_"
DEFAULT_DATA_DIR = "./huike-data"

DEFAULTS: dict[str, dict[str, Any]] = {
    "server": {
        "host": "127.0.0.1",
        "port": 8800,
        "processes": 1,
        "max_json_bytes": 1_048_576,
        "max_body_bytes": 52_428_800,
        "xheaders": False,
        "cookie_secure": False,
    },
    "database": {
        "url": "",  # empty: SQLite file huike.db in the data dir
        "pool_size": 10,
        "busy_timeout_ms": 10_000,
    },
    "jobs": {
        "redis_url": "",  # empty: SqliteHuey file jobs.db in the data dir
        "workers": 2,
        "immediate": False,
    },
    "outbox": {
        "max_attempts": 6,
        "backoff_seconds": 30,
        "backoff_max_seconds": 3600,
        "batch_size": 100,
    },
    "modules": {
        "enabled": [],  # empty: every module found
        "disabled": [],
        "paths": [],  # extra folders holding modules/<name>/module.toml
    },
    "security": {
        "key_file": "",  # empty: master.key in the data dir
        "key_provider": "",  # "package.module:factory" for an HSM; empty: $HUIKE_MASTER_KEY
                             # or key_file
        "key_refresh_seconds": 30,  # running processes pick up a new data-key version this fast
        "session_idle_minutes": 120,
        "session_absolute_hours": 12,
        "lockout_attempts": 5,
        "lockout_window_minutes": 15,
        "password_min_length": 10,
        "password_min_classes": 2,  # of lower / upper / digit / symbol
        "admin_requires_2fa": True,  # is_admin users need TOTP even without a 2FA role
        "totp_issuer": "汇客 Huike",
        "api_token_default_days": 90,
        "api_token_max_days": 365,
    },
    "attachments": {
        "max_bytes": 20_971_520,
        "allowed_types": [
            "application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain", "text/csv",
            "application/zip",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ],
    },
    "locale": {
        "language": "zh_CN",
        "timezone": "Asia/Shanghai",
        "currency": "CNY",
    },
    "leads": {
        "import_max_bytes": 52_428_800,  # larger lead import files are refused (413 / exit 2)
        "import_batch_rows": 2000,  # rows per import batch (PostgreSQL: per transaction)
        "import_commit_rows": 20_000,  # SQLite: batches committed together up to this many rows
        "import_worker_rows": 10_000,  # rows left from which a worker process prepares batches
        "import_bulk_rows": 100_000,  # SQLite: rows left from which an import loads in bulk mode
        "import_file_hours": 24,  # uploads no import needs are deleted after this many hours
    },
}


class ConfigError(Exception):
    """A setting is missing, malformed, or names an unknown section/key."""


def resolve_data_dir(cli_value: str | os.PathLike | None = None,
                     environ: Mapping[str, str] | None = None) -> Path:
    """The data dir: the `--data-dir` flag, else `HUIKE_DATA_DIR`, else `./huike-data`."""
    environ = os.environ if environ is None else environ
    raw = cli_value or environ.get("HUIKE_DATA_DIR") or DEFAULT_DATA_DIR
    return Path(raw).expanduser().resolve()


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Map `HUIKE_SECTION_KEY` variables onto known sections (longest section name first)."""
    sections = sorted(DEFAULTS, key=len, reverse=True)
    found: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if (not name.startswith(ENV_PREFIX) or name in ("HUIKE_DATA_DIR",)
                or name.startswith("HUIKE_TEST_")):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        for section in sections:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1:]
                found.setdefault(section, {})[key] = _parse_env_value(raw)
                break
    return found


def _merge(base: dict, extra: Mapping, origin: str) -> None:
    for section, values in extra.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{origin}: unknown section [{section}]")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{origin}: unknown key {section}.{key}")
            expected = type(DEFAULTS[section][key])
            if expected is int and isinstance(value, str) and value.isdigit():
                value = int(value)
            if expected is not type(value) and not (expected is float and isinstance(value, int)):
                raise ConfigError(f"{origin}: {section}.{key} must be {expected.__name__}, "
                                  f"got {type(value).__name__}")
            base[section][key] = value


@dataclass
class Settings:
    """Resolved settings for one data dir. `values[section][key]`; `origin` says who set what."""

    data_dir: Path
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE

    @property
    def database_url(self) -> str:
        return self.values["database"]["url"] or f"sqlite:///{self.data_dir / 'huike.db'}"

    @property
    def key_file(self) -> Path:
        raw = self.values["security"]["key_file"]
        return Path(raw).expanduser().resolve() if raw else self.data_dir / "master.key"


def load_settings(data_dir: str | os.PathLike | None = None,
                  environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
    """Resolve settings with the documented precedence (later wins):
    defaults, `huike.toml`, `HUIKE_*` environment, then `overrides` (CLI flags)."""
    environ = os.environ if environ is None else environ
    path = resolve_data_dir(data_dir, environ)
    values = copy.deepcopy(DEFAULTS)
    config_file = path / CONFIG_FILE
    if config_file.exists():
        try:
            from_file = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
        _merge(values, from_file, str(config_file))
    _merge(values, _env_overrides(environ), "environment")
    if overrides:
        _merge(values, {s: {k: v for k, v in kv.items() if v is not None}
                        for s, kv in overrides.items()}, "command line")
    return Settings(data_dir=path, values=values)
