"""What every scenario gets: the options, the install, the org and data generator, the
servers, the signed-in users' API tokens, the report — and a `rate()` helper that measures
one HTTP figure and adds it to the table."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bench import httpload
from bench.report import Report, Row


@dataclass
class Options:
    scenarios: list[str]
    database: str = "sqlite"
    sizes: list[int] = field(default_factory=lambda: [10_000, 100_000, 1_000_000])
    seconds: float = 3.0
    concurrency: int = 8
    processes: int = 1
    own: int = 1000
    reps: int = 100
    all_tables: bool = False
    out: str | None = None


@dataclass
class Run:
    opts: Options
    stack: Any
    registry: Any
    report: Report
    org: Any = None
    gen: Any = None
    huike: Any = None  # bench.stack.Server
    bare: Any = None
    tokens: dict[str, str] = field(default_factory=dict)  # login → bearer token
    size: int = 0
    keep: dict[str, Row] = field(default_factory=dict)  # figures later rows compare with
    out_dir: Path | None = None  # raw outputs and the JSON report

    def has_module(self, name: str) -> bool:
        return name in {m.name for m in self.registry.manifests}

    def rate(self, scenario: str, measure: str, base_url: str,
             make: Callable[[int], httpload.Request], *, token: str | None = None,
             baseline: Row | tuple[str, float] | None = None, seconds: float | None = None,
             key: str | None = None, server=None) -> Row:
        """Measure requests/s of `make(i)` and add the row (kept under `key` if given).
        With `server` (a `bench.stack.Server`) the row also records that server's CPU
        seconds over the run (`row.cpu_per_request_ms`, see `per_cpu_second`)."""
        cpu_before = server.cpu_seconds() if server is not None else 0.0
        stats = httpload.measure(base_url, make, label=measure,
                                 concurrency=self.opts.concurrency,
                                 seconds=seconds or self.opts.seconds,
                                 headers=httpload.bearer(token) if token else None)
        row = self.report.add(scenario, measure, stats.rate, "req/s", stats=stats,
                              baseline=baseline)
        if server is not None and stats.count:
            row.cpu_per_request_ms = (server.cpu_seconds() - cpu_before) / stats.count * 1000
        if key:
            self.keep[key] = row
        return row


def size_label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def cycle(values: list) -> Callable[[int], Any]:
    """`i → values[i mod n]`, for requests that walk a list of ids or search words."""
    return lambda i: values[i % len(values)]


def get(path: str) -> httpload.Request:
    return ("GET", path, None, (200,))


def first(iterable):
    return next(iter(iterable), None)


_serial = itertools.count(1)


def serial() -> int:
    """A process-wide counter for unique names in create requests."""
    return next(_serial)
