"""Read-only audit API. There is no route that changes or deletes entries: PUT, PATCH and
DELETE answer 405.

Access: administrators for now (`require_admin`). An `auditor` role is to be honoured
once the policy engine (`security.policy`) exists — replace the check below with the
policy's `require(ctx, "read", "model/security_audit")` then.

* `GET /api/v1/audit?model=&res_id=&actor=&action=&since=&until=&limit=&after=&order=`
  → `{"entries": [...], "next": <cursor or null>}`; pass `next` back as `after`.
* `GET /api/v1/audit/verify` → `{"ok", "entries", "last_hash", "broken_seq", "broken_id",
  "code", "reason"}`; runs on a worker thread so a long log does not stall the server.
"""
from __future__ import annotations

import datetime as dt

from tornado.ioloop import IOLoop

from core.db import connection
from core.web.base import APIError, BaseHandler
from security.audit.chain import normalise_time
from security.audit.queries import MAX_LIMIT, entry_dict, list_entries
from security.audit.verify import verify


def _int(name: str, raw: str | None, *, low: int = 0, high: int | None = None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise APIError(422, f"参数 {name} 必须是整数 {bound} / {name} must be an integer {bound}",
                       fields={name: "invalid"})
    return value


def _time(name: str, raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return normalise_time(dt.datetime.fromisoformat(raw))
    except ValueError:
        raise APIError(422, f"参数 {name} 不是 ISO 8601 时间 / {name} is not an ISO 8601 time",
                       fields={name: "invalid"})


def _verify_in_thread() -> dict:
    """Runs on an executor thread: its own connection, closed at the end."""
    with connection():
        return verify().as_dict()


class AuditListHandler(BaseHandler):
    """`GET /api/v1/audit`: filtered, keyset-paginated listing."""

    def get(self) -> None:
        self.require_admin()
        arg = self.get_query_argument
        actor = arg("actor", None) or None
        order = arg("order", "desc")
        if order not in ("asc", "desc"):
            raise APIError(422, "order 只能是 asc 或 desc / order must be asc or desc",
                           fields={"order": "invalid"})
        entries, cursor = list_entries(
            model=arg("model", None) or None, res_id=_int("res_id", arg("res_id", None)),
            actor=int(actor) if actor and actor.isdigit() else actor,
            action=arg("action", None) or None,
            since=_time("since", arg("since", None)), until=_time("until", arg("until", None)),
            limit=_int("limit", arg("limit", None), low=1, high=MAX_LIMIT) or 50,
            after=_int("after", arg("after", None)), order=order)
        self.write_json({"entries": [entry_dict(e) for e in entries], "next": cursor})


class AuditVerifyHandler(BaseHandler):
    """`GET /api/v1/audit/verify`: check the chain and name the first broken entry."""

    async def get(self) -> None:
        self.require_admin()
        result = await IOLoop.current().run_in_executor(None, _verify_in_thread)
        self.write_json(result)


def routes() -> list:
    return [
        (r"/api/v1/audit", AuditListHandler),
        (r"/api/v1/audit/verify", AuditVerifyHandler),
    ]
