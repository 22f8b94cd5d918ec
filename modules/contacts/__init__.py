"""The `contacts` module: customer 360 — accounts, contacts, activities, tasks, handover.

Contributions: models, routes (`handlers.contacts_routes`), the action rights
`account.pool` (see and claim the division's pool) and `handover` (离职交接), the task
reminder job, the `huike handover` command, the `account` / `contact` timeline parents,
the accounts / open-tasks handover providers and the demo data.
"""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.contacts.models import MODELS
    return MODELS


@hookimpl
def register_routes(registry):
    from modules.contacts.handlers import contacts_routes
    return contacts_routes()


@hookimpl
def register_actions():
    return [
        {"name": "account.pool", "label": "客户公海", "label_en": "Account pool (browse, claim)"},
        {"name": "handover", "label": "离职交接", "label_en": "Hand over a departing user"},
    ]


@hookimpl
def register_jobs(huey, registry):
    from modules.contacts.reminders import register
    return register(huey, registry)


@hookimpl
def register_cli(group):
    from modules.contacts.cli import handover_command
    group.add_command(handover_command)


@hookimpl
def register_timeline_models(registry):
    from modules.contacts.models import Account, Contact
    return {"account": Account, "contact": Contact}


@hookimpl
def register_handover(registry):
    from modules.contacts.handover import AccountsProvider, TasksProvider
    return [AccountsProvider(), TasksProvider()]


@hookimpl
def load_demo(registry):
    from modules.contacts.demo import load_demo as load
    return load(registry)


@hookimpl
def register_menus():
    """Web UI menu entries (filtered per user by `modules.web.menu` with `security.can`)."""
    return [
        {"key": "accounts", "label": "客户", "label_en": "Accounts", "url": "/accounts",
         "permission": ("read", "model/account"), "order": 20},
        {"key": "contacts", "label": "联系人", "label_en": "Contacts", "url": "/contacts",
         "permission": ("read", "model/contact"), "order": 21},
        {"key": "handover", "label": "离职交接", "label_en": "Handover", "url": "/handover",
         "permission": ("execute", "action/handover"), "order": 80},
    ]


@hookimpl
def on_install(registry, manifest):
    """The triggers keeping contacts' mirrors of their account's scope columns; hash
    indexes for the blind indexes on PostgreSQL (`security.crypto.blind.hash_indexes`)."""
    from modules.contacts.models import Contact
    from security.crypto.blind import hash_indexes
    from security.mirrors import install_triggers
    install_triggers(Contact)
    hash_indexes(Contact)


@hookimpl
def on_upgrade(registry, manifest, from_version):
    on_install(registry, manifest)
