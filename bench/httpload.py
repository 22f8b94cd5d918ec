"""An HTTP load driver on asyncio + aiohttp (keep-alive connections, like a browser or an API
client): C concurrent workers issue requests for T seconds (or N requests, whichever comes
first) and every answer is timed. Every unexpected status or transport error is kept.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp

# (method, path, JSON body or None, accepted statuses)
Request = tuple[str, str, Any, tuple[int, ...]]
MAX_KEPT_ERRORS = 1000


@dataclass
class Stats:
    label: str
    count: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000

    def add_error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(text)

    def merge(self, other: "Stats") -> None:
        self.count += other.count
        self.latencies.extend(other.latencies)
        self.error_count += other.error_count
        self.errors.extend(other.errors[:MAX_KEPT_ERRORS - len(self.errors)])


async def call(http: aiohttp.ClientSession, base_url: str, request: Request, stats: Stats,
               headers: dict | None = None) -> Any:
    """One timed request; returns the decoded JSON answer (None on error or no body)."""
    method, path, body, accepted = request
    started = time.perf_counter()
    try:
        async with http.request(method, base_url + path, json=body, headers=headers) as answer:
            raw = await answer.read()
            elapsed = time.perf_counter() - started
            if answer.status not in accepted:
                stats.add_error(f"{method} {path} → {answer.status} "
                                f"{raw[:300].decode('utf-8', 'replace')}")
                return None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        stats.add_error(f"{method} {path} → {type(exc).__name__}: {exc}")
        return None
    stats.count += 1
    stats.latencies.append(elapsed)
    if raw and answer.content_type == "application/json":
        import json
        return json.loads(raw)
    return None


def session(concurrency: int, headers: dict | None = None, cookies: bool = False
            ) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    jar = aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar()
    return aiohttp.ClientSession(connector=connector, headers=headers or {}, cookie_jar=jar,
                                 timeout=aiohttp.ClientTimeout(total=60))


async def _drive(base_url: str, make: Callable[[int], Request], *, label: str,
                 concurrency: int, seconds: float, max_requests: int | None,
                 headers: dict | None, warmup: float) -> Stats:
    async with session(concurrency, headers) as http:
        counter = iter(range(10**12))
        if warmup > 0:
            scratch = Stats(label)
            end = time.perf_counter() + warmup
            await asyncio.gather(*[_worker(http, base_url, make, counter, scratch, end, None)
                                   for _ in range(concurrency)])
        stats = Stats(label)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*[_worker(http, base_url, make, counter, stats, deadline,
                                       max_requests) for _ in range(concurrency)])
        stats.elapsed = time.perf_counter() - started
        return stats


async def _worker(http, base_url, make, counter, stats: Stats, deadline: float,
                  max_requests: int | None) -> None:
    while time.perf_counter() < deadline:
        if max_requests is not None and stats.count + stats.error_count >= max_requests:
            return
        await call(http, base_url, make(next(counter)), stats)


def measure(base_url: str, make: Callable[[int], Request], *, label: str = "",
            concurrency: int = 8, seconds: float = 3.0, max_requests: int | None = None,
            headers: dict | None = None, warmup: float = 0.5) -> Stats:
    """Drive `make(i)` requests at `base_url` from `concurrency` keep-alive connections."""
    return asyncio.run(_drive(base_url, make, label=label, concurrency=concurrency,
                              seconds=seconds, max_requests=max_requests, headers=headers,
                              warmup=warmup))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
