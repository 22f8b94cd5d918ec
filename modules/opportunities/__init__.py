"""The `opportunities` module: pipelines per division with stages and data-driven stage
gates, deals with competitors and stage history, weighted forecasts with daily snapshots and
forecast-vs-actual variance, and the kanban.

Contributions: models, routes (`handlers.opportunities_routes`), the daily forecast snapshot
job, the default pipeline of every division at install (later divisions get theirs on first
use, see `pipelines`), the `opportunity` timeline parent, the open-deals handover provider
and the demo deals.
"""
from __future__ import annotations

from core.hooks import hookimpl


@hookimpl
def register_models():
    from modules.opportunities.models import MODELS
    return MODELS


@hookimpl
def register_routes(registry):
    from modules.opportunities.handlers import opportunities_routes
    return opportunities_routes()


@hookimpl
def register_jobs(huey, registry):
    from modules.opportunities.jobs import register
    return register(huey, registry)


@hookimpl
def on_install(registry, manifest):
    from modules.opportunities.pipelines import seed_all_divisions
    seed_all_divisions()


@hookimpl
def register_timeline_models(registry):
    from modules.opportunities.models import Opportunity
    return {"opportunity": Opportunity}


@hookimpl
def register_handover(registry):
    from modules.opportunities.handover import OpportunitiesProvider
    return [OpportunitiesProvider()]


@hookimpl
def load_demo(registry):
    from modules.opportunities.demo import load_demo as load
    return load(registry)


@hookimpl
def register_menus():
    """Web UI menu entries (filtered per user by `modules.web.menu` with `security.can`)."""
    return [
        {"key": "deals", "label": "商机", "label_en": "Deals", "url": "/deals",
         "permission": ("read", "model/opportunity"), "order": 30},
        {"key": "forecast", "label": "销售预测", "label_en": "Forecast", "url": "/deals/forecast",
         "permission": ("read", "model/opportunity"), "order": 31},
    ]
