"""The security door: every read and write of business data goes through these functions.

    from security import can, require, permissions, model_name

- `can(ctx, act, resource) -> bool` / `require(ctx, act, resource)` (403 `forbidden`): Casbin
  RBAC with domains behind path-shaped resources `model/<name>`, `field/<model>/<field>`,
  `action/<name>`.
- `permissions(ctx) -> PermissionTable`: the compiled table for the caller's role set in the
  caller's division (cached per process and per request): `allows`, `field_level`,
  `scope_level`, `explain`.
- `model_name(Model)`: the name a model has in resources.

Names are resolved lazily (PEP 562) so importing `security` never drags in the engine (and
never closes an import cycle with `modules.base`). To export a new name, add one line to
`_EXPORTS`: `"name": "package.module"`.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "can": "security.policy.api",
    "require": "security.policy.api",
    "permissions": "security.policy.api",
    "model_name": "security.policy.names",
    "PermissionTable": "security.policy.table",
    # field rules, serialisation, row scopes, shares, reveal, scoped access (security.crud)
    "permitted_fields": "security.fields",
    "permitted_columns": "security.fields",
    "check_write": "security.fields",
    "FieldPermissions": "security.fields",
    "serialise": "security.serialisation",
    "scope": "security.scopes",
    "compile_scope": "security.scopes",
    "share": "security.shares",
    "reveal": "security.reveals",
    "scoped_select": "security.crud",
    "get_or_404": "security.crud",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'security' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
