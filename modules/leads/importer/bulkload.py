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
(default `BULK_ROWS`), no more leads in the table than rows to import — the rebuild costs at
most about twice the import's own rows, and the memory below stays bounded by the import's
size — and no other run being executed (one bulk load at a time).

Dedupe stays exact (`HeldLedger`): the division's unmerged leads' blind indexes are read once
into memory at the start and the import adds every lead it creates or fills. What others do
to leads meanwhile is logged by triggers that live as long as the bulk load (`CHANGES`: a
lead inserted by anyone but this run, a lead's channels, merge or division changed, a lead
deleted). When another connection has committed (`PRAGMA data_version`, read inside the
batch's write transaction) the importer reads the log: others' new leads are added by id,
and any update or delete makes it read the division's indexes again (a full scan, about
0.3 s at 1M leads). Commits that touch no lead cost nothing.

Meanwhile others still read and write leads; a lookup by channel or company scans the table
instead of using the index (slower, never wrong). A run killed in bulk mode leaves the
indexes dropped and the triggers in place: the next run and the periodic
`leads.resume_imports` job restore both when no run is being executed (`restore`).
"""
from __future__ import annotations

import contextlib
import logging
from operator import itemgetter
from typing import Iterator

from core.db import atomic, database, is_postgres
from modules.leads.importer import probes
from modules.leads.importer.sql import contacts_holding
from modules.leads.models import Lead

log = logging.getLogger("huike.leads.import")
BULK_ROWS = 100_000  # default of the `leads.import_bulk_rows` setting (0: never)
DEFERRED = ("mobile_bidx", "email_bidx", "wechat_bidx", "company_key")
HELD = ("mobile_bidx", "email_bidx", "wechat_bidx")  # the columns the import dedupes on
HELD_COLUMNS = ", ".join(f'"{column}"' for column in HELD)  # as SQL reads them
CHANGES = "leads_bulk_change"  # the log others' lead changes go to during a bulk load
TRIGGERS = ("leads_bulk_add", "leads_bulk_change", "leads_bulk_delete")


def index_names() -> list[str]:
    """The names of the deferred indexes, as the model creates them."""
    table = Lead._meta.table_name
    return [f"{table}_{Lead._meta.fields[name].column_name}" for name in DEFERRED]


def others_executing(run_id: int | None = None) -> bool:
    """Is a run other than `run_id` being executed by a live worker (here or elsewhere)?"""
    from core.db import utcnow
    from modules.leads.importer.run import worker_alive
    from modules.leads.models_capture import ImportRun

    now = utcnow()
    return any(worker_alive(run.worker, run.heartbeat_at, now) for run in ImportRun.select()
               .where((ImportRun.status == "running") & (ImportRun.id != (run_id or 0))))


def wanted(settings, run, rows_left: int) -> bool:
    """Does this run (an `ImportRun`) load in bulk mode? (See the module doc.)"""
    limit = int(settings["leads"].get("import_bulk_rows", BULK_ROWS))
    if is_postgres() or run.dry_run or limit <= 0 or rows_left < limit:
        return False
    return Lead.select().count() <= rows_left and not others_executing(run.id)


def _schema_names() -> set[str]:
    return {name for (name,) in database.execute_sql(
        "SELECT name FROM sqlite_master WHERE tbl_name IN (?, ?)",
        (Lead._meta.table_name, CHANGES))}


def missing() -> list[str]:
    """The deferred indexes absent from the database (SQLite; PostgreSQL: none)."""
    if is_postgres():
        return []
    present = _schema_names()
    return [name for name in index_names() if name not in present]


def _unwatch(present: set[str]) -> None:
    """Drop a bulk load's change log and triggers, if there."""
    if CHANGES in present or any(name in present for name in TRIGGERS):
        with atomic():
            for name in TRIGGERS:
                database.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')
            database.execute_sql(f'DROP TABLE IF EXISTS "{CHANGES}"')


def restore() -> list[str]:
    """End a bulk load's schema changes (the run ended, or was killed): drop its change log
    and triggers, build the deferred indexes that are missing (the model's own definitions,
    `IF NOT EXISTS`); returns the indexes built."""
    if is_postgres():
        return []
    present = _schema_names()
    _unwatch(present)
    absent = [name for name in index_names() if name not in present]
    if absent:
        Lead._schema.create_indexes(safe=True)
        log.info("lead indexes built after a bulk import: %s", ", ".join(absent))
    return absent


