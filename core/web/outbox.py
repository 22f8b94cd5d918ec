"""Admin API over the outbox: list messages (e.g. dead letters) and retry them."""
from __future__ import annotations

from core import outbox
from core.web.base import APIError, BaseHandler

STATUSES = (outbox.PENDING, outbox.DONE, outbox.DEAD)


class OutboxListHandler(BaseHandler):
    """`GET /api/v1/outbox?status=dead&limit=100` (administrators only)."""

    def get(self) -> None:
        self.require_admin()
        status = self.get_query_argument("status", None)
        if status is not None and status not in STATUSES:
            raise APIError(400, f"status 必须是 {', '.join(STATUSES)} 之一 / invalid status",
                           fields={"status": f"one of {', '.join(STATUSES)}"})
        raw_limit = self.get_query_argument("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise APIError(400, "limit 必须是 1–1000 的整数 / limit must be 1..1000",
                           fields={"limit": "integer 1..1000"})
        messages = outbox.list_messages(status, int(raw_limit))
        self.write_json({"items": [outbox.as_dict(m) for m in messages]})


class OutboxRetryHandler(BaseHandler):
    """`POST /api/v1/outbox/<id>/retry`: a dead letter goes back to the queue."""

    def post(self, message_id: str) -> None:
        self.require_admin()
        message = outbox.OutboxMessage.get_or_none(outbox.OutboxMessage.id == int(message_id))
        if message is None:
            raise APIError(404, f"没有这条消息 / no outbox message {message_id}")
        if message.status != outbox.DEAD:
            raise APIError(409, f"只能重试死信 / message {message_id} is {message.status}, "
                                "not dead", fields={"status": message.status})
        outbox.retry([message.id])
        self.write_json(outbox.as_dict(outbox.OutboxMessage.get_by_id(message.id)))


def outbox_routes() -> list:
    return [
        (r"/api/v1/outbox", OutboxListHandler),
        (r"/api/v1/outbox/(\d+)/retry", OutboxRetryHandler),
    ]
