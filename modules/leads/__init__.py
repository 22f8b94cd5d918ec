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
    from modules.leads.handlers_automation import automation_routes
    return [*automation_routes()]  # part 2 (automation); part 1 adds its routes after these


@hookimpl
def register_jobs(huey, registry):
    from modules.leads.jobs import register
    return register(huey, registry)


@hookimpl
def register_actions():
    return [{"name": "lead.pool", "label": "线索公海", "label_en": "Lead pool (browse, claim)"}]


@hookimpl
def register_timeline_models(registry):
    from modules.leads.models import Lead
    return {"lead": Lead}