def _watch() -> None:
    """The change log and its triggers (see the module doc): updates that only add channels
    as `insert` (read by id); updates that remove or move a channel, merge a lead or change
    its division, and deletes, as `change` (read everything again). New leads need no
    trigger — they are the rows above the highest id the importer has seen — and must not
    have one: an INSERT trigger makes SQLite keep a statement journal for every row of the
    import (19.9k → 13.3k rows/s at 100k, `bench/bench_leads_import.py`)."""
    table = Lead._meta.table_name
    log_row = f'INSERT INTO "{CHANGES}" ("lead_id", "kind") VALUES'
    kept = " AND ".join(f'(OLD."{c}" IS NULL OR OLD."{c}" = NEW."{c}")' for c in HELD)
    grown = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in HELD)
    same = 'OLD."merged_into" IS NEW."merged_into" AND OLD."division_id" = NEW."division_id"'
    columns = f'{HELD_COLUMNS}, "merged_into", "division_id"'
    for sql in (
        f'CREATE TABLE "{CHANGES}" ("seq" INTEGER PRIMARY KEY, "lead_id" INTEGER NOT NULL, '
        f'"kind" TEXT NOT NULL)',
        f'CREATE TRIGGER "{TRIGGERS[0]}" AFTER UPDATE OF {columns} ON "{table}" '
        f"WHEN {kept} AND {same} AND ({grown}) BEGIN {log_row} (NEW.\"id\", 'insert'); END",
        f'CREATE TRIGGER "{TRIGGERS[1]}" AFTER UPDATE OF {columns} ON "{table}" '
        f"WHEN NOT ({kept} AND {same}) BEGIN {log_row} (NEW.\"id\", 'change'); END",
        f'CREATE TRIGGER "{TRIGGERS[2]}" AFTER DELETE ON "{table}" '
        f"BEGIN {log_row} (OLD.\"id\", 'change'); END",
    ):
        database.execute_sql(sql)


@contextlib.contextmanager
def deferred(run, on: bool) -> Iterator[None]:
    """For a bulk load (`on`), drop the deferred indexes and watch others' lead changes for
    the block, and restore both after it, whatever happened. Otherwise make sure a killed
    bulk load left nothing behind — unless another run, maybe a bulk load, is executing."""
    if not on:
        if not is_postgres() and not others_executing(run.id):
            restore()
        yield
        return
    with atomic():
        _unwatch(_schema_names())  # a killed bulk load's, if any
        for name in index_names():
            database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
        _watch()
    try:
        yield
    finally:
        restore()


def held_indexes(division_id: int) -> dict[str, int]:
    """`{blind index: id of the oldest unmerged lead of the division holding it}` — what
    `probes.existing_leads` answers for any value, read in one pass over the division."""
    sql = (f'SELECT "id", {HELD_COLUMNS} FROM "{Lead._meta.table_name}" '
           f'WHERE "division_id" = {database.param} AND "merged_into" IS NULL ORDER BY "id"')
    held: dict[str, int] = {}
    for pk, *values in database.execute_sql(sql, (division_id,)):
        for value in values:
            if value and value not in held:
                held[value] = pk
    return held


class HeldLedger(probes.Ledger):
    """The importer's lookups in bulk mode, without the dropped indexes: every blind index of
    the division's leads held in memory (`held_indexes`), kept up to date with the import's
    own writes (`remember`) and, when another connection has committed, with others' new
    leads and the change log (`observe`, inside the batch's write transaction: nobody else
    writes meanwhile). Customers' contacts keep their indexes: the worker process's probe,
    or one query."""

    def __init__(self, division_id: int):
        super().__init__()  # `data_version` first: a commit from now on is noticed
        self.division_id = division_id
        self.high = self._highest()  # then the rows above it are all new to `held`
        self.held = held_indexes(division_id)
        self.seq = database.execute_sql(f'SELECT coalesce(max("seq"), 0) FROM "{CHANGES}"') \
            .fetchone()[0]
        self.reloads = self.added = 0

    @staticmethod
    def _highest() -> int:
        return database.execute_sql(
            f'SELECT coalesce(max("id"), 0) FROM "{Lead._meta.table_name}"').fetchone()[0]

    def observe(self, cursor: int) -> None:
        version = self.version
        super().observe(cursor)
        if self.version == version:
            return
        changes = database.execute_sql(
            f'SELECT "seq", "lead_id", "kind" FROM "{CHANGES}" WHERE "seq" > ? ORDER BY "seq"',
            (self.seq,)).fetchall()
        if changes:
            self.seq = changes[-1][0]
        if any(kind != "insert" for _seq, _id, kind in changes):
            self.high = self._highest()
            self.held = held_indexes(self.division_id)
            self.reloads += 1
            return
        grown = sorted({lead_id for _seq, lead_id, _kind in changes})
        where = '"id" > ?'
        if grown:
            where += f' OR "id" IN ({", ".join("?" for _ in grown)})'
        self._add(where, (self.high, *grown))

    def _add(self, where: str, params: tuple) -> None:
        """Others' new leads, and leads whose channels grew, of the division: to `held`."""
        rows = database.execute_sql(
            f'SELECT "id", "division_id", "merged_into", {HELD_COLUMNS} '
            f'FROM "{Lead._meta.table_name}" WHERE {where}', params).fetchall()
        if rows:
            self.high = max(self.high, max(row[0] for row in rows))
            mine = [row for row in rows if row[1] == self.division_id and row[2] is None]
            self.remember(0, [(value, row[0]) for row in mine for value in row[3:] if value])
            self.added += len(mine)

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
        """The batch's `(index, lead id)` pairs; its new leads' ids are the highest now."""
        held = self.held
        for value, pk in held_pairs:
            if held.setdefault(value, pk) > pk:
                held[value] = pk
        self.high = max(self.high, max(map(itemgetter(1), held_pairs), default=0))
