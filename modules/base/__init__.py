"""The `base` module: org tree, regions, users, roles, sequences, tags, attachments."""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.base.models import MODELS
    return MODELS


@hookimpl
def register_cli(group):
    from modules.base.cli import user
    group.add_command(user)
