"""The hash chain: canonical serialisation of an entry, its SHA-256, and sensitive-value hashing.

An entry's hash is SHA-256 over sorted-key compact JSON of every column except the row id
(`seq`, `at`, actor, action, model, res_id, division_id, ip, request_id, via, details) plus
`prev_hash`, the previous entry's hash. The first entry chains from `GENESIS`. Timestamps are
serialised with one fixed format (naive UTC, microseconds) so the hash is the same whichever
database stored the row."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
HASHED_COLUMNS = ("seq", "at", "actor_id", "actor_login", "action", "model", "res_id",
                  "division_id", "ip", "request_id", "via", "details", "prev_hash")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, non-ASCII kept as is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalise_details(details: Any) -> Any:
    """What `details` will read back as after a trip through the JSON column (dates, Decimals
    and other non-JSON values become strings); hashing this keeps the chain reproducible."""
    if details is None:
        return None
    return json.loads(json.dumps(details, ensure_ascii=False, sort_keys=True, default=str))


def normalise_time(value: dt.datetime) -> dt.datetime:
    """Naive UTC (aware datetimes are converted)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def entry_payload(fields: Mapping[str, Any]) -> dict:
    """The hashed view of an entry given as a mapping of column values."""
    payload = {name: fields.get(name) for name in HASHED_COLUMNS}
    payload["at"] = normalise_time(payload["at"]).isoformat(timespec="microseconds")  # TIME_FORMAT
    return payload


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical serialisation of an entry's hashed columns."""
    return hashlib.sha256(canonical_json(entry_payload(fields)).encode("utf-8")).hexdigest()


def hash_value(value: Any) -> str:
    """`hmac-sha256:<hex>` of a sensitive value — keyed with the install's blind-index key
    (`keyring.index`, domain `audit.value`) — so entries show that and when a value changed,
    and someone holding the keys can check it against a known value, but the value cannot be
    recovered by hashing guesses: a plain SHA-256 of a mobile number falls to enumerating
    the ~10^10 numbers of its prefix. Bytes are hashed by their hex, strings as they are,
    other values as canonical JSON."""
    from security.crypto import active_keyring

    if isinstance(value, (bytes, bytearray, memoryview)):
        text = "bytes:" + bytes(value).hex()
    elif isinstance(value, str):
        text = value
    else:
        text = canonical_json(normalise_details(value))
    return "hmac-sha256:" + active_keyring().index(VALUE_DOMAIN, text)


VALUE_DOMAIN = "audit.value"


def _hash_leaves(value: Any) -> Any:
    """Replace every non-empty leaf by its hash, keeping dict/list structure (so a change
    record `{"old": …, "new": …}` stays readable as such)."""
    if isinstance(value, dict):
        return {key: _hash_leaves(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_hash_leaves(item) for item in value]
    return None if value is None else hash_value(value)


def mask_sensitive(details: Any, sensitive: Iterable[str]) -> Any:
    """Copy of `details` where the value under any key named in `sensitive` (at any depth)
    is replaced by hashes."""
    names = frozenset(sensitive)
    if not names:
        return details

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _hash_leaves(item) if key in names else walk(item)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        return value

    return walk(details)
