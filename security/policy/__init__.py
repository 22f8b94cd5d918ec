"""The policy engine of the security door (pycasbin RBAC with domains).

Hooks picked up by `security.plugin` through the `base` module: the rule and version tables,
the admin API routes and the `access.csv` data loader. The door's functions themselves are
exported from `security` (`can`, `require`, `permissions`, `model_name`).
"""
from __future__ import annotations


def register_models():
    from security.policy.models import MODELS
    from security.shares import MODELS as SHARE_MODELS  # record shares (security.scope)
    return [*MODELS, *SHARE_MODELS]


def register_routes(registry):
    from security.policy.handlers import routes
    from security.exports import ROUTES as EXPORT_ROUTES  # GET /api/v1/export/<model>
    from security.reveals import ROUTES as REVEAL_ROUTES  # POST /api/v1/reveal
    return [*routes(), *REVEAL_ROUTES, *EXPORT_ROUTES]


def register_data_loaders():
    from security.policy.seed import load_access_csv
    return {"access.csv": load_access_csv}


def on_install(registry, manifest):
    from security.policy.watch import ensure_version_row
    ensure_version_row()
