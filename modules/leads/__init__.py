"""The `leads` module: capture, import, dedupe, score, assign, SLA, pool, SOP, nurture, convert."""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.leads.automation_models import AUTOMATION_MODELS
    from modules.leads.models import MODELS
    return [*MODELS, *AUTOMATION_MODELS]
