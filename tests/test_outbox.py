"""Transactional outbox: written with the change, delivered by the worker with backoff,
dead-lettered, retried; and the in-process event bus delivers only after commit."""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest

from core import outbox
from core.db import atomic, utcnow
from core.events import EventBus
from core.models import OutboxMessage

POLICY = outbox.RetryPolicy(max_attempts=3, backoff_seconds=10, backoff_max_seconds=25)


class Flaky:
    """A delivery target that fails a set number of times, then succeeds."""

    def __init__(self, failures: int):
        self.failures = failures
        self.delivered = []

    def __call__(self, payload, message):
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("ERP unreachable")
        self.delivered.append((payload, message.idempotency_key))


def test_message_exists_only_if_the_transaction_commits(install):
    with atomic():
        outbox.enqueue("erp.push_customer", {"id": 1}, "cust-1")
    with pytest.raises(RuntimeError):
        with atomic():
            outbox.enqueue("erp.push_customer", {"id": 2}, "cust-2")
            raise RuntimeError("business rule failed")
    assert [m.idempotency_key for m in OutboxMessage.select()] == ["cust-1"]


def test_same_idempotency_key_is_enqueued_once(install):
    first = outbox.enqueue("mail.send", {"to": "a@example.com"}, "mail-1")
    again = outbox.enqueue("mail.send", {"to": "b@example.com"}, "mail-1")
    assert first.id == again.id
    assert OutboxMessage.select().count() == 1


def test_retry_backoff_dead_letter_and_retry(install):
    target = Flaky(failures=3)
    handlers = {"erp.push": target}
    msg = outbox.enqueue("erp.push", {"customer": "华为"}, "erp-push-1")
    now = utcnow()

    assert outbox.drain(handlers, POLICY, now=now) == {"done": 0, "pending": 1, "dead": 0}
    msg = OutboxMessage.get_by_id(msg.id)
    assert msg.attempts == 1 and msg.next_attempt_at == now + dt.timedelta(seconds=10)
    assert "ERP unreachable" in msg.last_error
    # not due yet: nothing happens
    assert outbox.drain(handlers, POLICY, now=now + dt.timedelta(seconds=9)) == {
        "done": 0, "pending": 0, "dead": 0}
    later = now + dt.timedelta(seconds=10)
    outbox.drain(handlers, POLICY, now=later)
    msg = OutboxMessage.get_by_id(msg.id)
    assert msg.attempts == 2 and msg.next_attempt_at == later + dt.timedelta(seconds=20)
    last = later + dt.timedelta(seconds=20)
    assert outbox.drain(handlers, POLICY, now=last)["dead"] == 1
    assert [m.id for m in outbox.list_messages("dead")] == [msg.id]

    assert outbox.retry([msg.id]) == 1
    msg = OutboxMessage.get_by_id(msg.id)
    assert (msg.status, msg.attempts) == ("pending", 0)
    assert outbox.drain(handlers, POLICY, now=utcnow())["done"] == 1
    assert target.delivered == [({"customer": "华为"}, "erp-push-1")]
    assert OutboxMessage.get_by_id(msg.id).status == "done"


def test_backoff_is_capped():
    assert POLICY.delay(1).total_seconds() == 10
    assert POLICY.delay(2).total_seconds() == 20
    assert POLICY.delay(5).total_seconds() == 25


def test_unknown_topic_is_retried_then_dead(install):
    outbox.enqueue("nobody.listens", {}, "orphan")
    now = utcnow()
    for step in range(3):
        outbox.drain({}, POLICY, now=now + dt.timedelta(hours=step))
    msg = OutboxMessage.get(OutboxMessage.idempotency_key == "orphan")
    assert msg.status == "dead" and "no handler registered" in msg.last_error


def test_handler_writes_roll_back_when_it_fails(install):
    from modules.base.models import Tag

    def half_done(payload, message):
        Tag.create(name="half-written")
        raise ValueError("failed after a write")

    outbox.enqueue("t.half", {}, "half")
    outbox.drain({"t.half": half_done}, POLICY)
    assert not Tag.select().where(Tag.name == "half-written").exists()
    assert OutboxMessage.get(OutboxMessage.idempotency_key == "half").attempts == 1


def test_events_are_delivered_after_commit_only(install):
    seen = []
    bus = EventBus({"lead.converted": [lambda ctx, event: seen.append(event["id"])]})
    with atomic():
        bus.publish("lead.converted", {"id": 1})
        with atomic():  # nested savepoint: still waits for the outermost commit
            bus.publish("lead.converted", {"id": 2})
        assert seen == []
    assert seen == [1, 2]
    with pytest.raises(RuntimeError):
        with atomic():
            bus.publish("lead.converted", {"id": 3})
            raise RuntimeError("rolled back")
    bus.publish("lead.converted", {"id": 4})  # outside a transaction: at once
    assert seen == [1, 2, 4]


def test_worker_drains_the_outbox_through_huey(install):
    """A real SqliteHuey consumer picks up the drain task enqueued after commit."""
    from core.jobs import make_consumer

    delivered = []
    install.registry._cache["outbox_handlers"] = {"t.work": lambda p, m: delivered.append(p)}
    install.settings["jobs"]["immediate"] = False
    consumer = make_consumer(install.registry, 1, periodic=False, check_worker_health=False,
                             initial_delay=0.05, max_delay=0.2)
    assert type(consumer.huey).__name__ == "SqliteHuey"
    thread = threading.Thread(target=consumer.run, daemon=True)
    with atomic():
        outbox.enqueue("t.work", {"n": 1}, f"work-{uuid.uuid4().hex}")
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not delivered and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        consumer.stop(graceful=True)
        outbox._kickers.clear()
    assert delivered == [{"n": 1}]


def test_redis_queue_is_used_when_configured(tmp_path):
    import redis

    from core.config import load_settings
    from core.jobs import make_queue

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15").ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = load_settings(tmp_path,
                             environ={"HUIKE_JOBS_REDIS_URL": "redis://127.0.0.1:6379/15"})
    huey = make_queue(settings)
    assert type(huey).__name__ == "RedisHuey"
    huey.flush()

    @huey.task()
    def add(a, b):
        return a + b

    result = add(2, 3)
    task = huey.dequeue()
    huey.execute(task)
    assert result.get() == 5
    huey.flush()


def test_dead_letter_api_lists_and_retries_for_admins_only(install, http):
    from modules.base import services
    from tests.support import ADMIN_PASSWORD, HttpClient, login

    message = outbox.enqueue("erp.push", {"n": 1}, "api-dead-1")
    for step in range(3):
        outbox.drain({}, POLICY, now=utcnow() + dt.timedelta(hours=step + 1))
    assert http.get("/api/v1/outbox?status=dead").status_code == 401
    services.create_user("li.si", "李四", "Plain-user-2026")
    plain = HttpClient(http.base_url)
    login(plain, "li.si", "Plain-user-2026")
    assert plain.get("/api/v1/outbox?status=dead").status_code == 403
    login(http, "admin", ADMIN_PASSWORD)
    dead = http.get("/api/v1/outbox?status=dead").json()["items"]
    assert [m["id"] for m in dead] == [message.id]
    assert http.get("/api/v1/outbox?status=zombie").status_code == 400
    retried = http.post(f"/api/v1/outbox/{message.id}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert http.post(f"/api/v1/outbox/{message.id}/retry").status_code == 409
    assert http.post("/api/v1/outbox/999999/retry").status_code == 404
