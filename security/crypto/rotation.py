"""Data-key rotation: re-encrypt every encrypted value under a new key version, online.

Why it is safe while servers run: every stored value names its key version, and every process
can read every version, so rows are readable at all times whichever version they hold. Each row
is rewritten with a conditional UPDATE (`… WHERE pk = ? AND col = <old ciphertext>`), so a value
a user changed meanwhile is never overwritten with stale data. Batches commit one by one.

Why it resumes after a crash: the target version stays marked unfinished (`rotated_at` NULL)
until a full pass finds nothing left, and only rows not yet at the target version are selected;
a rerun continues with the same version.

Running processes pick up the new version within `[security] key_refresh_seconds`; until then
they may still write with the old one, so the final sweep waits out that window."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import peewee as pw

from core.db import atomic, database, utcnow
from security.crypto.errors import DecryptionError
from security.crypto.fields import encrypted_fields
from security.crypto.keyring import Keyring, token_prefix
from security.crypto.models import DataKey

MAX_PASSES = 5


@dataclass
class Target:
    """One model with encrypted columns, addressed as a raw table (no field conversions)."""

    model: type
    fields: list

    @property
    def table_name(self) -> str:
        return self.model._meta.table_name

    def table(self) -> pw.Table:
        return pw.Table(self.table_name, schema=self.model._meta.schema).bind(database)

    def column(self, table: pw.Table, fld) -> pw.Column:
        return pw.Column(table, fld.column_name)

    def pk(self, table: pw.Table) -> pw.Column:
        return pw.Column(table, self.model._meta.primary_key.column_name)


def encrypted_targets(models: Iterable[type]) -> list[Target]:
    """Every model with encrypted fields (each needs a single-column primary key)."""
    targets = []
    for model in models:
        fields = encrypted_fields(model)
        if not fields:
            continue
        if model._meta.composite_key or model._meta.primary_key is False:
            raise ValueError(f"{model.__name__}: encrypted models need a single-column primary key")
        targets.append(Target(model, fields))
    return targets


def _stale(column: pw.Column, version: int) -> pw.Expression:
    prefix = token_prefix(version)
    return column.is_null(False) & (pw.fn.SUBSTR(column, 1, len(prefix)) != prefix)


def _any_stale(target: Target, table: pw.Table, version: int) -> pw.Expression:
    conditions = [_stale(target.column(table, f), version) for f in target.fields]
    expression = conditions[0]
    for condition in conditions[1:]:
        expression = expression | condition
    return expression


def pending_count(target: Target, version: int) -> int:
    """Rows of `target` holding at least one value not at `version`."""
    table = target.table()
    return table.select(pw.fn.COUNT(pw.SQL("*"))).where(
        _any_stale(target, table, version)).scalar()


@dataclass
class RotationResult:
    version: int
    resumed: bool
    reencrypted: int = 0  # rows rewritten
    conflicts: int = 0  # rows changed by someone else mid-rewrite (picked up by a later pass)
    failures: dict = field(default_factory=dict)  # (table, pk, column) -> reason
    complete: bool = False


def _rewrite_row(keyring: Keyring, target: Target, table: pw.Table, version: int, row,
                 result: RotationResult) -> bool:
    """Re-encrypt one row's stale values; False when none of them could be read."""
    pk_value, values = row[0], row[1:]
    changes, guards = {}, [target.pk(table) == pk_value]
    for fld, old in zip(target.fields, values):
        current = keyring.version_of(old)
        if old is None or (current is not None and current >= version):
            continue  # already at (or, after a later rotation, beyond) the target version
        column = target.column(table, fld)
        key = (target.table_name, pk_value, fld.column_name)
        try:
            plain = keyring.decrypt(old, fld.aad)
        except DecryptionError as exc:
            result.failures[key] = str(exc)
            continue
        changes[column] = keyring.encrypt(plain, fld.aad, version=version)
        guards.append(column == old)
    if not changes:
        return False
    condition = guards[0]
    for guard in guards[1:]:
        condition = condition & guard
    if table.update(changes).where(condition).execute():
        result.reencrypted += 1
    else:
        result.conflicts += 1
    return True


def _sweep(keyring: Keyring, targets: list[Target], version: int, batch_size: int,
           result: RotationResult, on_batch: Callable[[str, int], None] | None) -> int:
    """One pass over every target; return how many stale rows (not known failures) it saw."""
    seen = 0
    for target in targets:
        table = target.table()
        pk = target.pk(table)
        columns = [target.column(table, f) for f in target.fields]
        last = None
        while True:
            query = table.select(pk, *columns).where(_any_stale(target, table, version))
            if last is not None:
                query = query.where(pk > last)
            rows = list(query.order_by(pk).limit(batch_size).tuples())
            if not rows:
                break
            with atomic():
                for row in rows:
                    seen += _rewrite_row(keyring, target, table, version, row, result)
            last = rows[-1][0]
            if on_batch is not None:
                on_batch(target.table_name, len(rows))
    return seen


def begin_rotation(keyring: Keyring) -> tuple[int, bool]:
    """The version to rotate to: an unfinished one (resume) or a newly created one."""
    keyring.load()
    active = keyring.active_version("enc")
    row = DataKey.get((DataKey.purpose == "enc") & (DataKey.version == active))
    if row.rotated_at is None:
        return active, True
    return keyring.new_version("enc"), False


def rotate(keyring: Keyring, models: Iterable[type], *, batch_size: int = 500,
           on_batch: Callable[[str, int], None] | None = None,
           begun: tuple[int, bool] | None = None,
           sleep: Callable[[float], None] = time.sleep) -> RotationResult:
    """Re-encrypt every encrypted value of `models` to a new (or the unfinished) key version.

    `begun` is `begin_rotation(keyring)`'s answer when the caller needed it first (to size a
    progress bar); `on_batch(table, rows)` runs after each committed batch."""
    targets = encrypted_targets(models)
    version, resumed = begun or begin_rotation(keyring)
    result = RotationResult(version=version, resumed=resumed)
    created = DataKey.get((DataKey.purpose == "enc") & (DataKey.version == version)).created_at
    settle_until = created + dt.timedelta(seconds=keyring.refresh_seconds)
    for number in range(MAX_PASSES):
        if number == 1 and utcnow() < settle_until:  # let other processes adopt the version
            sleep((settle_until - utcnow()).total_seconds())
        seen = _sweep(keyring, targets, version, batch_size, result, on_batch)
        if number >= 1 and seen == 0:
            break
    else:
        return result  # still changing under us; a rerun resumes
    if not result.failures:
        DataKey.update(rotated_at=utcnow()).where(
            (DataKey.purpose == "enc") & (DataKey.version == version)).execute()
        result.complete = True
    return result


def version_counts(models: Iterable[type], versions: list[int]) -> list[dict]:
    """Per encrypted column: how many values each key version holds (plus NULL / unknown)."""
    report = []
    for target in encrypted_targets(models):
        table = target.table()
        for fld in target.fields:
            column = target.column(table, fld)
            counts = {}
            for version in versions:
                prefix = token_prefix(version)
                counts[version] = table.select(pw.fn.COUNT(pw.SQL("*"))).where(
                    pw.fn.SUBSTR(column, 1, len(prefix)) == prefix).scalar()
            total = table.select(pw.fn.COUNT(column)).scalar()
            report.append({"table": target.table_name, "column": fld.column_name,
                           "versions": counts, "unknown": total - sum(counts.values())})
    return report
