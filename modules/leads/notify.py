"""Notifications: an in-app inbox row per recipient plus an outbox event for the connectors.

`send(notes)` writes, in the caller's transaction, one `Notification` per note and — for notes
with a `topic` — one outbox message (`core.outbox.enqueue_many`, keyed by the note's
idempotency key) that the WeCom / DingTalk / e-mail connectors consume. The payload names the
recipient by user id (the connector looks up the user's WeCom / DingTalk account or address)
and carries the title, body, priority and the record it is about.

The inbox API (`GET /api/v1/notifications`, `POST .../<id>/read`, `POST .../read-all`) shows
the caller their own notifications only — `security.scope` (owner = `user`) AND user = me, so
even an administrator's wider scope lists only their own inbox.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from core import outbox
from core.db import atomic, on_commit
from core.models import OutboxMessage
from modules.contacts.paging import ListParams, Sort, bad_request
from modules.leads import rawsql
from modules.leads.automation_models import Notification
from modules.leads.txn import transaction
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import both, scope
from security.serialisation import serialise

PRIORITIES = ("low", "normal", "high")
SORTS = {"id": Sort(Notification.id), "created_at": Sort(Notification.created_at)}
INBOX_COLUMNS = ("user_id", "kind", "title", "body", "res_model", "res_id", "priority",
                 "created_at")
OUTBOX_COLUMNS = ("topic", "payload", "idempotency_key", "status", "attempts",
                  "next_attempt_at", "created_at")


@dataclass
class Note:
    """One notification to one user; `topic` (e.g. `notify.lead_assigned`) also queues it for
    the connectors under idempotency key `key`."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    res_id: int | None = None
    res_model: str | None = "lead"
    priority: str = "normal"
    topic: str | None = None
    key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "kind": self.kind, "title": self.title,
                "body": self.body, "priority": self.priority, "res_model": self.res_model,
                "res_id": self.res_id, **self.extra}


def send(ctx, notes: list[Note]) -> int:
    """Write the notes' inbox rows and outbox messages (in the current transaction): two
    parameterised INSERTs (`rawsql.insert_rows`), outbox keys already queued skipped."""
    if not notes:
        return 0
    now = ctx.now()
    with transaction():
        rawsql.insert_rows(Notification._meta.table_name, INBOX_COLUMNS, [
            (n.user_id, n.kind, n.title[:200], n.body, n.res_model, n.res_id, n.priority, now)
            for n in notes])
        queued = [(n.topic, rawsql.json_text(n.payload()),
                   n.key or f"{n.topic}:{n.kind}:{n.user_id}:{n.res_id}:{now.isoformat()}",
                   "pending", 0, now, now) for n in notes if n.topic]
        if queued:
            rawsql.insert_rows(OutboxMessage._meta.table_name, OUTBOX_COLUMNS, queued,
                               conflict="idempotency_key")
            on_commit(outbox._kick)  # ask the worker to drain soon, once committed
    return len(notes)


# ------------------------------------------------------------------ the inbox API
def _mine(ctx) -> pw.Node:
    require_model(ctx, Notification, "read")
    return both(scope(ctx, Notification, "read"), Notification.user == ctx.user_id)


def _flag(get, name: str) -> bool | None:
    raw = get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in ("1", "0", "true", "false"):
        raise bad_request(name, "true/false")
    return raw.lower() in ("1", "true")


def list_notifications(ctx, params: ListParams, get) -> dict:
    """The caller's notifications, newest first: filters `unread`, `kind`, `priority`."""
    query = Notification.select(*permitted_columns(ctx, Notification)).where(_mine(ctx))
    unread = _flag(get, "unread")
    if unread is not None:
        query = query.where(Notification.read_at.is_null(unread))
    if get("kind"):
        query = query.where(Notification.kind == get("kind"))
    if get("priority"):
        if get("priority") not in PRIORITIES:
            raise bad_request("priority", "可选 / one of: " + ", ".join(PRIORITIES))
        query = query.where(Notification.priority == get("priority"))
    rows = list(params.apply(ctx, Notification, query, SORTS).dicts())
    rows, cursor = params.page(rows, SORTS)
    unread_count = Notification.select().where(_mine(ctx), Notification.read_at.is_null()).count()
    return {"items": params.select_fields(Notification, serialise(ctx, Notification, rows)),
            "next": cursor, "unread": unread_count}


def mark_read(ctx, notification_id: int) -> dict:
    """Mark one of the caller's notifications read (idempotent); 404 for anyone else's."""
    require_model(ctx, Notification, "write")
    mine = both(_mine(ctx), Notification.id == notification_id)
    with atomic():
        (Notification.update(read_at=ctx.now())
         .where(both(mine, scope(ctx, Notification, "write")), Notification.read_at.is_null())
         .execute())
        row = Notification.select(*permitted_columns(ctx, Notification)).where(mine).first()
    if row is None:
        raise not_found(Notification, notification_id)
    return serialise(ctx, Notification, [row])[0]


def mark_all_read(ctx) -> dict:
    require_model(ctx, Notification, "write")
    with atomic():
        changed = (Notification.update(read_at=ctx.now())
                   .where(both(_mine(ctx), scope(ctx, Notification, "write")),
                          Notification.read_at.is_null()).execute())
    return {"marked": changed}
