"""Wires the security parts into the module system: the `base` module's hooks call these.

Each part (`security.auth`, `security.audit`, `security.crypto`, `security.policy`) may
define plain functions named like the hooks (`register_models()`, `register_routes(registry)`,
`register_authenticators(registry)`, `register_cli(group)`, `register_data_loaders()`,
`register_jobs(huey, registry)`, `on_install(registry, manifest)`); they are collected here in
this fixed order."""
from __future__ import annotations

import importlib
import inspect

PARTS = ("security.crypto", "security.audit", "security.auth", "security.policy")


def _call_parts(hook: str, **kwargs) -> list:
    results = []
    for name in PARTS:
        part = importlib.import_module(name)
        function = getattr(part, hook, None)
        if function is None:
            continue
        accepted = inspect.signature(function).parameters
        results.append(function(**{k: v for k, v in kwargs.items() if k in accepted}))
    return results


def collect_list(hook: str, **kwargs) -> list:
    return [item for result in _call_parts(hook, **kwargs) for item in (result or [])]


def collect_dict(hook: str, **kwargs) -> dict:
    merged: dict = {}
    for result in _call_parts(hook, **kwargs):
        merged.update(result or {})
    return merged


def call_all(hook: str, **kwargs) -> None:
    _call_parts(hook, **kwargs)
