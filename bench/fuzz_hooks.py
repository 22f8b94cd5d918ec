"""Schemathesis hooks for the Huike fuzz run (loaded through `SCHEMATHESIS_HOOKS=bench.fuzz_hooks`).

The fuzzer signs in as an administrator and may call anything, including the few operations
that would end its own access half-way (revoking its own token, disabling its own account).
`HUIKE_FUZZ_PROTECT` lists those targets as JSON — `[{"method", "path", "param", "value"}]` —
and a generated case that would hit one gets a path parameter that names no record instead,
so the operation is still exercised and the rest of the run keeps its credentials."""
from __future__ import annotations

import json
import os

import schemathesis

PROTECTED = json.loads(os.environ.get("HUIKE_FUZZ_PROTECT", "[]"))
ELSEWHERE = 987_654_321  # no record has this id in a fuzz install


@schemathesis.hook
def map_case(context, case):
    for target in PROTECTED:
        if (case.method.upper() == target["method"] and case.operation.path == target["path"]
                and str((case.path_parameters or {}).get(target["param"])) == str(target["value"])):
            case.path_parameters[target["param"]] = ELSEWHERE
    return case
