"""Normalisers for blind indexes: equal-meaning inputs must give the same index.

Each normaliser maps a raw value to a canonical string ("" when nothing searchable is left) and
carries an `index_domain`: values in the same domain are comparable across tables, so a phone
number in leads and in contacts can be matched for duplicate detection (撞单) while a phone never
collides with an e-mail. A fuller phone normaliser (phonenumbers, all regions) belongs to the
leads module; this one covers mainland China numbers as typed by people."""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

Normaliser = Callable[[str], str]


def index_domain(name: str):
    """Decorator: tag a normaliser with the blind-index domain it defines."""
    def tag(func: Normaliser) -> Normaliser:
        func.index_domain = name
        return func
    return tag


def _nfkc(value) -> str:
    return unicodedata.normalize("NFKC", str(value))


@index_domain("phone")
def normalise_phone(value) -> str:
    """Digits only; a leading +86 / 0086 / 86 country code on an 11-digit number is dropped.
    `+86 138-0013-8000`, `0086 13800138000` and `１３８００１３８０００` all give `13800138000`."""
    text = _nfkc(value).strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+") and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


@index_domain("email")
def normalise_email(value) -> str:
    """Trimmed and lower-cased (`Wang.Fang@Example.COM ` → `wang.fang@example.com`)."""
    return _nfkc(value).strip().lower()


@index_domain("id_number")
def normalise_id_number(value) -> str:
    """ID card / passport numbers: whitespace removed, upper-cased (the check digit `x` → `X`)."""
    return re.sub(r"\s+", "", _nfkc(value)).upper()


@index_domain("text")
def normalise_text(value) -> str:
    """Generic: NFKC (full-width → half-width), trimmed, inner whitespace collapsed, casefolded."""
    return re.sub(r"\s+", " ", _nfkc(value)).strip().casefold()
