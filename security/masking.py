"""Masking: how a value the caller may only glimpse is shown (`138****5678`).

A model declares the mask kind of its sensitive fields with a class attribute:

    class Lead(BaseModel):
        __masks__ = {"phone": "phone", "email": "email", "id_number": "id_number"}

A field without a declared kind is masked with `generic` (first and last character kept).
Whether a field is masked for a caller is decided by the field rules (`security.fields`);
this module only knows how to mask. `None` stays `None` (an empty value reveals nothing).
"""
from __future__ import annotations

from typing import Any, Callable

STAR = "*"


def mask_generic(value: str) -> str:
    """Keep the first and last character: `张三丰` → `张*丰`; short values become stars."""
    if len(value) <= 1:
        return STAR * len(value)
    if len(value) == 2:
        return value[0] + STAR
    return value[0] + STAR * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 characters: `13812345678` → `138****5678`."""
    text = value.strip()
    if len(text) < 8:
        return mask_generic(text)
    return text[:3] + STAR * (len(text) - 7) + text[-4:]


def mask_email(value: str) -> str:
    """Keep the first character of the local part and the domain: `z***@example.com`."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return mask_generic(text)
    return local[0] + STAR * 3 + "@" + domain


def mask_id_number(value: str) -> str:
    """Keep the first 4 and last 4 characters: `310101199001011234` → `3101**********1234`."""
    text = value.strip()
    if len(text) < 9:
        return mask_generic(text)
    return text[:4] + STAR * (len(text) - 8) + text[-4:]


def mask_bank_account(value: str) -> str:
    """Keep only the last 4 digits: `6222020200112233445` → `***************3445`."""
    text = value.replace(" ", "")
    if len(text) < 5:
        return mask_generic(text)
    return STAR * (len(text) - 4) + text[-4:]


def mask_name(value: str) -> str:
    """Keep the first character (the family name): `张三丰` → `张**`."""
    text = value.strip()
    if len(text) <= 1:
        return STAR * len(text)
    return text[0] + STAR * (len(text) - 1)


MASKS: dict[str, Callable[[str], str]] = {
    "generic": mask_generic,
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_id_number,
    "bank_account": mask_bank_account,
    "name": mask_name,
}


def masker(kind: str) -> Callable[[Any], Any]:
    """The mask function for `kind`, accepting any value (numbers are masked as text)."""
    try:
        function = MASKS[kind]
    except KeyError:
        raise ValueError(f"unknown mask kind {kind!r}; known: {', '.join(MASKS)}") from None

    def apply(value: Any) -> Any:
        if value is None:
            return None
        return function(value if isinstance(value, str) else str(value))

    return apply


def mask_kind(model, field_name: str) -> str:
    """The declared mask kind of `model.field_name` (`__masks__`), else `generic`."""
    return (getattr(model, "__masks__", None) or {}).get(field_name, "generic")


def mask_value(model, field_name: str, value: Any) -> Any:
    """Mask one value of `model.field_name` as declared."""
    return masker(mask_kind(model, field_name))(value)
