"""The keyring: unwrapped data keys of one install, and the two operations built on them.

- `encrypt(text, aad)` → `v<version>:` + base64(nonce | ciphertext | tag), AES-256-GCM with the
  active `enc` key; `aad` is `"<table>.<column>"`, so a value copied into another column or
  table fails to decrypt.
- `index(domain, normalised)` → the first 64 bits (16 hex characters) of HMAC-SHA256 under the
  separate `index` key (blind index; `INDEX_HEX_CHARS` says why 64 bits).

Data keys live in `security_data_key`, wrapped by the master key. The keyring loads them once,
then re-reads the table at most every `refresh_seconds` (so a key version created by
`huike keys rotate` in another process is used for new writes soon after), and immediately when
it meets a version it does not know.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import threading
import time
from typing import Callable

import peewee as pw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.db import atomic, utcnow
from security.crypto.errors import DecryptionError, KeyringError
from security.crypto.models import PURPOSES, DataKey
from security.crypto.providers import KEY_BYTES, NONCE_BYTES, MasterKeyProvider

VERSION = re.compile(r"v([0-9]{1,6}):")  # the prefix only; base64 decoding checks the rest

# A blind index keeps the first 64 bits of its HMAC. Equality search only needs values that do
# not collide by chance: among ten million values of one domain the expected number of 64-bit
# collisions is ~3e-6. The full 256 bits (64 hex characters) made every blind-index B-tree four
# times as wide, and a bulk import writes each row into three of them at random places: at 1M
# leads SQLite itself wrote 14.9k rows/s with 64 characters and 27.8k with 16 (raw test in
# docs/benchmarks.md, lead import "Third pass"). A shorter index also reveals less (as
# CipherSweet's truncated indexes do). Stored indexes of older installs are cut by the leads
# and contacts 1.3.0 migrations (`security.crypto.blind.shorten_stored`): a prefix of the old
# value is exactly the new one.
INDEX_HEX_CHARS = 16


def key_context(purpose: str, version: int) -> bytes:
    """What a wrapped data key is bound to, so keys cannot be swapped between rows."""
    return f"huike/data-key/{purpose}/v{version}".encode()


def token_prefix(version: int) -> str:
    return f"v{version}:"


HMAC_BLOCK = 64  # SHA-256's block size


def hmac_states(key: bytes, prefix: bytes) -> tuple:
    """HMAC-SHA256 (RFC 2104) keyed with `key`, as two `hashlib` states: the inner hash fed
    `key ⊕ ipad` and `prefix`, the outer fed `key ⊕ opad`. Copying both per message and
    finishing them gives `hmac.new(key, prefix + message, sha256)` — plain C hash copies
    instead of a Python-level `HMAC.copy` (tested equal)."""
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK, b"\x00")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    inner.update(prefix)
    return inner, hashlib.sha256(bytes(byte ^ 0x5C for byte in key))


class Keyring:
    """Unwrapped data keys for one install (cached on its registry; thread-safe)."""

    def __init__(self, provider: MasterKeyProvider, *, refresh_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.provider = provider
        self.refresh_seconds = float(refresh_seconds)
        self._clock = clock
        self._lock = threading.RLock()
        self._keys: dict[tuple[str, int], bytes] = {}
        self._aead: dict[int, AESGCM] = {}
        self._active: dict[str, int] = {}
        self._loaded_at: float | None = None
        self._indexers: dict[str, Callable[[str], str]] = {}  # domain → `indexer(domain)`

    # ------------------------------------------------------------------ loading
    def load(self, *, create: bool = True) -> "Keyring":
        """(Re)read the data-key table and unwrap new keys; create version 1 of a missing
        purpose when `create`. Raises `KeyringError` for an unusable or wrong master key."""
        with self._lock:
            if self._loaded_at is None:
                self.provider.check()
            rows = list(DataKey.select().order_by(DataKey.purpose, DataKey.version))
            for row in rows:
                if (row.purpose, row.version) not in self._keys:
                    self._keys[(row.purpose, row.version)] = self._unwrap(row)
            active = {}
            for row in rows:
                active[row.purpose] = max(active.get(row.purpose, 0), row.version)
            missing = [p for p in PURPOSES if p not in active]
            if missing and create:
                for purpose in missing:
                    self._create(purpose, 1, rotated=True)
                return self.load(create=False)
            self._active = active
            self._loaded_at = self._clock()
            return self

    def _unwrap(self, row: DataKey) -> bytes:
        try:
            key = self.provider.unwrap(base64.b64decode(row.wrapped),
                                       key_context(row.purpose, row.version))
        except KeyringError:
            raise
        except Exception as exc:
            raise KeyringError(
                f"主密钥与数据库不匹配 / the master key ({self.provider.describe()}) does not "
                f"match this database: data key {row.purpose} v{row.version} cannot be unwrapped. "
                "请使用安装时的主密钥 / use the master key this install was created with") from exc
        if len(key) != KEY_BYTES:
            raise KeyringError(f"data key {row.purpose} v{row.version} has a bad length")
        return key

    def _create(self, purpose: str, version: int, *, rotated: bool) -> None:
        key = secrets.token_bytes(KEY_BYTES)
        wrapped = base64.b64encode(self.provider.wrap(key, key_context(purpose, version)))
        try:
            with atomic():
                DataKey.create(purpose=purpose, version=version, wrapped=wrapped.decode(),
                               rotated_at=utcnow() if rotated else None)
        except pw.IntegrityError:
            pass  # another process created it first; the next load() reads theirs

    def _fresh(self) -> None:
        if self._loaded_at is None or self._clock() - self._loaded_at >= self.refresh_seconds:
            self.load()

    def active_version(self, purpose: str = "enc") -> int:
        with self._lock:
            self._fresh()
            return self._active[purpose]

    def versions(self, purpose: str = "enc") -> list[int]:
        with self._lock:
            self._fresh()
            return sorted(v for p, v in self._keys if p == purpose)

    def new_version(self, purpose: str = "enc") -> int:
        """Create and activate the next data-key version; return it (for rotation)."""
        with self._lock:
            self.load()
            version = self._active[purpose] + 1
            self._create(purpose, version, rotated=False)
            self.load(create=False)
            if self._active[purpose] != version:
                raise KeyringError(f"could not create data key {purpose} v{version}")
            return version

    # ------------------------------------------------------------------ field values
    def _cipher(self, version: int) -> AESGCM:
        cipher = self._aead.get(version)
        if cipher is None:
            key = self._keys.get(("enc", version))
            if key is None:
                self.load(create=False)  # a version made by another process since we loaded
                key = self._keys.get(("enc", version))
            if key is None:
                raise DecryptionError(f"unknown data key version v{version}")
            cipher = self._aead[version] = AESGCM(key)
        return cipher

    def encrypt(self, plaintext: str, aad: str, *, version: int | None = None) -> str:
        """Encrypt with the active (or the given) key version, binding `aad`."""
        with self._lock:
            version = self.active_version("enc") if version is None else version
            cipher = self._cipher(version)
        nonce = secrets.token_bytes(NONCE_BYTES)
        body = cipher.encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return token_prefix(version) + base64.b64encode(nonce + body).decode("ascii")

    def decrypt(self, token: str, aad: str) -> str:
        """Decrypt a stored token; raise `DecryptionError` on anything but a perfect match.

        Runs for every encrypted value of every page read (50 rows × 4 channels), so the
        common case — a known key version — takes no lock (a dict read is atomic) and no
        regular expression."""
        head, colon, body = token.partition(":") if token.__class__ is str else ("", "", "")
        digits = head[1:]
        version = int(digits) if colon and head[:1] == "v" and 0 < len(digits) <= 6 \
            and digits.isascii() and digits.isdigit() else None
        if version is None:
            raise DecryptionError(f"{aad}: value is not a Huike ciphertext")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError(f"{aad}: ciphertext is not valid base64") from None
        cipher = self._aead.get(version)
        if cipher is None:
            with self._lock:
                try:
                    cipher = self._cipher(version)
                except DecryptionError as exc:
                    raise DecryptionError(f"{aad}: {exc}") from None
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"无法解密 / cannot decrypt {aad} (v{version}): the value was altered, copied from "
                "another column, or written with another key") from None
        return plain.decode("utf-8")

    @staticmethod
    def version_of(token: str) -> int | None:
        """The key version a stored token names (`v12:…` → 12), None if it is not one."""
        match = VERSION.match(token) if isinstance(token, str) else None
        return int(match.group(1)) if match else None

    def sealer(self, aad: str, count: int) -> Callable[[str], str]:
        """`encrypt(·, aad)` for up to `count` values in a row — one batch of an import, on
        one thread: the active key version, its cipher and `aad` are looked up once, and the
        nonces come from one `count × 12`-byte read of the OS generator instead of one read
        each (as random as separate reads; never shared: the closure is the batch's own).
        1.1 µs a value instead of 3 (lock, freshness check, key lookup, `token_bytes`)."""
        with self._lock:
            version = self.active_version("enc")
            cipher = self._cipher(version)
        prefix, aad_bytes = token_prefix(version), aad.encode("utf-8")
        nonces = secrets.token_bytes(NONCE_BYTES * count)
        offsets = iter(range(0, NONCE_BYTES * count, NONCE_BYTES))
        encrypt, encode = cipher.encrypt, binascii.b2a_base64

        def seal(plaintext: str) -> str:
            at = next(offsets)  # StopIteration past `count`: a nonce is never reused
            nonce = nonces[at:at + NONCE_BYTES]
            body = encrypt(nonce, plaintext.encode("utf-8"), aad_bytes)
            return prefix + encode(nonce + body, newline=False).decode("ascii")

        return seal

    # ------------------------------------------------------------------ blind index
    def index(self, domain: str, normalised: str) -> str:
        """Keyed HMAC-SHA256 of an already-normalised value within a domain: its first
        `INDEX_HEX_CHARS` hex characters."""
        return self.indexer(domain)(normalised)

    def indexer(self, domain: str) -> Callable[[str], str]:
        """`index(domain, ·)` as a function: the HMAC keyed and fed the domain once (its
        inner and outer SHA-256 states copied per value: `hmac_states`), cached per domain —
        index keys are never rotated. 0.75 µs a value, against 1.27 copying an `hmac`
        object and 1.9 keying one per value (and no lock)."""
        made = self._indexers.get(domain)
        if made is not None:
            return made
        with self._lock:
            if self._loaded_at is None:  # index keys are never rotated: no periodic re-read
                self.load()
            key = self._keys[("index", self._active["index"])]
        inner, outer = hmac_states(key, domain.encode("utf-8") + b"\x00")

        def index(normalised: str) -> str:
            mac = inner.copy()
            mac.update(normalised.encode("utf-8"))
            done = outer.copy()
            done.update(mac.digest())
            return done.hexdigest()[:INDEX_HEX_CHARS]

        self._indexers[domain] = index
        return index
