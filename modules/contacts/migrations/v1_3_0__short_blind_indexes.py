"""Blind indexes are 64 bits (16 hex characters) from this version on (`security.crypto.keyring.
INDEX_HEX_CHARS`). Cut the stored ones: each new index is a prefix of the old, so no row is
decrypted and duplicate checks against leads keep matching."""
from __future__ import annotations

from security.crypto.blind import shorten_stored


def migrate(migrator, database):
    shorten_stored(database, "contacts_contact",
                   ("mobile_bidx", "phone_bidx", "email_bidx", "wechat_bidx"))
