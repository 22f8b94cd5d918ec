"""Normalisation for matching: phones via `phonenumbers` (CN by default)."""
from __future__ import annotations

import phonenumbers


def phone_e164(value: str | None, region: str = "CN") -> str | None:
    """`+86 138-0013-8000`, `13800138000`, `138 0013 8000` → `+8613800138000`; None if not a
    plausible number."""
    if not value or not str(value).strip():
        return None
    try:
        parsed = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
