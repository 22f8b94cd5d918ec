"""The `access.csv` data loader: each module ships its default policy lines.

    ptype,v0,v1,v2,v3
    p,sales_rep,*,model/lead,read

Loaded at install and upgrade like any data file (the module lists it first in
`[load] data`). Every line gets an external id (`core_external_id`, `noupdate`), so loading
the file again adds only lines never seeded before: a line an admin removed stays removed.
"""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from core.db import atomic
from core.models import ExternalId
from core.seed import SeedError
from security.policy.adapter import PeeweeAdapter
from security.policy.models import CasbinRule
from security.policy.rules import line_problem
from security.policy.watch import bump_version

HEADER = ["ptype", "v0", "v1", "v2", "v3"]


def read_access_csv(path: Path, module: str) -> list[tuple[str, str, str, str]]:
    """Parse and check the file; return its p-lines `(role, domain, resource, act)`."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [[cell.strip() for cell in row] for row in csv.reader(handle)
                if row and not row[0].lstrip().startswith("#")]
    if not rows or rows[0] != HEADER:
        raise SeedError(f"module {module}: {path.name} must start with the header "
                        + ",".join(HEADER))
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        where = f"module {module}: {path.name} line {number}"
        if len(row) != 5 or row[0] != "p":
            raise SeedError(f"{where}: expected p,<role>,<domain>,<resource>,<act> "
                            "(assignments are not seeded here)")
        if not all(row[1:]):
            raise SeedError(f"{where}: empty value")
        problem = line_problem(row[3], row[4])
        if problem:
            raise SeedError(f"{where}: {problem}")
        lines.append(tuple(row[1:]))
    return lines


def _xml_id(line: tuple) -> str:
    return "access_" + hashlib.sha1("|".join(line).encode("utf-8")).hexdigest()[:24]


def load_access_csv(registry, manifest, path: Path) -> int:
    """Seed the lines of one module's `access.csv`; return how many were added."""
    lines = read_access_csv(path, manifest.name)
    adapter = PeeweeAdapter()
    added = 0
    with atomic():
        for line in lines:
            xml_id = _xml_id(line)
            if ExternalId.get_or_none(ExternalId.module == manifest.name,
                                      ExternalId.xml_id == xml_id):
                continue  # seeded before: an admin's later edit wins
            adapter.add_policy("p", "p", list(line))
            row = CasbinRule.get(CasbinRule.ptype == "p", CasbinRule.v0 == line[0],
                                 CasbinRule.v1 == line[1], CasbinRule.v2 == line[2],
                                 CasbinRule.v3 == line[3])
            ExternalId.create(module=manifest.name, xml_id=xml_id,
                              model=CasbinRule._meta.table_name, res_id=row.id, noupdate=True)
            added += 1
        if added:
            bump_version()
    return added
