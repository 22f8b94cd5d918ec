"""Per-division settings of the SLA clocks and the public pool, with defaults.

A division's own `SlaPolicy` / `PoolSettings` row wins; otherwise the default row (division
NULL, seeded from `data/automation.toml`); otherwise the built-in values below. One query per
lookup, for any number of divisions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from modules.leads import rawsql
from modules.leads.automation_models import PoolSettings, SlaPolicy


@dataclass(frozen=True)
class Sla:
    first_response_minutes: int = 5
    followup_hours: int = 48
    escalation_levels: int = 2


@dataclass(frozen=True)
class Pool:
    recycle_days: int = 30
    claim_daily_limit: int = 20
    protection_days: int = 7


def _lookup(model, view, division_ids: Iterable[int]) -> dict[int, object]:
    ids = sorted({d for d in division_ids if d is not None})
    names = view.__dataclass_fields__
    rows = rawsql.load(model, ("division", *names),
                       f'"division_id" IS NULL OR "division_id" IN ({rawsql.marks(ids)})',
                       tuple(ids))
    default = next((r for r in rows if r.division_id is None), None)
    by_division = {r.division_id: r for r in rows if r.division_id is not None}
    out = {}
    for division in ids:
        row = by_division.get(division) or default
        out[division] = view(**{n: getattr(row, n) for n in names}) if row else view()
    return out


def sla_policies(division_ids: Iterable[int]) -> dict[int, Sla]:
    return _lookup(SlaPolicy, Sla, division_ids)


def pool_settings(division_ids: Iterable[int]) -> dict[int, Pool]:
    return _lookup(PoolSettings, Pool, division_ids)


def sla_policy(division_id: int) -> Sla:
    return sla_policies([division_id])[division_id]


def pool_setting(division_id: int) -> Pool:
    return pool_settings([division_id])[division_id]
