"""The `leads_lead` index diet (migrations/v1_1_0__lead_index_diet.py): a fresh install and
an install upgraded from 1.0.0 end with the same indexes, without the dropped ones."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from core.db import database
from core.migrate import migrate_all
from core.models import InstalledModule
from modules.leads.models import Lead
from modules.leads.tests.capture_org import *  # noqa: F401,F403  (the install fixture)

STEP = Path(__file__).resolve().parents[1] / "migrations" / "v1_1_0__lead_index_diet.py"
OLD = {"leads_lead_status": "status",
       "leads_lead_source": "source", "leads_lead_last_activity_at": "last_activity_at",
       "leads_lead_created_by_id": "created_by_id"}


def indexes() -> set[str]:
    return {index.name for index in database.get_indexes(Lead._meta.table_name)}


def dropped() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("lead_index_diet", STEP)
    step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    return step.DROPPED


def test_fresh_and_upgraded_installs_have_the_same_lead_indexes(install):
    fresh = indexes()
    assert set(dropped()) == set(OLD) and not fresh & set(OLD)
    assert {"leads_lead_division_id_owner_id_status", "leads_lead_division_id",
            "leads_lead_import_key",
            "leads_lead_mobile_bidx", "leads_lead_owner_id"} <= fresh
    for name, column in OLD.items():  # the 1.0.0 schema
        database.execute_sql(f'CREATE INDEX "{name}" ON "{Lead._meta.table_name}" ("{column}")')
    InstalledModule.update(version="1.0.0").where(InstalledModule.name == "leads").execute()
    assert indexes() == fresh | set(OLD)
    assert dict(migrate_all(install.registry))["leads"] == "upgraded 1.0.0 -> 1.1.0"
    assert indexes() == fresh
    assert InstalledModule.get(InstalledModule.name == "leads").version == "1.1.0"
