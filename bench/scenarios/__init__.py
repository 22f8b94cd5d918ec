"""The benchmark scenarios. Each is a function of the run (`bench.context.Run`); `SIZED` ones
run once per data size, `ONCE` ones at the first size, `EXTERNAL` ones are the security and
leads helpers' own scripts (`bench/bench_*.py`), run in their own process and install, whose
printed figures join the table. A scenario whose module is not installed is skipped with a
note, never faked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "once" | "sized" | "external"
    run: Callable
    needs: tuple[str, ...] = ()
    summary: str = ""


def all_scenarios() -> dict[str, Scenario]:
    from bench.scenarios import api, baseline, external, growth, security_list

    found = [
        Scenario("baseline", "once", baseline.run, (),
                 "tornado hello-world and a bare peewee list of 50 rows as JSON"),
        Scenario("api", "once", api.run, ("contacts",),
                 "list/get/create/search as admin and as a restricted sales rep"),
        Scenario("security_list", "sized", security_list.run, ("contacts",),
                 "50 contacts (encrypted, masked, scoped) as restricted vs admin vs bare"),
        Scenario("growth", "sized", growth.run, ("contacts",),
                 "restricted list and search at every size, ratio to the first size"),
        *[Scenario(name, "external", external.runner(name), (), spec.summary)
          for name, spec in external.SCRIPTS.items()],
    ]
    return {s.name: s for s in found}


DEFAULT = ["baseline", "api", "security_list", "growth", "policy", "crypto", "audit",
           "leads_import", "leads_capture"]
