"""The `base` module: org tree, regions, users, roles, sequences, tags, attachments — and the
hooks through which the security door (`security.*`) joins the module system."""
from __future__ import annotations

from core.hooks import hookimpl
from security import plugin as security_plugin


@hookimpl
def register_models():
    from modules.base.models import MODELS
    return [*MODELS, *security_plugin.collect_list("register_models")]


@hookimpl
def register_routes(registry):
    from modules.base.handlers import base_routes
    return [*base_routes(), *security_plugin.collect_list("register_routes", registry=registry)]


@hookimpl
def register_authenticators(registry):
    return security_plugin.collect_list("register_authenticators", registry=registry)


@hookimpl
def register_data_loaders():
    return security_plugin.collect_dict("register_data_loaders")


@hookimpl
def register_jobs(huey, registry):
    return security_plugin.collect_list("register_jobs", huey=huey, registry=registry)


@hookimpl
def on_install(registry, manifest):
    from modules.base.models import create_extra_indexes
    create_extra_indexes()
    security_plugin.call_all("on_install", registry=registry, manifest=manifest)


@hookimpl
def on_upgrade(registry, manifest, from_version):
    from modules.base.models import create_extra_indexes
    create_extra_indexes()
    security_plugin.call_all("on_upgrade", registry=registry, manifest=manifest,
                             from_version=from_version)


@hookimpl
def register_actions():
    from security.reveals import ACTIONS
    return [*ACTIONS, *security_plugin.collect_list("register_actions")]


@hookimpl
def register_cli(group):
    from modules.base.cli import user
    group.add_command(user)
    security_plugin.call_all("register_cli", group=group)


@hookimpl
def load_demo(registry):
    from modules.base.demo import load_demo as load
    return load(registry)
