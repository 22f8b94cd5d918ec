"""Duplicate probes made ahead by the import's worker process, and what makes them exact.

A batch's two duplicate lookups (`sql.leads_holding`, `sql.contacts_holding`: the division's
leads and every contact holding one of the batch's blind indexes) cost the importing process
~5 µs a row at 100k rows — on SQLite it is the critical path (py-spy, `bench/
bench_leads_import.py`). The worker process can make them instead, on its own read
connection, while the importer writes earlier batches (`probe`). Its answer is a snapshot,
older than the moment the batch is written; `Ledger` brings it up to date, or refuses it:

- **the import's own writes since the snapshot.** The worker reads the run's committed row
  cursor (`ImportRun.processed`) in the same read transaction as the lookups, so the
  snapshot says which of the run's batches it saw. The importer remembers, for the batches
  after that, the blind indexes of the leads it created and of the channels it filled by
  merging, and adds them to the answer — the smallest lead id per index, as the lookup's
  `ORDER BY id` would (`Ledger.found`).
- **everyone else's writes** (a web-form post, a rep's edit, another import). The importer
  holds SQLite's write lock for a whole commit group, so others commit only between groups;
  `PRAGMA data_version` on the importer's connection changes exactly when another connection
  has committed. When it changed before the batch in hand, any snapshot taken at or before
  the cursor of that moment may have missed the commit: the importer looks up that batch
  itself, as it always did (`Ledger.found` → None).

Only SQLite imports (not dry runs; not the `create` policy, which looks nothing up) use it:
PostgreSQL has no `data_version` and other writers commit at any time there.
"""
from __future__ import annotations

from collections import deque

from core.db import database, is_postgres
from modules.leads.importer.sql import contacts_holding, leads_holding
from modules.leads.models_capture import ImportRun


def wanted(pending: list, specs: list) -> dict[str, set[str]]:
    """The batch's blind indexes per lead column (`{index column: values}`)."""
    found = {spec.index_name: set() for spec in specs}
    for p in pending:
        for spec in specs:
            if p.indexes[spec.name]:
                found[spec.index_name].add(p.indexes[spec.name])
    return found


def existing_leads(division_id: int, wanted: dict[str, set[str]]) -> dict[str, int]:
    """Index → id of the oldest unmerged lead of the division holding it (one query)."""
    found: dict[str, int] = {}
    for pk, *indexes in leads_holding(division_id, wanted):
        for index in indexes:
            if index:
                found.setdefault(index, pk)
    return found


def usable(spec) -> bool:
    """Does this run take the worker's probes? (SQLite, a real run, a policy that looks.)"""
    return not is_postgres() and not spec.dry_run and spec.policy != "create"


def probe(run_id: int, division_id: int, wanted: dict[str, set[str]],
          leads: bool = True) -> tuple:
    """The worker's lookups for one batch: `(run cursor, {index: lead id}, customer
    indexes)`, all three read in one snapshot (a deferred transaction: no write lock).
    Without `leads` (a bulk load: `bulkload.HeldLedger` answers for leads) no lead lookup."""
    with database.atomic("DEFERRED"):
        cursor = (ImportRun.select(ImportRun.processed).where(ImportRun.id == run_id)
                  .scalar())
        found = existing_leads(division_id, wanted) if leads else {}
        return cursor, found, contacts_holding(wanted)


class Ledger:
    """The importer's side (one per run; see the module doc). `observe` before each batch,
    `found` for its lookups, `remember` after its insert."""

    def __init__(self):
        self.version = self._data_version()
        self.foreign_at = -1  # the run cursor when another connection's commit was last seen
        self.recent: dict[str, tuple[int, int]] = {}  # index → (lead id, cursor after batch)
        self.batches: deque[tuple[int, list[str]]] = deque()  # (cursor after, indexes)
        self.used = self.refused = 0  # batches answered from the worker's probes / not

    @staticmethod
    def _data_version() -> int:
        return database.execute_sql("PRAGMA data_version").fetchone()[0]

    def observe(self, cursor: int) -> None:
        """Before a batch (inside its write transaction), the run cursor before it: has
        another connection committed since the last batch?"""
        version = self._data_version()
        if version != self.version:
            self.version, self.foreign_at = version, cursor

    def found(self, probed: tuple | None, wanted: dict[str, set[str]]) -> tuple | None:
        """`(existing, customers)` for the batch from the worker's `probed` answer brought
        up to date, or None when the importer must look up itself."""
        if probed is None or probed[0] <= self.foreign_at:
            self.refused += 1
            return None
        seen, existing, customers = probed
        self._forget(seen)
        recent = self.recent
        if recent:
            for values in wanted.values():
                for value in values:
                    mine = recent.get(value)
                    if mine is not None and mine[1] > seen:
                        known = existing.get(value)
                        existing[value] = mine[0] if known is None else min(known, mine[0])
        self.used += 1
        return existing, customers

    def remember(self, cursor: int, held: list[tuple[str, int]]) -> None:
        """After a batch: the `(index, lead id)` pairs it created or filled, the run cursor
        after it."""
        recent = self.recent
        for value, pk in held:
            known = recent.get(value)
            if known is None or pk <= known[0]:
                recent[value] = (pk, cursor)
        self.batches.append((cursor, [value for value, _pk in held]))

    def _forget(self, seen: int) -> None:
        """Drop what a snapshot at cursor `seen` already shows (snapshots only move on)."""
        batches, recent = self.batches, self.recent
        while batches and batches[0][0] <= seen:
            for value in batches.popleft()[1]:
                known = recent.get(value)
                if known is not None and known[1] <= seen:
                    del recent[value]
