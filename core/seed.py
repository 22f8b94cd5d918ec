"""Seed data keyed by external ids, upserted idempotently (Odoo's `ir.model.data` idea).

A TOML data file holds `[[records]]` tables:

    [[records]]
    id = "region_east"          # external id, unique within the module
    model = "base_region"       # table name of a registered model
    noupdate = true             # once created, later loads leave admin edits alone
    values = { code = "east", name = "华东", parent = { ref = "base.region_root" } }

Loading the same file twice changes nothing; a changed value is updated unless `noupdate`.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from core.db import atomic
from core.manifest import Manifest
from core.models import ExternalId


class SeedError(Exception):
    """A data file is malformed or references something that does not exist."""


def resolve_ref(ref: str, default_module: str) -> int:
    """`module.xml_id` (or bare `xml_id` within the current module) → row id."""
    module, _, xml_id = ref.rpartition(".")
    module = module or default_module
    row = ExternalId.get_or_none(ExternalId.module == module, ExternalId.xml_id == xml_id)
    if row is None:
        raise SeedError(f"unknown reference {ref!r}")
    return row.res_id


def _resolve_values(values: dict[str, Any], module: str) -> dict[str, Any]:
    resolved = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"ref"}:
            value = resolve_ref(value["ref"], module)
        resolved[key] = value
    return resolved


def upsert_record(registry, module: str, xml_id: str, model_name: str, values: dict,
                  noupdate: bool = False) -> int:
    """Create or update one seed record; return its id."""
    try:
        model = registry.model(model_name)
    except KeyError as exc:
        raise SeedError(f"record {module}.{xml_id}: {exc.args[0]}") from None
    unknown = [k for k in values if k not in model._meta.fields]
    if unknown:
        raise SeedError(f"record {module}.{xml_id}: model {model_name} has no field "
                        + ", ".join(unknown))
    values = _resolve_values(values, module)
    link = ExternalId.get_or_none(ExternalId.module == module, ExternalId.xml_id == xml_id)
    if link is not None and model.get_or_none(model._meta.primary_key == link.res_id) is not None:
        if not link.noupdate:
            model.update(**values).where(model._meta.primary_key == link.res_id).execute()
        return link.res_id
    new_id = model.insert(**values).execute()
    if link is None:
        ExternalId.create(module=module, xml_id=xml_id, model=model_name, res_id=new_id,
                          noupdate=noupdate)
    else:
        link.res_id, link.noupdate = new_id, noupdate
        link.save()
    return new_id


def load_toml_records(registry, manifest: Manifest, path: Path) -> int:
    """Load one TOML data file of `[[records]]`; return how many records it holds."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"module {manifest.name}: {path.name}: {exc}") from exc
    records = data.get("records", [])
    with atomic():
        for index, record in enumerate(records):
            missing = [k for k in ("id", "model", "values") if k not in record]
            if missing:
                raise SeedError(f"module {manifest.name}: {path.name} record {index + 1} lacks "
                                + ", ".join(missing))
            upsert_record(registry, manifest.name, record["id"], record["model"],
                          record["values"], bool(record.get("noupdate", False)))
    return len(records)


def load_files(registry, manifest: Manifest, files: tuple[str, ...]) -> None:
    """Load a module's data (or demo) files through the loader registered for each suffix."""
    loaders = {".toml": load_toml_records, **registry.collect_dict("register_data_loaders")}
    for relative in files:
        path = manifest.path / relative
        if not path.exists():
            raise SeedError(f"module {manifest.name}: data file {relative} does not exist")
        loader = loaders.get(path.name) or loaders.get(path.suffix)
        if loader is None:
            raise SeedError(f"module {manifest.name}: no loader for data file {relative}")
        loader(registry, manifest, path)
