"""The `contacts` module: customer 360 — accounts, contacts, activities, tasks, handover."""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.contacts.models import MODELS
    return MODELS
