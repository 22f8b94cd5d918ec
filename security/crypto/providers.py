"""Where the master key lives: a 0600 file, an environment variable, or a customer's HSM.

The master key only ever wraps and unwraps data keys (envelope encryption); field values are
encrypted with data keys. That is why the interface is `wrap`/`unwrap` and never "give me the
key bytes": an HSM keeps its key inside the device and only performs the operation.

Which provider is used (first match wins):
1. `[security] key_provider = "package.module:factory"` — the factory gets the `Settings` and
   returns a `MasterKeyProvider` (typically an `HsmMasterKey` subclass);
2. the environment variable `HUIKE_MASTER_KEY` (base64 of 32 bytes);
3. the key file `settings.key_file` (written by `huike init`; must be mode 0600).
"""
from __future__ import annotations

import base64
import binascii
import importlib
import os
import secrets
import stat
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from security.crypto.errors import KeyringError

ENV_VAR = "HUIKE_MASTER_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12
_FORMAT_GCM = b"\x01"  # wrapped blob: format byte | nonce | AES-GCM(ct | tag)


class MasterKeyProvider(ABC):
    """The master key: wraps and unwraps data keys, bound to a context string.

    `context` names what is wrapped (`huike/data-key/enc/v3`), so a wrapped key cannot be
    swapped for another. `unwrap` raises on a wrong key or tampered blob — any exception;
    raise `KeyringError` yourself for "device unreachable"-type problems so the message reaches
    the operator unchanged."""

    @abstractmethod
    def describe(self) -> str:
        """Where the key comes from, for messages (`key file /etc/huike/master.key`)."""

    @abstractmethod
    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        """Encrypt `data_key` under the master key, authenticating `context`."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """Reverse of `wrap`; must fail (raise) on a wrong key, context or tampered blob."""

    def check(self) -> None:
        """Raise `KeyringError` when the key is unavailable. Called at start-up."""


class LocalMasterKey(MasterKeyProvider):
    """A 256-bit master key held in process memory; wraps with AES-256-GCM."""

    def __init__(self):
        self._aead: AESGCM | None = None

    @abstractmethod
    def _read_key(self) -> bytes:
        """Return the 32 raw key bytes or raise `KeyringError` saying what is wrong."""

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self._read_key())
        return self._aead

    def check(self) -> None:
        self._cipher()

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return _FORMAT_GCM + nonce + self._cipher().encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if wrapped[:1] != _FORMAT_GCM:
            raise ValueError("unknown wrapped-key format")
        nonce, body = wrapped[1:1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES:]
        return self._cipher().decrypt(nonce, body, context)


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise KeyringError(f"主密钥格式错误 / malformed master key in {where}: expected base64 of "
                           f"{KEY_BYTES} bytes (as written by `huike init`)")
    return raw


class FileMasterKey(LocalMasterKey):
    """The key file written by `huike init`: one line of base64, readable by its owner only."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def describe(self) -> str:
        return f"key file {self.path}"

    def _read_key(self) -> bytes:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise KeyringError(
                f"找不到主密钥文件 / master key file not found: {self.path}. 请从密钥备份恢复，或设置 "
                f"{ENV_VAR} / restore it from your key backup, set [security] key_file, or set "
                f"{ENV_VAR}; without it encrypted data cannot be read") from None
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyringError(
                f"主密钥文件权限过宽 / master key file {self.path} is readable by group or others "
                f"(mode {mode:04o}); fix with: chmod 600 {self.path}")
        try:
            text = self.path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(f"无法读取主密钥文件 / cannot read master key file {self.path}: "
                               f"{exc}") from exc
        return _decode_key(text, str(self.path))


class EnvMasterKey(LocalMasterKey):
    """The master key from `HUIKE_MASTER_KEY` (base64), e.g. injected by a secrets manager."""

    def __init__(self, value: str):
        super().__init__()
        self._value = value

    def describe(self) -> str:
        return f"environment variable {ENV_VAR}"

    def _read_key(self) -> bytes:
        return _decode_key(self._value, f"${ENV_VAR}")


class HsmMasterKey(MasterKeyProvider):
    """Plug point for a master key that never leaves a hardware security module.

    Subclass it and implement the two device operations with the HSM's own AES-GCM (PKCS#11
    `CKM_AES_GCM`) on a non-extractable 256-bit AES key; Huike adds the framing and the
    start-up self-test. Then point the config at a factory:

        [security]
        key_provider = "acme_hsm.huike:provider"     # provider(settings) -> HsmMasterKey

    Sketch with python-pkcs11 (the customer's code, not shipped here):

        class Pkcs11MasterKey(HsmMasterKey):
            def __init__(self, lib, token, pin, label):
                self.session = pkcs11.lib(lib).get_token(token_label=token).open(user_pin=pin)
                self.key = self.session.get_key(label=label, key_type=pkcs11.KeyType.AES)
            def describe(self):
                return f"PKCS#11 key {self.key.label!r}"
            def device_encrypt(self, plaintext, aad):
                iv = secrets.token_bytes(12)
                return iv + self.key.encrypt(plaintext, mechanism=pkcs11.Mechanism.AES_GCM,
                                             mechanism_param=(iv, aad, 128))
            def device_decrypt(self, blob, aad):
                return self.key.decrypt(blob[12:], mechanism=pkcs11.Mechanism.AES_GCM,
                                        mechanism_param=(blob[:12], aad, 128))

    `device_decrypt` must raise when authentication fails; raise `KeyringError` when the
    device is unreachable or the PIN is wrong."""

    FORMAT = b"\x02"

    @abstractmethod
    def device_encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Authenticated encryption inside the device; returns everything needed to decrypt."""

    @abstractmethod
    def device_decrypt(self, blob: bytes, aad: bytes) -> bytes:
        """Reverse of `device_encrypt`; raises on a wrong key, aad or tampered blob."""

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return self.FORMAT + self.device_encrypt(data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if wrapped[:1] != self.FORMAT:
            raise ValueError("wrapped key was not made by an HSM provider")
        return self.device_decrypt(wrapped[1:], context)

    def check(self) -> None:
        """Self-test: a random value must survive a round trip through the device."""
        probe = secrets.token_bytes(KEY_BYTES)
        try:
            ok = self.unwrap(self.wrap(probe, b"huike/self-test"), b"huike/self-test") == probe
        except KeyringError:
            raise
        except Exception as exc:  # the device's own error types
            raise KeyringError(f"HSM 自检失败 / HSM self-test failed ({self.describe()}): "
                               f"{type(exc).__name__}: {exc}") from exc
        if not ok:
            raise KeyringError(f"HSM 自检失败 / HSM self-test failed ({self.describe()}): "
                               "round trip returned a different value")


def _load_factory(spec: str, settings) -> MasterKeyProvider:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise KeyringError(f"[security] key_provider {spec!r} must look like "
                           "'package.module:factory'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise KeyringError(f"无法加载主密钥提供者 / cannot load key_provider {spec!r}: {exc}") from exc
    provider = factory(settings)
    if not isinstance(provider, MasterKeyProvider):
        raise KeyringError(f"key_provider {spec!r} returned {type(provider).__name__}, "
                           "not a MasterKeyProvider")
    return provider


def provider_for(settings, environ: Mapping[str, str] | None = None) -> MasterKeyProvider:
    """The configured master key provider (see the module docstring for the order)."""
    environ = os.environ if environ is None else environ
    spec = settings["security"].get("key_provider", "")
    if spec:
        return _load_factory(spec, settings)
    if environ.get(ENV_VAR):
        return EnvMasterKey(environ[ENV_VAR])
    return FileMasterKey(settings.key_file)
