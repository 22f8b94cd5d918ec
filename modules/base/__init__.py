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


@hookimpl
def register_menus():
    """Web UI administration entries (filtered per user by `modules.web.menu`)."""
    return [
        {"key": "admin_users", "label": "用户", "label_en": "Users", "url": "/admin/users",
         "permission": ("write", "model/base_user"), "order": 90},
        {"key": "admin_departments", "label": "组织架构", "label_en": "Departments",
         "url": "/admin/departments", "permission": ("write", "model/base_department"),
         "order": 91},
        {"key": "admin_roles", "label": "角色分配", "label_en": "Roles", "url": "/admin/roles",
         "permission": ("read", "model/base_user_role"), "order": 92},
        {"key": "admin_fields", "label": "字段权限", "label_en": "Field rules",
         "url": "/admin/fields", "permission": ("read", "model/security_casbin_rule"), "order": 93},
        {"key": "admin_scopes", "label": "数据范围", "label_en": "Row scopes",
         "url": "/admin/scopes", "permission": ("read", "model/security_casbin_rule"),
         "order": 94},
        {"key": "admin_audit", "label": "审计日志", "label_en": "Audit log", "url": "/admin/audit",
         "permission": ("read", "model/security_audit"), "order": 95},
    ]
