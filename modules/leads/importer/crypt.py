"""Encrypting a batch of contact channels and computing their blind indexes in a tight loop.

Per value this is exactly what the model fields do on a normal write — ciphertext
`keyring.encrypt(text, "<table>.<column>")` (`EncryptedCharField.db_value`) and index
`keyring.index(domain, normalise(text))` (`BlindIndexField.compute`) — minus the per-value
overhead of going through peewee (field lookup, `active_keyring()` binding check, mixin
bookkeeping): the keyring, associated data, domains and normalisers are looked up once per
batch. Values read back through the ORM decrypt and match as usual (tested).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from modules.leads.models import Lead
from security.crypto import active_keyring
from security.crypto.fields import EncryptedMixin

CHANNELS = ("mobile", "email", "wechat")


@dataclass(frozen=True)
class Channel:
    name: str
    index_name: str
    aad: str
    domain: str
    normalise: Callable[[str], str]
    max_chars: int | None


def channels(model=Lead) -> list[Channel]:
    """The encrypted channels of the model with their blind-index companions."""
    found = []
    for name in CHANNELS:
        field = model._meta.fields[name]
        index = model._meta.fields[f"{name}_bidx"]
        assert isinstance(field, EncryptedMixin) and index.source == name
        found.append(Channel(name, index.name, field.aad, index.domain, index.normalise,
                             field.max_chars))
    return found


class BatchCrypter:
    """Encrypts and indexes channel values with the active keyring (one per batch)."""

    def __init__(self, specs: list[Channel]):
        self.specs = specs
        self.keyring = active_keyring()

    def index(self, spec: Channel, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = spec.normalise(value)
        return self.keyring.index(spec.domain, normalised) if normalised else None

    def encrypt(self, spec: Channel, value: str | None) -> str | None:
        if value is None:
            return None
        if spec.max_chars is not None and len(value) > spec.max_chars:
            raise ValueError(f"{spec.aad}: value longer than {spec.max_chars} characters")
        return self.keyring.encrypt(value, spec.aad)
