"""Data at chosen sizes: accounts, contacts, opportunities and leads (each topped up to N rows).

Rows look real (Chinese companies, people, mobiles, regions, sources; timestamps spread over
two years in id order) and are written with `bench.bulk` in 1,000-row batches. The crowd of
other reps owns the data round-robin; then `spread_ownership` gives each measured user exactly
`own` accounts (and deals, and leads) picked uniformly over the whole table — at every size the
restricted user sees the same amount of data, scattered among ever more rows of others, which
is what "cost stays flat as data grows" has to prove.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal
from typing import Iterator

from bench import bulk
from bench.names import CITY_REGION, DECISION_ROLES, Names
from bench.org import Org

START = dt.datetime(2024, 1, 1)
SPAN_SECONDS = 2 * 365 * 24 * 3600
TIERS = ("A", "B", "B", "C", "C", "C", "D")
LIFECYCLES = ("lead", "mql", "sql", "customer", "customer", "churned")


def _stamp(index: int, total: int) -> dt.datetime:
    return START + dt.timedelta(seconds=int(SPAN_SECONDS * index / max(total, 1)))


class Generator:
    """Tops tables up to a size; remembers nothing but the org and the seeded RNG."""

    def __init__(self, org: Org, seed: int = 2026, horizon: int = 1_000_000):
        self.org = org
        self.names = Names(seed)
        self.rng = random.Random(seed)
        self.horizon = horizon  # timestamps spread as if the table were to hold this many
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ helpers
    def owner(self, index: int) -> tuple[int, int]:
        user = self.org.others[index % len(self.org.others)]
        return user, self.org.division_of[user]

    def _run(self, label: str, model, given, rows: Iterator[dict]) -> int:
        started = time.perf_counter()
        count = bulk.Bulk(model, given).insert(rows)
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - started
        return count

    # ------------------------------------------------------------------ accounts
    def accounts(self, target: int) -> int:
        from modules.contacts.models import Account
        from modules.contacts.names import name_key

        _, high, count = bulk.id_range(Account)
        missing = target - count

        def rows():
            for n in range(count, target):
                name, industry, city = self.names.company()
                owner, division = self.owner(n)
                stamp = _stamp(n, self.horizon)
                yield {"name": name, "short_name": name[len(city):len(city) + 4],
                       "name_key": name_key(name), "industry": industry,
                       "region": self.org.regions.get(CITY_REGION.get(city, "")),
                       "division": division, "owner": owner, "created_by": owner,
                       "value_tier": self.rng.choice(TIERS),
                       "lifecycle": self.rng.choice(LIFECYCLES),
                       "address": f"{city}市高新区科技路{self.rng.randrange(1, 999)}号",
                       "created_at": stamp, "updated_at": stamp}

        given = ("name", "short_name", "name_key", "industry", "region", "division", "owner",
                 "created_by", "value_tier", "lifecycle", "address", "created_at", "updated_at")
        return self._run("accounts", Account, given, rows()) if missing > 0 else 0

    # ------------------------------------------------------------------ contacts
    def contacts(self, target: int) -> int:
        from modules.contacts.models import Account, Contact

        _, _, count = bulk.id_range(Contact)
        low, high, accounts = bulk.id_range(Account)
        if target <= count or not accounts:
            return 0

        def rows():
            for n in range(count, target):
                stamp = _stamp(n, self.horizon)
                account = low + (n * 7919) % (high - low + 1)  # scattered, every account used
                yield {"account": account, "name": self.names.person(),
                       "title": self.names.title(), "department_name": "采购部",
                       "mobile": self.names.mobile(), "email": self.names.email(n),
                       "decision_role": self.rng.choice(DECISION_ROLES),
                       "created_at": stamp, "updated_at": stamp}

        given = ("account", "name", "title", "department_name", "mobile", "email",
                 "decision_role", "created_at", "updated_at")
        return self._run("contacts", Contact, given, rows())

    # ------------------------------------------------------------------ opportunities
    def opportunities(self, target: int) -> int:
        from modules.contacts.models import Account
        from modules.opportunities.models import Opportunity
        from modules.opportunities.pipelines import default_pipeline, stages_of

        _, _, count = bulk.id_range(Opportunity)
        low, high, accounts = bulk.id_range(Account)
        if target <= count or not accounts:
            return 0
        pipelines = {}
        for division in set(self.org.division_of.values()):
            pipeline = default_pipeline(division)
            pipelines[division] = (pipeline.id, [s.id for s in stages_of(pipeline.id)
                                                 if s.kind == "open"])

        def rows():
            for n in range(count, target):
                owner, division = self.owner(n)
                pipeline, stages = pipelines[division]
                stamp = _stamp(n, self.horizon)
                amount = Decimal(self.rng.randrange(5, 500) * 10_000)
                yield {"name": f"{self.names.company()[0][:8]}{self.names.product()}项目",
                       "account": low + (n * 104729) % (high - low + 1),
                       "division": division, "owner": owner, "created_by": owner,
                       "pipeline": pipeline, "stage": self.rng.choice(stages),
                       "amount": amount, "budget": amount,
                       "expected_close": (stamp + dt.timedelta(days=self.rng.randrange(30, 240))
                                          ).date(),
                       "stage_entered_at": stamp, "created_at": stamp, "updated_at": stamp}

        given = ("name", "account", "division", "owner", "created_by", "pipeline", "stage",
                 "amount", "budget", "expected_close", "stage_entered_at", "created_at",
                 "updated_at")
        return self._run("opportunities", Opportunity, given, rows())

    # ------------------------------------------------------------------ leads
    def leads(self, target: int) -> int:
        from modules.leads.models import Lead

        _, _, count = bulk.id_range(Lead)
        if target <= count:
            return 0

        def rows():
            for n in range(count, target):
                owner, division = self.owner(n)
                company, industry, city = self.names.company()
                stamp = _stamp(n, self.horizon)
                yield {"name": self.names.person(), "company": company,
                       "title": self.names.title(), "mobile": self.names.mobile(),
                       "email": self.names.email(n), "source": self.names.source(),
                       "region": self.org.regions.get(CITY_REGION.get(city, "")),
                       "industry": industry, "status": "new", "division": division,
                       "owner": owner, "score": self.rng.randrange(0, 100),
                       "created_at": stamp, "updated_at": stamp}

        given = ("name", "company", "title", "mobile", "email", "source", "region", "industry",
                 "status", "division", "owner", "score", "created_at", "updated_at")
        return self._run("leads", Lead, given, rows())


def spread_ownership(model, owner_field: str, users: list[int], own: int, others: list[int],
                     rng: random.Random, extra: dict | None = None) -> None:
    """Give each of `users` exactly `own` rows of `model`, chosen uniformly over its ids
    (rows they held before go back to the crowd); `extra` values (e.g. the users' division)
    are set on the picked rows too."""
    from core.db import atomic

    column = getattr(model, owner_field)
    low, high, count = bulk.id_range(model)
    if count == 0:
        return
    picks = rng.sample(range(low, high + 1), min(count, own * len(users)))
    with atomic():
        model.update({column: others[0]}).where(column.in_(users)).execute()
        for position, user in enumerate(users):
            ids = picks[position::len(users)]
            for start in range(0, len(ids), 500):
                values = {column: user, **{getattr(model, k): v for k, v in (extra or {}).items()}}
                model.update(values).where(model.id.in_(ids[start:start + 500])).execute()
