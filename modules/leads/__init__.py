"""The `leads` module: capture, import, dedupe, score, assign, SLA, pool, SOP, nurture, convert."""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.leads.automation_models import AUTOMATION_MODELS
    from modules.leads.models import MODELS
    return [*MODELS, *AUTOMATION_MODELS]


@hookimpl
def register_routes(registry):
    from modules.leads.handlers import leads_routes
    from modules.leads.handlers_automation import automation_routes
    return [*automation_routes(), *leads_routes()]  # part 2 (automation), part 1 (capture)


@hookimpl
def register_jobs(huey, registry):
    from modules.leads.importer.jobs import register as import_jobs
    from modules.leads.jobs import register
    return [*(register(huey, registry) or []), *import_jobs(huey, registry)]


@hookimpl
def register_actions():
    return [{"name": "lead.pool", "label": "线索公海", "label_en": "Lead pool (browse, claim)"},
            {"name": "lead.import", "label": "导入线索", "label_en": "Import leads"},
            {"name": "lead.merge", "label": "合并线索", "label_en": "Merge duplicate leads"},
            {"name": "lead.convert", "label": "转化线索", "label_en": "Convert leads"}]


@hookimpl
def register_timeline_models(registry):
    from modules.leads.models import Lead
    return {"lead": Lead}


@hookimpl
def register_cli(group):
    from modules.leads.importer.cli import register
    register(group)


@hookimpl
def load_demo(registry):
    from modules.leads.demo import load_demo as load
    return load(registry)


@hookimpl
def register_handover(registry):
    from modules.leads.handover import LeadsProvider
    return [LeadsProvider()]


@hookimpl
def register_menus():
    """Web UI menu entries (filtered per user by `modules.web.menu` with `security.can`)."""
    return [
        {"key": "leads", "label": "线索", "label_en": "Leads", "url": "/leads",
         "permission": ("read", "model/lead"), "order": 10},
        {"key": "leads_pool", "label": "线索公海", "label_en": "Lead pool", "url": "/leads/pool",
         "permission": ("execute", "action/lead.pool"), "order": 11},
        {"key": "leads_import", "label": "导入线索", "label_en": "Import leads",
         "url": "/leads/import", "permission": ("execute", "action/lead.import"), "order": 12},
    ]


@hookimpl
def on_install(registry, manifest):
    """Hash indexes for the leads' blind indexes on PostgreSQL
    (`security.crypto.blind.hash_indexes`: equality-only lookups, cheaper imports)."""
    from modules.leads.models import Lead
    from security.crypto.blind import hash_indexes
    hash_indexes(Lead)


@hookimpl
def on_upgrade(registry, manifest, from_version):
    on_install(registry, manifest)
