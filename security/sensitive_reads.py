"""Audit of reads of sensitive fields in clear.

A sensitive field is an encrypted one (`EncryptedCharField`/`EncryptedTextField`) or one with
a declared mask kind (`__masks__`). When a caller's serialisation plan shows such a field in
clear (not masked, not hidden), the plan notes the ids of the records it serialised; at the
end of the request one audit entry per model records who read which fields of which records
(`read_sensitive`). One entry per response, not per row, keeps the audit chain off the hot
path of list pages while still answering "who saw this phone number".
"""
from __future__ import annotations

import logging

log = logging.getLogger("huike.audit")
CACHE_KEY = "security.sensitive_reads"
MAX_IDS = 1000  # ids listed per entry; the count is always exact


def sensitive_fields(model) -> set[str]:
    from security.crypto import EncryptedCharField, EncryptedTextField

    declared = set(getattr(model, "__masks__", None) or {})
    return declared | {f.name for f in model._meta.sorted_fields
                       if isinstance(f, (EncryptedCharField, EncryptedTextField))}


def collector(ctx, name: str, fields: list[str]):
    """The callback the plan calls with each serialised record id."""
    reads = ctx.cache.setdefault(CACHE_KEY, {})
    entry = reads.setdefault(name, {"fields": sorted(fields), "ids": set()})
    return entry["ids"].add


def flush(ctx) -> None:
    """Write the request's `read_sensitive` entries (its own transaction); never raises into
    the response, which is already sent, but logs a failure loudly."""
    reads = ctx.cache.pop(CACHE_KEY, None)
    if not reads or ctx.user is None:
        return
    from core.db import atomic
    from security import audit

    try:
        with atomic():
            for name, entry in reads.items():
                if not entry["ids"]:
                    continue
                ids = sorted(entry["ids"])
                audit.record(ctx, audit.READ_SENSITIVE, model=name, details={
                    "fields": entry["fields"], "count": len(ids), "ids": ids[:MAX_IDS]})
    except Exception:
        log.exception("could not audit a sensitive read (request %s)", ctx.request_id)
