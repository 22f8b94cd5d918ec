"""Task reminders: a periodic job marks due reminders sent and queues a notification.

Every minute the job picks open tasks whose `remind_at` has come and that were not reminded
yet, sets `reminded_at` and enqueues `notify.task_reminder` in the same transaction
(`core.outbox`, idempotency key `task_reminder:<id>:<remind_at>`), so a reminder is queued
exactly once even when two workers run the job at the same moment; moving `remind_at` re-arms
it (`tasks.update_task` clears `reminded_at`). Delivery belongs to whichever module registers
an outbox handler for the topic (notifications).
"""
from __future__ import annotations

from core import outbox
from core.db import atomic, connection, is_postgres
from modules.contacts.models import Task

TOPIC = "notify.task_reminder"
BATCH = 500


def _iso(value):
    return value.isoformat() if value is not None else None


def send_due_reminders(ctx, limit: int = BATCH) -> int:
    """Queue the reminders due at `ctx.now()`; return how many were queued."""
    now = ctx.now()
    with atomic():
        query = (Task.select(Task.id, Task.title, Task.assignee, Task.due_at, Task.remind_at,
                             Task.res_model, Task.res_id, Task.account, Task.division)
                 .where(Task.remind_at <= now, Task.reminded_at.is_null(),
                        Task.done_at.is_null())
                 .order_by(Task.remind_at, Task.id).limit(limit))
        if is_postgres():
            query = query.for_update(skip_locked=True)
        tasks = list(query)
        for task in tasks:
            outbox.enqueue(TOPIC, {
                "task_id": task.id, "title": task.title, "assignee_id": task.assignee_id,
                "due_at": _iso(task.due_at), "remind_at": _iso(task.remind_at),
                "res_model": task.res_model, "res_id": task.res_id,
                "account_id": task.account_id, "division_id": task.division_id,
            }, f"task_reminder:{task.id}:{_iso(task.remind_at)}")
        if tasks:
            Task.update(reminded_at=now).where(Task.id.in_([t.id for t in tasks])).execute()
    return len(tasks)


def register(huey, registry) -> list:
    """Declare the periodic reminder job (every minute) on `huey`."""
    from huey import crontab

    from security.context import system_context

    @huey.periodic_task(crontab(minute="*"), name="contacts.task_reminders")
    def task_reminders():
        with connection():
            return send_due_reminders(system_context(registry, via="job"))

    return [task_reminders]
