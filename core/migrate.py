"""Install and upgrade modules: per-module schema versions, each migration step run once.

A module's steps live in `migrations/v<major>_<minor>_<patch>__<slug>.py` and define
`migrate(migrator, database)` (`migrator` is a playhouse `SchemaMigrator`). When the version
in `module.toml` is above the installed one, every step with
`installed < step version <= manifest version` runs in order, each in its own transaction;
a failing step rolls back and stops the run with a `MigrationError` naming module and step.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from playhouse.migrate import SchemaMigrator

from core.db import atomic, database, utcnow
from core.manifest import Manifest, parse_version
from core.models import CORE_MODELS, InstalledModule
from core.seed import load_files

STEP_PATTERN = re.compile(r"^v(\d+(?:_\d+)*)__(\w+)\.py$")


class MigrationError(Exception):
    """A module's migration step failed; nothing of that step was kept."""


@dataclass(frozen=True)
class Step:
    version: tuple[int, ...]
    name: str
    path: Path


def migration_steps(manifest: Manifest) -> list[Step]:
    folder = manifest.path / "migrations"
    steps = []
    if folder.is_dir():
        for path in folder.glob("v*.py"):
            match = STEP_PATTERN.match(path.name)
            if not match:
                raise MigrationError(f"module {manifest.name}: migration file {path.name} is not "
                                     "named v<1_2_0>__<slug>.py")
            version = tuple(int(p) for p in match.group(1).split("_"))
            steps.append(Step(version, path.stem, path))
    return sorted(steps, key=lambda s: (s.version, s.name))


def _run_step(manifest: Manifest, step: Step) -> None:
    spec = importlib.util.spec_from_file_location(f"_huike_migration_{manifest.name}_{step.name}",
                                                  step.path)
    code = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(code)
        with atomic():
            code.migrate(SchemaMigrator.from_database(database.obj), database)
    except Exception as exc:
        raise MigrationError(f"module {manifest.name}: migration step {step.name} failed: "
                             f"{type(exc).__name__}: {exc}") from exc


def _create_tables(registry, module: str) -> None:
    models = registry.models_by_module.get(module, [])
    if models:
        database.create_tables(models, safe=True)


def install_or_upgrade(registry, manifest: Manifest) -> str:
    """Bring one module to its manifest version; return what happened."""
    row = InstalledModule.get_or_none(InstalledModule.name == manifest.name)
    if row is None:
        with atomic():
            _create_tables(registry, manifest.name)
            load_files(registry, manifest, manifest.data)
            registry.call_each_for(manifest.name, "on_install", registry=registry,
                                   manifest=manifest)
            InstalledModule.create(name=manifest.name, version=manifest.version)
        return f"installed {manifest.version}"
    installed = parse_version(row.version)
    if installed == manifest.version_tuple:
        _create_tables(registry, manifest.name)  # safe: picks up nothing when in sync
        return "up to date"
    if installed > manifest.version_tuple:
        raise MigrationError(f"module {manifest.name}: database is at {row.version}, newer than "
                             f"the code's {manifest.version}; refusing to downgrade")
    for step in migration_steps(manifest):
        if installed < step.version <= manifest.version_tuple:
            _run_step(manifest, step)
            InstalledModule.update(version=".".join(map(str, step.version)),
                                   updated_at=utcnow()).where(
                InstalledModule.name == manifest.name).execute()
    with atomic():
        _create_tables(registry, manifest.name)
        load_files(registry, manifest, manifest.data)
        registry.call_each_for(manifest.name, "on_upgrade", registry=registry,
                               manifest=manifest, from_version=row.version)
        InstalledModule.update(version=manifest.version, updated_at=utcnow()).where(
            InstalledModule.name == manifest.name).execute()
    return f"upgraded {row.version} -> {manifest.version}"


def migrate_all(registry) -> list[tuple[str, str]]:
    """Create core tables, then install or upgrade every enabled module in load order."""
    database.create_tables(CORE_MODELS, safe=True)
    return [(m.name, install_or_upgrade(registry, m)) for m in registry.manifests]


def installed_versions() -> dict[str, str]:
    if not database.table_exists(InstalledModule._meta.table_name):
        return {}
    return {row.name: row.version for row in InstalledModule.select()}
