"""In-process event bus with after-commit delivery.

`bus.publish(event, payload, ctx)` inside `core.db.atomic()` is delivered only after the
outermost transaction commits, and never if it rolls back; outside a transaction, at once.
Handlers come from modules' `register_event_handlers` hooks (`"*"` receives every event).
A handler's failure is logged and does not undo the commit: a side effect that must not be
lost belongs in the outbox (`core.outbox`), written in the same transaction.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from core.db import on_commit

log = logging.getLogger("huike.events")


class EventBus:
    def __init__(self, handlers: dict[str, list[Callable]] | None = None):
        self._handlers: dict[str, list[Callable]] = {
            k: list(v) for k, v in (handlers or {}).items()}

    @classmethod
    def from_registry(cls, registry) -> "EventBus":
        return cls(registry.event_handlers)

    def subscribe(self, event: str, handler: Callable) -> None:
        self._handlers.setdefault(event, []).append(handler)

    def publish(self, event: str, payload: dict[str, Any], ctx: Any = None) -> None:
        on_commit(lambda: self._deliver(event, payload, ctx))

    def _deliver(self, event: str, payload: dict[str, Any], ctx: Any) -> None:
        for handler in self._handlers.get(event, []) + self._handlers.get("*", []):
            try:
                handler(ctx, {"event": event, **payload})
            except Exception:
                log.exception("event handler %r failed for %s", handler, event)
