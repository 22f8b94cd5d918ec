"""The two ways crypto can fail, kept apart because they call for different reactions.

`KeyringError`: the keys themselves are unusable (master key missing, too widely readable,
malformed, or not the one this database was set up with). Start-up stops on it.
`DecryptionError`: one stored value cannot be read (tampered with, copied from another column,
or written under a key version this database does not have). It is raised, never papered over
with a placeholder, so no caller ever sees garbage as if it were data."""
from __future__ import annotations


class CryptoError(Exception):
    """Base class for every security.crypto failure."""


class KeyringError(CryptoError):
    """The master key or the data keys cannot be used; the message says what to fix."""


class DecryptionError(CryptoError):
    """A stored ciphertext failed authentication or names an unknown key version."""
