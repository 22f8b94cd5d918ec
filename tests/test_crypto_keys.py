"""The master key: file (0600 only), environment, HSM plug point; a missing, exposed, malformed
or wrong key stops start-up with a clear message and never yields garbage."""
from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from core.config import load_settings
from core.db import database
from core.registry import Registry
from security.crypto import KeyringError, check_keys, keyring_for
from security.crypto.keyring import key_context
from security.crypto.models import DataKey
from tests.support import make_install
from tests.test_crypto_support import Contact, create_tables, new_key_text, write_key

ROOT = Path(__file__).resolve().parent.parent


def reopen(data_dir: Path, environ=None) -> Registry:
    """A fresh registry (and keyring) for the install, as a restarted process would build."""
    registry = Registry.build(load_settings(data_dir, environ=environ or {}))
    database.connect(reuse_if_open=True)
    return registry


def huike(*args, env_extra=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", "from core.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=90)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_start_refused(data_dir: Path, *needles: str, env_extra=None) -> None:
    """`huike serve` and `huike worker` both exit 2 with the message (they would run forever,
    and time out here, if the key were not checked)."""
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        result = huike(*command, "--data-dir", str(data_dir), env_extra=env_extra)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "cannot start" in result.stderr, result.stderr
        for needle in needles:
            assert needle in result.stderr, (needle, result.stderr)
        assert "Traceback" not in result.stderr


@pytest.fixture
def populated(install):
    create_tables()
    Contact.create(name="王芳", phone="13800138000", notes="机密")
    return install


def test_install_creates_wrapped_data_keys(install):
    rows = {(k.purpose, k.version): k for k in DataKey.select()}
    assert set(rows) == {("enc", 1), ("index", 1)}
    keyring = check_keys(install.registry)
    provider = keyring.provider
    enc = provider.unwrap(base64.b64decode(rows[("enc", 1)].wrapped), key_context("enc", 1))
    index = provider.unwrap(base64.b64decode(rows[("index", 1)].wrapped), key_context("index", 1))
    assert len(enc) == len(index) == 32 and enc != index  # separate keys
    with pytest.raises(Exception):  # a wrapped key is bound to its purpose and version
        provider.unwrap(base64.b64decode(rows[("enc", 1)].wrapped), key_context("index", 1))
    assert base64.b64encode(enc).decode() not in rows[("enc", 1)].wrapped


def test_wrong_master_key_stops_start_up(populated):
    write_key(populated.data_dir / "master.key")  # a different, valid key
    registry = reopen(populated.data_dir)
    with pytest.raises(KeyringError, match="does not match this database"):
        check_keys(registry)
    with pytest.raises(KeyringError):  # reading data fails too: no garbage
        Contact.get(Contact.name == "王芳")
    assert_start_refused(populated.data_dir, "does not match this database")


def test_missing_key_file_stops_start_up(populated):
    key = populated.data_dir / "master.key"
    key.unlink()
    with pytest.raises(KeyringError, match="master key file not found"):
        check_keys(reopen(populated.data_dir))
    assert_start_refused(populated.data_dir, "master key file not found", str(key))


def test_key_file_readable_by_others_is_refused(populated):
    key = populated.data_dir / "master.key"
    key.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        check_keys(reopen(populated.data_dir))
    assert_start_refused(populated.data_dir, "mode 0644", f"chmod 600 {key}")
    key.chmod(0o600)
    registry = reopen(populated.data_dir)
    check_keys(registry)
    assert Contact.get(Contact.name == "王芳").phone == "13800138000"


def test_malformed_key_file_is_refused(populated):
    write_key(populated.data_dir / "master.key", "this is not a key\n")
    with pytest.raises(KeyringError, match="malformed master key"):
        check_keys(reopen(populated.data_dir))


def test_master_key_from_environment(populated, monkeypatch):
    key_file = populated.data_dir / "master.key"
    text = key_file.read_text()
    key_file.unlink()
    monkeypatch.setenv("HUIKE_MASTER_KEY", text.strip())
    registry = reopen(populated.data_dir, environ=dict(os.environ))  # not a config setting
    assert "HUIKE_MASTER_KEY" in keyring_for(registry).provider.describe()
    check_keys(registry)
    assert Contact.get(Contact.name == "王芳").notes == "机密"

    monkeypatch.setenv("HUIKE_MASTER_KEY", new_key_text().strip())
    with pytest.raises(KeyringError, match="HUIKE_MASTER_KEY.*does not match"):
        check_keys(reopen(populated.data_dir))
    assert_start_refused(populated.data_dir, "does not match",
                         env_extra={"HUIKE_MASTER_KEY": new_key_text().strip()})


HSM_MODULE = '''
"""A customer's HSM integration: the 'device' keeps its AES key private and only performs
AES-GCM, as a PKCS#11 token would (here in-process, for the test)."""
import secrets
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from security.crypto import HsmMasterKey, KeyringError

DEVICE_KEY = secrets.token_bytes(32)
STATE = {"online": True, "calls": 0}


class DemoHsm(HsmMasterKey):
    def describe(self):
        return "demo HSM slot 0"

    def _device(self):
        if not STATE["online"]:
            raise KeyringError("HSM 不可用 / HSM slot 0 is not reachable")
        STATE["calls"] += 1
        return AESGCM(DEVICE_KEY)

    def device_encrypt(self, plaintext, aad):
        iv = secrets.token_bytes(12)
        return iv + self._device().encrypt(iv, plaintext, aad)

    def device_decrypt(self, blob, aad):
        return self._device().decrypt(blob[:12], blob[12:], aad)


def provider(settings):
    return DemoHsm()
'''


def test_hsm_plug_point(tmp_path, database_url, monkeypatch):
    name = f"hsm_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "hsm"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(HSM_MODULE))
    monkeypatch.syspath_prepend(str(folder))
    config = {"security": {"key_provider": f"{name}:provider"}}
    with make_install(tmp_path / "data", database_url, extra_config=config) as inst:
        hsm = sys.modules[name]
        assert hsm.STATE["calls"] >= 2  # the data keys were wrapped inside the "device"
        assert all(base64.b64decode(k.wrapped)[:1] == b"\x02" for k in DataKey.select())
        (inst.data_dir / "master.key").unlink()  # the file key plays no part
        registry = reopen(inst.data_dir)
        assert check_keys(registry).provider.describe() == "demo HSM slot 0"
        create_tables()
        Contact.create(name="a", phone="13800138000")
        assert Contact.get(Contact.name == "a").phone == "13800138000"

        hsm.STATE["online"] = False
        with pytest.raises(KeyringError, match="not reachable"):
            check_keys(reopen(inst.data_dir))
        hsm.STATE["online"] = True
        hsm.DEVICE_KEY = os.urandom(32)  # another device key: wrong master key
        with pytest.raises(KeyringError, match="does not match"):
            check_keys(reopen(inst.data_dir))


def test_key_provider_setting_must_name_a_provider(install):
    from security.crypto.providers import provider_for

    settings = load_settings(install.data_dir, environ={})
    for spec, message in (("nodots", "package.module:factory"),
                          ("no_such_module_xyz:provider", "cannot load key_provider"),
                          ("builtins:repr", "not a MasterKeyProvider")):
        settings["security"]["key_provider"] = spec
        with pytest.raises(KeyringError, match=message):
            provider_for(settings)
