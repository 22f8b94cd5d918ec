"""Bulk-load mode of a large SQLite import: the four random-key indexes of `leads_lead` are
dropped for the import and built again after it, and the import's duplicate lookups come
from memory meanwhile.

Why: a lead's blind indexes (mobile, e-mail, WeChat) and `company_key` are random keys, so
each new lead inserts into four B-trees at random pages. At 1M leads that was the import's
largest cost — index work on random pages, their WAL frames and checkpoints — and it grows
with the table. Built once at the end, from sorted keys, the same four indexes cost 2.7 s
for 1M rows; the import ran 63.8 s with them and 45.4 s without (`create` policy, no
lookups; docs/benchmarks.md "Lead import, bulk-load mode"). Databases do the same for big
loads (pg_restore builds indexes after the data).

When: SQLite, a real run (not a dry run), at least `leads.import_bulk_rows` rows left
(default `BULK_ROWS`), and no more leads in the table than rows to import — the rebuild
costs at most about twice the import's own rows, and the memory below stays bounded by the
import's size.

Dedupe stays exact (`HeldLedger`): the division's unmerged leads' blind indexes are read once
into memory at the start and the import adds every lead it creates or fills. Another
connection's commit (`PRAGMA data_version`, read inside the batch's write transaction)
makes the importer read them again from the table before that batch — a full scan (about
0.3 s at 1M leads) instead of a per-batch lookup on absent indexes.

Meanwhile others still read and write leads; a lookup by channel or company scans the table
instead of using the index (slower, never wrong). A run killed in bulk mode leaves the
indexes dropped: the next `execute` of any run and the periodic `leads.resume_imports` job
build them again (`restore`).
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from core.db import atomic, database, is_postgres
from modules.leads.importer import probes
from modules.leads.importer.sql import contacts_holding
from modules.leads.models import Lead

log = logging.getLogger("huike.leads.import")
BULK_ROWS = 100_000  # default of the `leads.import_bulk_rows` setting (0: never)
DEFERRED = ("mobile_bidx", "email_bidx", "wechat_bidx", "company_key")
HELD = ("mobile_bidx", "email_bidx", "wechat_bidx")  # the columns the import dedupes on


def index_names() -> list[str]:
    """The names of the deferred indexes, as the model creates them."""
    table = Lead._meta.table_name
    return [f"{table}_{Lead._meta.fields[name].column_name}" for name in DEFERRED]


def wanted(settings, spec, rows_left: int) -> bool:
    """Does this run load in bulk mode? (See the module doc.)"""
    limit = int(settings["leads"].get("import_bulk_rows", BULK_ROWS))
    if is_postgres() or spec.dry_run or limit <= 0 or rows_left < limit:
        return False
    return Lead.select().count() <= rows_left


def missing() -> list[str]:
    """The deferred indexes absent from the database (SQLite; PostgreSQL: none)."""
    if is_postgres():
        return []
    present = {name for (name,) in database.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
        (Lead._meta.table_name,))}
    return [name for name in index_names() if name not in present]


def restore() -> list[str]:
    """Build the deferred indexes that are missing (a run in bulk mode ended, or was killed);
    returns their names. The model's own index definitions, `IF NOT EXISTS`."""
    absent = missing()
    if absent:
        Lead._schema.create_indexes(safe=True)
        log.info("lead indexes built after a bulk import: %s", ", ".join(absent))
    return absent


@contextlib.contextmanager
def deferred(on: bool) -> Iterator[None]:
    """Drop the deferred indexes for the block and build them after it, whatever happened;
    when `on` is false, only make sure none is missing (a killed bulk run's)."""
    if not on:
        restore()
        yield
        return
    with atomic():
        for name in index_names():
            database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield
    finally:
        restore()


def held_indexes(division_id: int) -> dict[str, int]:
    """`{blind index: id of the oldest unmerged lead of the division holding it}` — what
    `probes.existing_leads` answers for any value, read in one pass over the division."""
    columns = ", ".join(f'"{Lead._meta.fields[name].column_name}"' for name in HELD)
    division = Lead._meta.fields["division"].column_name
    sql = (f'SELECT "id", {columns} FROM "{Lead._meta.table_name}" '
           f'WHERE "{division}" = {database.param} AND "merged_into" IS NULL ORDER BY "id"')
    held: dict[str, int] = {}
    for pk, *values in database.execute_sql(sql, (division_id,)):
        for value in values:
            if value and value not in held:
                held[value] = pk
    return held


class HeldLedger(probes.Ledger):
    """The importer's lookups in bulk mode, without the dropped indexes: every blind index of
    the division's leads held in memory (`held_indexes`), kept up to date with the import's
    own writes (`remember`) and read again when another connection has committed (`observe`,
    inside the batch's write transaction: nobody else writes while the batch is handled).
    Customers' contacts keep their indexes: the worker process's probe, or one query."""

    def __init__(self, division_id: int):
        super().__init__()
        self.division_id = division_id
        self.held = held_indexes(division_id)
        self.reloads = 0

    def observe(self, cursor: int) -> None:
        version = self.version
        super().observe(cursor)
        if self.version != version:
            self.held = held_indexes(self.division_id)
            self.reloads += 1

    def found(self, probed: tuple | None, wanted: dict[str, set[str]]) -> tuple:
        held = self.held
        existing = {value: held[value] for values in wanted.values() for value in values
                    if value in held}
        if probed is not None and probed[0] > self.foreign_at:
            self.used += 1
            return existing, probed[2]
        self.refused += 1
        return existing, contacts_holding(wanted)

    def remember(self, cursor: int, held_pairs: list[tuple[str, int]]) -> None:
        held = self.held
        for value, pk in held_pairs:
            known = held.get(value)
            if known is None or pk < known:
                held[value] = pk
