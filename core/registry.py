"""The registry: the enabled modules, imported in load order, and what they contribute.

`Registry.build(settings)` reads manifests (no code), orders them, imports each module's
package, registers it with pluggy and binds the database. Everything else — the web
application, the worker, migrations, the CLI — is built from one registry.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pluggy

from core import db as dbmod
from core.config import Settings
from core.hooks import PROJECT, ModuleSpecs
from core.manifest import Manifest, discover, select_enabled
from core.models import CORE_MODELS


@dataclass
class Registry:
    settings: Settings
    manifests: list[Manifest]
    plugins: pluggy.PluginManager
    models_by_module: dict[str, list[type]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    # ----------------------------------------------------------------- construction
    @classmethod
    def build(cls, settings: Settings, *, bind_database: bool = True) -> "Registry":
        extra_roots = [Path(p).expanduser().resolve() for p in settings["modules"]["paths"]]
        for root in extra_roots:  # modules in extra folders import as top-level packages
            if str(root) not in sys.path:
                sys.path.append(str(root))
        manifests = select_enabled(discover(extra_roots), settings["modules"]["enabled"],
                                   settings["modules"]["disabled"])
        plugins = pluggy.PluginManager(PROJECT)
        plugins.add_hookspecs(ModuleSpecs)
        for manifest in manifests:
            plugins.register(importlib.import_module(manifest.package), name=manifest.name)
        registry = cls(settings=settings, manifests=manifests, plugins=plugins)
        registry.models_by_module = {"core": list(CORE_MODELS)}
        for name, result in registry.call_each("register_models"):
            registry.models_by_module[name] = list(result or [])
        if bind_database:
            dbmod.bind(dbmod.make_database(
                settings.database_url, pool_size=settings["database"]["pool_size"],
                busy_timeout_ms=settings["database"]["busy_timeout_ms"]))
            from security.crypto.binding import bind_registry
            bind_registry(registry)  # encrypted fields use this install's keyring with this db
        return registry

    # ----------------------------------------------------------------- hooks
    def call_each(self, hook: str, **kwargs) -> list[tuple[str, Any]]:
        """Call `hook` on every module that implements it, in load order, as (module, result)."""
        caller = getattr(self.plugins.hook, hook)
        by_plugin = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
        results = []
        for manifest in self.manifests:
            impl = by_plugin.get(manifest.name)
            if impl is not None:
                results.append((manifest.name, impl.function(
                    **{k: v for k, v in kwargs.items() if k in impl.argnames})))
        return results

    def call_each_for(self, module: str, hook: str, **kwargs) -> Any:
        """Call `hook` on one module only (install/upgrade hooks); None if it has none."""
        for impl in getattr(self.plugins.hook, hook).get_hookimpls():
            if impl.plugin_name == module:
                return impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        return None

    def collect_list(self, hook: str, **kwargs) -> list:
        out: list = []
        for _name, result in self.call_each(hook, **kwargs):
            out.extend(result or [])
        return out

    def collect_dict(self, hook: str, **kwargs) -> dict:
        out: dict = {}
        for _name, result in self.call_each(hook, **kwargs):
            for key, value in (result or {}).items():
                if isinstance(value, list):
                    out.setdefault(key, []).extend(value)
                else:
                    out[key] = value
        return out

    # ----------------------------------------------------------------- lookups
    @property
    def module_names(self) -> list[str]:
        return [m.name for m in self.manifests]

    def manifest(self, name: str) -> Manifest:
        for manifest in self.manifests:
            if manifest.name == name:
                return manifest
        raise KeyError(name)

    @property
    def models(self) -> list[type]:
        return [m for models in self.models_by_module.values() for m in models]

    def model(self, table_name: str) -> type:
        for model in self.models:
            if model._meta.table_name == table_name:
                return model
        raise KeyError(f"no registered model with table {table_name!r}")

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def outbox_handlers(self) -> dict[str, Callable]:
        return self.cached("outbox_handlers",
                           lambda: self.collect_dict("register_outbox_handlers", registry=self))

    @property
    def event_handlers(self) -> dict[str, list[Callable]]:
        return self.cached("event_handlers",
                           lambda: self.collect_dict("register_event_handlers", registry=self))

    @property
    def menus(self) -> list[dict]:
        return self.cached("menus", lambda: sorted(self.collect_list("register_menus"),
                                                    key=lambda m: (m.get("order", 100), m["key"])))

    @property
    def actions(self) -> list[dict]:
        return self.cached("actions", lambda: self.collect_list("register_actions"))
