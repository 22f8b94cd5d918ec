"""The one table of figures: scenario | measure | figure | p50/p99 | baseline | ratio, plus the
machine it ran on and notes (skipped scenarios, errors). `Report.json()` keeps the same facts
for docs/benchmarks.md and for comparing runs."""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    scenario: str
    measure: str
    value: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    baseline_label: str = ""
    baseline_value: float | None = None
    errors: int = 0
    cpu_per_request_ms: float | None = None  # the server's CPU per request, when measured

    @property
    def ratio(self) -> float | None:
        if self.baseline_value:
            return self.value / self.baseline_value
        return None


@dataclass
class Report:
    machine: dict = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, scenario: str, measure: str, value: float, unit: str, *, stats=None,
            baseline: "Row | tuple[str, float] | None" = None) -> Row:
        row = Row(scenario, measure, value, unit)
        if stats is not None:
            row.p50_ms, row.p99_ms = stats.percentile(50), stats.percentile(99)
            row.errors = stats.error_count
            if stats.error_count:
                self.note(f"{scenario} / {measure}: {stats.error_count} errors, first: "
                          f"{stats.errors[0][:300]}")
        if isinstance(baseline, Row):
            row.baseline_label, row.baseline_value = baseline.measure, baseline.value
        elif baseline is not None:
            row.baseline_label, row.baseline_value = baseline
        self.rows.append(row)
        print(f"  {scenario}: {measure}: {fmt(value)} {unit}", flush=True)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def json(self) -> str:
        return json.dumps({"machine": self.machine,
                           "rows": [{**asdict(r), "ratio": r.ratio} for r in self.rows],
                           "notes": self.notes}, ensure_ascii=False, indent=1)

    def table(self) -> str:
        head = ["scenario", "measure", "figure", "p50 / p99 ms", "baseline", "ratio"]
        lines = [[r.scenario, r.measure, f"{fmt(r.value)} {r.unit}",
                  "" if r.p50_ms is None else f"{r.p50_ms:.1f} / {r.p99_ms:.1f}",
                  "" if r.baseline_value is None else
                  f"{r.baseline_label} ({fmt(r.baseline_value)})",
                  "" if r.ratio is None else f"{r.ratio:.2f}"] for r in self.rows]
        widths = [max(width(x) for x in col) for col in zip(head, *lines)]
        out = [" | ".join(pad(x, w) for x, w in zip(head, widths)),
               "-+-".join("-" * w for w in widths)]
        out += [" | ".join(pad(x, w) for x, w in zip(line, widths)) for line in lines]
        return "\n".join(out)

    def render(self) -> str:
        machine = "\n".join(f"  {k:<12} {v}" for k, v in self.machine.items())
        notes = "\n".join(f"  - {n}" for n in self.notes) or "  (none)"
        return f"machine:\n{machine}\n\n{self.table()}\n\nnotes:\n{notes}\n"


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


FIGURE = re.compile(r"^\s*(?P<label>\S.*?)\s*:?\s+(?P<value>\d[\d,]*(?:\.\d+)?)\s*"
                    r"(?P<unit>[A-Za-z]*/s|ms|x)(?:\s|$)")


def parse_figures(output: str) -> list[tuple[str, float, str]]:
    """`(label, value, unit)` of every figure line another bench script printed, such as
    `encrypt phone (17 chars)      123,456 ops/s` or `append, 1 thread :  1234 entries/s`."""
    found = []
    for line in output.splitlines():
        match = FIGURE.match(line)
        if match:
            label = match.group("label").strip().rstrip(":").strip()
            found.append((label, float(match.group("value").replace(",", "")),
                          match.group("unit")))
    return found
