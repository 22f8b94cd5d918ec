"""How encrypted fields find their keyring, and the start-up key check.

The keyring is cached on the registry (`registry.cached`), so an install's unwrapped keys live
exactly as long as its registry. `Registry.build` calls `bind_registry(registry)` right after it
binds the shared database proxy; encrypted fields then ask `active_keyring()`, which refuses to
answer if the proxy has since been pointed at another database (a keyring is never used with a
database it does not belong to)."""
from __future__ import annotations

from core.db import connection, database
from security.crypto.errors import KeyringError
from security.crypto.keyring import Keyring
from security.crypto.providers import provider_for

CACHE_KEY = "security.crypto.keyring"


class _Binding:
    registry = None
    database = None


_bound = _Binding()


def keyring_for(registry) -> Keyring:
    """The keyring of this registry's install (built on first use, keys loaded lazily)."""
    def build() -> Keyring:
        settings = registry.settings
        return Keyring(provider_for(settings),
                       refresh_seconds=settings["security"]["key_refresh_seconds"])
    return registry.cached(CACHE_KEY, build)


def bind_registry(registry) -> None:
    """Make `registry`'s keyring the one encrypted fields use with the database just bound."""
    _bound.registry = registry
    _bound.database = database.obj


def active_keyring() -> Keyring:
    """The keyring for the currently bound database; raises if none is bound to it."""
    registry = _bound.registry
    if registry is None or _bound.database is not database.obj or database.obj is None:
        raise KeyringError("没有绑定密钥环 / no keyring is bound to the current database: build "
                           "the install's Registry (core.registry.Registry.build) first")
    return keyring_for(registry)


def check_keys(registry) -> Keyring:
    """Load and verify the master key and every data key; create missing data keys.

    Raises `KeyringError` with an operator-facing message when the master key is missing,
    too widely readable, malformed, or not the key this database was set up with."""
    keyring = keyring_for(registry)
    with connection():
        keyring.load()
    return keyring


def require_keys(registry) -> None:
    """`check_keys` for commands: a key problem stops start-up with exit status 2."""
    from core.cli.common import CliError

    try:
        check_keys(registry)
    except KeyringError as exc:
        raise CliError(f"无法启动 / cannot start: {exc}") from exc
