"""Peewee fields whose values are stored AES-256-GCM encrypted.

`db_value` encrypts with the active data key, binding `"<table>.<column>"` as associated data;
`python_value` decrypts and raises `DecryptionError` on any mismatch — a value is never returned
half-read or as a placeholder. Equality on an encrypted column cannot match (each encryption
uses a fresh nonce): search through a `BlindIndexField` instead (see `security.crypto.blind`).
"""
from __future__ import annotations

import math

import peewee as pw

from security.crypto.binding import active_keyring

PREFIX_ROOM = 8  # "v" + up to six version digits + ":"


def ciphertext_length(max_chars: int) -> int:
    """Column width that holds any `max_chars`-character value once encrypted (UTF-8 ≤ 4 B/char,
    12-byte nonce, 16-byte tag, base64)."""
    raw = 12 + 4 * max_chars + 16
    return PREFIX_ROOM + 4 * math.ceil(raw / 3)


class EncryptedMixin:
    """Shared encrypt/decrypt behaviour; `max_chars` (None = unlimited) caps plaintext length."""

    max_chars: int | None = None

    @property
    def aad(self) -> str:
        """Associated data: the value only decrypts in the table and column it was written to."""
        return f"{self.model._meta.table_name}.{self.column_name}"

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray)):
            raise TypeError(f"{self.aad}: encrypted fields hold text, got bytes")
        text = value if isinstance(value, str) else str(value)
        if self.max_chars is not None and len(text) > self.max_chars:
            raise ValueError(f"{self.aad}: value longer than {self.max_chars} characters")
        return active_keyring().encrypt(text, self.aad)

    def python_value(self, value):
        if value is None:
            return None
        return active_keyring().decrypt(value, self.aad)


class EncryptedCharField(EncryptedMixin, pw.CharField):
    """A short encrypted string; `max_length` counts plaintext characters (the column is wider)."""

    def __init__(self, max_length: int = 255, *args, **kwargs):
        if kwargs.get("unique") or kwargs.get("index"):
            raise TypeError("an encrypted column cannot be indexed meaningfully; "
                            "add a BlindIndexField for search or uniqueness")
        self.max_chars = max_length
        super().__init__(ciphertext_length(max_length), *args, **kwargs)


class EncryptedTextField(EncryptedMixin, pw.TextField):
    """Encrypted text of any length."""

    def __init__(self, *args, **kwargs):
        if kwargs.get("unique") or kwargs.get("index"):
            raise TypeError("an encrypted column cannot be indexed meaningfully; "
                            "add a BlindIndexField for search or uniqueness")
        super().__init__(*args, **kwargs)


def encrypted_fields(model) -> list[pw.Field]:
    """The encrypted fields of a model, in column order."""
    return [f for f in model._meta.sorted_fields if isinstance(f, EncryptedMixin)]
