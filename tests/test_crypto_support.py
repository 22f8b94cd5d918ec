"""Shared pieces of the crypto tests (no tests here): a model with encrypted fields and blind
indexes, a throwaway module declaring it (for the CLI, which finds models via the registry), and
helpers that look at what is really stored."""
from __future__ import annotations

import base64
import secrets
import uuid
from pathlib import Path

import peewee as pw

from core.db import BaseModel, database, is_postgres
from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                             EncryptedTextField, normalise_email, normalise_id_number,
                             normalise_phone)
from tests.modkit import write_module


class Contact(BlindIndexMixin, BaseModel):
    name = pw.CharField(max_length=64)
    phone = EncryptedCharField(max_length=32, null=True)
    phone_bidx = BlindIndexField("phone", normalise_phone)
    email = EncryptedCharField(max_length=128, null=True)
    email_bidx = BlindIndexField("email", normalise_email)
    id_number = EncryptedCharField(max_length=32, null=True)
    id_number_bidx = BlindIndexField("id_number", normalise_id_number)
    notes = EncryptedTextField(null=True)

    class Meta:
        table_name = "cryptotest_contact"


class Card(BaseModel):
    """A second table, to show a ciphertext cannot be moved between tables."""

    holder = pw.CharField(max_length=64)
    phone = EncryptedCharField(max_length=32, null=True)

    class Meta:
        table_name = "cryptotest_card"


def create_tables():
    database.create_tables([Contact, Card])


def _ph() -> str:
    return "%s" if is_postgres() else "?"


def raw_value(table: str, column: str, row_id: int):
    """The stored bytes of one column, read without any field conversion."""
    return database.execute_sql(f'SELECT "{column}" FROM "{table}" WHERE id = {_ph()}',
                                (row_id,)).fetchone()[0]


def set_raw(table: str, column: str, row_id: int, value) -> None:
    database.execute_sql(f'UPDATE "{table}" SET "{column}" = {_ph()} WHERE id = {_ph()}',
                         (value, row_id))


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


def write_key(path: Path, text: str | None = None, mode: int = 0o600) -> str:
    text = text or new_key_text()
    path.write_text(text)
    path.chmod(mode)
    return text


MODULE_INIT = '''
import peewee as pw
from core.db import BaseModel
from core.hooks import hookimpl
from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                             EncryptedTextField, normalise_phone)

class Customer(BlindIndexMixin, BaseModel):
    name = pw.CharField(max_length=64)
    phone = EncryptedCharField(max_length=32, null=True)
    phone_bidx = BlindIndexField("phone", normalise_phone)
    notes = EncryptedTextField(null=True)

    class Meta:
        table_name = "{name}_customer"

@hookimpl
def register_models():
    return [Customer]
'''


def write_crypto_module(root: Path) -> str:
    """A module (unique name per call) whose model has encrypted fields; returns its name."""
    name = f"cm{uuid.uuid4().hex[:8]}"
    write_module(root, name, "1.0.0", ["base"], init_py=MODULE_INIT.replace("{name}", name))
    return name
