"""What happens to leads right after they are created: the extension point between capture
(part 1: API, web forms, imports) and automation (part 2: scoring, assignment).

Every path that creates leads runs these steps in the transaction that inserts them:
`services.create_lead` calls `after_create(ctx, lead_ids)` after its INSERT; the hot paths —
the web form and each import batch — run the same steps around their INSERT instead
(`before_insert` / `after_insert`; one call per batch: an import of 100k rows makes ~50
calls, not 100k), so scores, owners and clocks are written by the INSERT itself rather than
by UPDATEs of rows just inserted (bench/bench_leads_*.py).
It runs, when present:

1. `modules.leads.scoring.rescore(ctx, lead_ids)` — compute `score`, `score_breakdown`, `hot`;
2. `modules.leads.assignment.assign(ctx, lead_ids)` — give ownerless leads an owner and
   start their SLA clocks.

Both take a list of ids and must work in bulk (a few queries per call, not per lead): the
import benchmark counts them. A step whose module or function does not exist yet is skipped,
so capture works before part 2 lands. Any exception propagates and rolls the batch back.
"""
from __future__ import annotations

import importlib
from typing import Callable, Iterable

STEPS = (("modules.leads.scoring", "rescore"), ("modules.leads.assignment", "assign"))


def _step(module: str, name: str) -> Callable | None:
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise  # the module exists but one of its imports is missing: a real error
        return None
    return getattr(found, name, None)


def steps() -> list[Callable]:
    """The post-create steps available in this installation, in order."""
    return [func for func in (_step(m, n) for m, n in STEPS) if func is not None]


BEFORE_INSERT = (("modules.leads.scoring", "score_new"), ("modules.leads.assignment", "place_new"))
AFTER_INSERT = (("modules.leads.assignment", "announce"),)


def before_insert(ctx, leads: list) -> None:
    """The bulk path (import batches): the same steps on new leads *before* they are
    inserted — in-memory `Lead` instances without ids get `score`, `score_breakdown`, owner
    and clocks (or pool entry) set, and the batch's INSERT writes them at once. Call
    `after_insert` with the same instances, ids set, once inserted (notifications)."""
    if leads:
        for func in [f for f in (_step(m, n) for m, n in BEFORE_INSERT) if f is not None]:
            func(ctx, leads)


def after_insert(ctx, leads: list) -> None:
    for func in [f for f in (_step(m, n) for m, n in AFTER_INSERT) if f is not None]:
        func(ctx, leads)


def after_create(ctx, leads: Iterable) -> None:
    """Run scoring then assignment on newly created leads, in the caller's transaction.

    `leads` are ids, or `Lead` instances holding every column the steps read (scoring's and
    assignment's `COLUMNS`) as just inserted — an import batch builds them from the rows it
    wrote, so neither step has to read the batch back; the steps update them in place."""
    from modules.leads.models import Lead

    leads = list(leads)
    if not leads:
        return
    batch = leads if isinstance(leads[0], Lead) else [int(pk) for pk in leads]
    for step in steps():
        step(ctx, batch)
