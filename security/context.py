"""`Context`: who is acting, in which division, for which request — passed explicitly to every
service (`ctx` first). It also carries the per-request permission cache, so no decision is
computed twice in one request. There are no request globals."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from core.db import utcnow


@dataclass
class Context:
    registry: Any
    user: Any = None  # modules.base.models.User, or None for anonymous/system
    division_id: int | None = None  # the division the caller works in (None: user's default)
    request_id: str = ""
    ip: str = ""
    via: str = "api"  # api / web / cli / job / import
    clock: Callable[[], dt.datetime] = utcnow
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def is_admin(self) -> bool:
        return bool(self.user is not None and self.user.is_admin)

    def now(self) -> dt.datetime:
        return self.clock()

    def cached(self, key, build: Callable[[], Any]) -> Any:
        """Per-request memo (permission tables, scopes)."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]


def system_context(registry, via: str = "cli") -> Context:
    """A context for CLI commands and jobs that act as the system, not as a user."""
    return Context(registry=registry, user=None, via=via)
