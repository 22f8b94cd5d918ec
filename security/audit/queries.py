"""Reading the audit log: filtered listing with keyset pagination, and its JSON shape."""
from __future__ import annotations

import datetime as dt

from security.audit.chain import TIME_FORMAT
from security.audit.models import AuditEntry

MAX_LIMIT = 500


def list_entries(*, model: str | None = None, res_id: int | None = None,
                 actor: int | str | None = None, action: str | None = None,
                 since: dt.datetime | None = None, until: dt.datetime | None = None,
                 limit: int = 50, after: int | None = None, order: str = "desc"
                 ) -> tuple[list[AuditEntry], int | None]:
    """Entries matching every given filter, newest first (`order="asc"`: oldest first).

    `actor` is a user id (int) or a login (str); `since` is inclusive, `until` exclusive
    (naive UTC). `after` is the cursor returned with the previous page (a `seq`): the page
    continues after it in the chosen order. Returns `(entries, next_cursor)`; the cursor is
    None on the last page."""
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be asc or desc, not {order!r}")
    limit = max(1, min(int(limit), MAX_LIMIT))
    query = AuditEntry.select()
    if model is not None:
        query = query.where(AuditEntry.model == model)
    if res_id is not None:
        query = query.where(AuditEntry.res_id == res_id)
    if isinstance(actor, int):
        query = query.where(AuditEntry.actor_id == actor)
    elif actor is not None:
        query = query.where(AuditEntry.actor_login == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if after is not None:
        query = query.where(AuditEntry.seq > after if order == "asc" else AuditEntry.seq < after)
    key = AuditEntry.seq if order == "asc" else AuditEntry.seq.desc()
    rows = list(query.order_by(key).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more else None)


def tail(n: int = 20) -> list[AuditEntry]:
    """The last `n` entries, oldest first."""
    rows = list(AuditEntry.select().order_by(AuditEntry.seq.desc()).limit(max(0, n)))
    return rows[::-1]


def entry_dict(entry: AuditEntry) -> dict:
    """JSON shape of one entry (`at` as ISO 8601 UTC with a `Z`)."""
    return {
        "id": entry.id, "seq": entry.seq, "at": entry.at.strftime(TIME_FORMAT) + "Z",
        "actor_id": entry.actor_id, "actor_login": entry.actor_login, "action": entry.action,
        "model": entry.model, "res_id": entry.res_id, "division_id": entry.division_id,
        "ip": entry.ip, "request_id": entry.request_id, "via": entry.via,
        "details": entry.details, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }
