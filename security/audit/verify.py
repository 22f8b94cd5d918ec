"""Verifying the audit chain: stream every entry in `seq` order and recompute the links.

Entries are read in batches with keyset pagination on `(seq, id)`, so memory stays flat for
any log size. The head row is read first and only entries up to its `seq` are checked, so
appends committed while verification runs neither break it nor get half-checked.

For each entry, in this order:
  * `seq` repeats the previous one            -> `duplicate`
  * `seq` skips numbers                        -> `missing`   (entries deleted before it)
  * `prev_hash` is not the previous `hash`     -> `relinked`  (reordered, or deleted before it)
  * recomputed hash differs from `hash`        -> `edited`    (its content was changed)
After the last entry: fewer entries than the head records -> `truncated`; the head's hash
differs from the last entry's -> `head_mismatch`.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import peewee as pw

from core.db import database
from security.audit.chain import GENESIS, entry_hash
from security.audit.models import HEAD_ID, AuditEntry, AuditHead

BATCH_SIZE = 2000

REASONS = {
    "duplicate": "序号重复 / seq repeats the previous entry's (a row was copied or renumbered)",
    "missing": "序号缺失，之前的记录被删除 / seq gap: entries before this one were deleted",
    "relinked": "前一哈希不符，记录被删除或调换顺序 / prev_hash does not match the previous "
                "entry: entries were deleted or reordered",
    "edited": "哈希不符，记录内容被修改 / hash mismatch: this entry was edited",
    "truncated": "链尾记录被删除 / entries were removed from the end of the log",
    "head_mismatch": "链头与最后一条记录不符 / chain head does not match the last entry",
    "head_missing": "链头缺失 / chain head row is missing",
}


@dataclass
class VerifyResult:
    """Outcome of `verify()`: `ok`, entries checked, the last hash, and the first break."""

    ok: bool
    entries: int
    last_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    code: str | None = None

    @property
    def reason(self) -> str | None:
        return REASONS.get(self.code) if self.code else None

    def as_dict(self) -> dict:
        return {**asdict(self), "reason": self.reason}

    def summary(self) -> str:
        if self.ok:
            return f"审计链完整 / chain intact: {self.entries} entries (head {self.last_hash})"
        where = f"seq {self.broken_seq}" + (f" (id {self.broken_id})" if self.broken_id else "")
        return f"审计链断裂 / chain broken at {where}: {self.reason}"


COLUMNS = ("id", "seq", "at", "actor_id", "actor_login", "action", "model", "res_id",
           "division_id", "ip", "request_id", "via", "details", "prev_hash", "hash")


def _decode(row: tuple) -> dict:
    """A raw database row as an entry dict; only `at` and `details` need converting (done
    here rather than by peewee's per-field converters: this loop is verify's hot path)."""
    entry = dict(zip(COLUMNS, row))
    try:
        if isinstance(entry["at"], str):
            entry["at"] = dt.datetime.fromisoformat(entry["at"])
        if entry["details"] is not None:
            entry["details"] = json.loads(entry["details"])
    except (TypeError, ValueError):  # garbled by hand: reported as an edit, not a crash
        entry["unreadable"] = True
    return entry


def _batches(limit_seq: int | None, batch_size: int):
    """Yield entries as dicts in (seq, id) order, one keyset query per batch."""
    fields = [getattr(AuditEntry, name) for name in COLUMNS]
    cursor = (-1, -1)
    while True:
        query = AuditEntry.select(*fields).where(
            pw.Tuple(AuditEntry.seq, AuditEntry.id) > pw.Tuple(*cursor))
        if limit_seq is not None:
            query = query.where(AuditEntry.seq <= limit_seq)
        query = query.order_by(AuditEntry.seq, AuditEntry.id).limit(batch_size)
        rows = [_decode(row) for row in database.execute(query).fetchall()]
        yield from rows
        if len(rows) < batch_size:
            return
        cursor = (rows[-1]["seq"], rows[-1]["id"])


def _check(row: dict, prev_seq: int, prev_hash: str) -> str | None:
    """The first problem with one entry given its predecessor (seq 0: none yet), or None."""
    if prev_seq and row["seq"] == prev_seq:
        return "duplicate"
    if row["seq"] != prev_seq + 1:
        return "missing"
    if row["prev_hash"] != prev_hash:
        return "relinked"
    if row.get("unreadable") or entry_hash(row) != row["hash"]:
        return "edited"
    return None


def verify(batch_size: int = BATCH_SIZE) -> VerifyResult:
    """Check the whole chain; report the first broken entry (see module doc)."""
    head = AuditHead.get_or_none(AuditHead.id == HEAD_ID)
    prev_seq, prev_hash, count = 0, GENESIS, 0
    for row in _batches(head.seq if head else None, batch_size):
        code = _check(row, prev_seq, prev_hash)
        if code:
            return VerifyResult(False, count, prev_hash, row["seq"], row["id"], code)
        prev_seq, prev_hash, count = row["seq"], row["hash"], count + 1
    if head is None:
        if count:
            return VerifyResult(False, count, prev_hash, prev_seq, None, "head_missing")
    elif head.seq != prev_seq:
        return VerifyResult(False, count, prev_hash, prev_seq + 1, None, "truncated")
    elif head.hash != prev_hash:
        return VerifyResult(False, count, prev_hash, prev_seq, None, "head_mismatch")
    return VerifyResult(True, count, prev_hash)
