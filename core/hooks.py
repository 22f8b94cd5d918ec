"""The hook specifications every module (core features included) contributes through.

A module implements hooks as plain functions decorated with `hookimpl` in its package
`__init__.py`; the registry calls them in module load order.
"""
from __future__ import annotations

import pluggy

PROJECT = "huike"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ModuleSpecs:
    @hookspec
    def register_models(self):
        """Return the peewee model classes this module owns (tables are created on install)."""

    @hookspec
    def register_routes(self, registry):
        """Return `(pattern, HandlerClass)` or `(pattern, HandlerClass, kwargs)` tuples."""

    @hookspec
    def register_actions(self):
        """Return action descriptors `{"name": "lead.convert", "label": "转化", ...}`."""

    @hookspec
    def register_menus(self):
        """Return menu entries `{"key", "label", "label_en", "url", "permission", "order"}`."""

    @hookspec
    def register_jobs(self, huey, registry):
        """Declare periodic/background tasks on the given huey instance; return them."""

    @hookspec
    def register_outbox_handlers(self, registry):
        """Return `{topic: handler(payload, message)}` for outbox messages this module delivers."""

    @hookspec
    def register_event_handlers(self, registry):
        """Return `{event_name: [handler(ctx, payload), ...]}` for in-process events."""

    @hookspec
    def register_data_loaders(self):
        """Return `{suffix_or_filename: loader(registry, manifest, path)}` for seed data files."""

    @hookspec
    def register_cli(self, group):
        """Add click commands to the `huike` command group."""

    @hookspec
    def on_install(self, registry, manifest):
        """Called once, after the module's tables and data are created."""

    @hookspec
    def on_upgrade(self, registry, manifest, from_version):
        """Called after migration steps ran because the module's version rose."""

    @hookspec
    def load_demo(self, registry):
        """Create demo data beyond the manifest's `load.demo` files."""

    @hookspec
    def register_authenticators(self, registry):
        """Return callables `authenticate(handler) -> user | None`, tried in load order."""

    @hookspec
    def register_handover(self, registry):
        """Return handover providers: objects with `label`, `count(ctx, from_user) -> int` and
        `move(ctx, from_user, assign) -> list[(model, id, to_user)]` where `assign(record) -> User`
        picks the receiving user (离职交接: a departing user's records move to others). `model`
        is the peewee model class (or its table name); the caller audits each moved record and
        runs everything in one transaction (see `modules.contacts.handover`)."""

    @hookspec
    def register_timeline_models(self, registry):
        """Return `{res_model: Model}` for parent records that own a timeline (activities and
        tasks with that `res_model`); the timeline checks the parent is in the caller's scope."""
