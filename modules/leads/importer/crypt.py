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
        self._indexers = {spec.name: self.indexer(spec) for spec in specs}

    def indexer(self, spec: Channel) -> Callable[[str | None], str | None]:
        """`index(spec, ·)` as a function (the keyed HMAC of the channel's domain bound)."""
        mac, normalise = self.keyring.indexer(spec.domain), spec.normalise

        def index(value: str | None) -> str | None:
            if value is None:
                return None
            normalised = normalise(value)
            return mac(normalised) if normalised else None

        return index

    def index(self, spec: Channel, value: str | None) -> str | None:
        return self._indexers[spec.name](value)

    def encrypt(self, spec: Channel, value: str | None) -> str | None:
        if value is None:
            return None
        _check_length(spec, value)
        return self.keyring.encrypt(value, spec.aad)

    def sealer(self, spec: Channel, count: int) -> Callable[[str | None], str | None]:
        """`encrypt(spec, ·)` for up to `count` values of one batch (`Keyring.sealer`: key,
        associated data and nonces fetched once)."""
        seal = self.keyring.sealer(spec.aad, count) if count else None

        def encrypt(value: str | None) -> str | None:
            if value is None:
                return None
            _check_length(spec, value)
            return seal(value)

        return encrypt


def _check_length(spec: Channel, value: str) -> None:
    if spec.max_chars is not None and len(value) > spec.max_chars:
        raise ValueError(f"{spec.aad}: value longer than {spec.max_chars} characters")
