"""security.crypto — encrypted fields with envelope keys and blind indexes.

A master key (0600 file, `HUIKE_MASTER_KEY`, or an HSM through `HsmMasterKey`) wraps versioned
data keys stored in `security_data_key`; field values are AES-256-GCM encrypted with the active
data key, bound to their table and column, and carry their key version (`v3:…`). A separate
index key computes blind indexes (HMAC-SHA256 of the normalised value) for equality search and
duplicate detection. `huike keys rotate` re-encrypts online; `huike keys status` reports.

Declaring and searching, in another module:

    from security.crypto import (BlindIndexField, BlindIndexMixin, EncryptedCharField,
                                 blind_index_for, normalise_phone)

    class Lead(BlindIndexMixin, TimestampedModel):
        phone = EncryptedCharField(max_length=32, null=True)
        phone_bidx = BlindIndexField("phone", normalise_phone)

    Lead.select().where(Lead.phone_bidx == blind_index_for(Lead.phone, "+86 138-0013-8000"))

The hook functions below join the module system through the `base` module (security.plugin).
"""
from __future__ import annotations

from security.crypto.binding import (active_keyring, bind_registry, check_keys, keyring_for,
                                     require_keys)
from security.crypto.blind import (BlindIndexField, BlindIndexMixin, blind_index,
                                   blind_index_for)
from security.crypto.errors import CryptoError, DecryptionError, KeyringError
from security.crypto.fields import EncryptedCharField, EncryptedTextField, encrypted_fields
from security.crypto.normalise import (normalise_email, normalise_id_number, normalise_phone,
                                       normalise_text)
from security.crypto.providers import (EnvMasterKey, FileMasterKey, HsmMasterKey,
                                       MasterKeyProvider)

__all__ = [
    "BlindIndexField", "BlindIndexMixin", "CryptoError", "DecryptionError", "EncryptedCharField",
    "EncryptedTextField", "EnvMasterKey", "FileMasterKey", "HsmMasterKey", "KeyringError",
    "MasterKeyProvider", "active_keyring", "bind_registry", "blind_index", "blind_index_for",
    "check_keys", "encrypted_fields", "keyring_for", "normalise_email", "normalise_id_number",
    "normalise_phone", "normalise_text", "require_keys",
]


def register_models():
    from security.crypto.models import MODELS
    return list(MODELS)


def on_install(registry, manifest):
    """Create version 1 of the encryption and index data keys, wrapped by the master key."""
    keyring_for(registry).load(create=True)


def register_cli(group):
    from security.crypto.cli import keys
    group.add_command(keys)
