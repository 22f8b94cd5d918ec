"""`transaction()`: a transaction when none is open, else nothing.

The post-create hot path (scoring, assignment, notifications) runs inside its caller's
transaction; nesting `core.db.atomic()` there would add a SAVEPOINT / RELEASE pair — two
round trips — per step for a partial rollback nobody uses (any error rolls the whole batch
back). Where a partial rollback *is* wanted (e.g. catching a unique-key race), use `atomic()`.
"""
from __future__ import annotations

import contextlib

from core.db import atomic, in_transaction


def transaction():
    return contextlib.nullcontext() if in_transaction() else atomic()
