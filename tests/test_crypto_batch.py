"""The keyring's batch forms (`Keyring.sealer`, `Keyring.indexer`) — what the lead import
encrypts and indexes a million rows with — give exactly what `encrypt` / `index` give."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from security.crypto import check_keys
from security.crypto.keyring import INDEX_HEX_CHARS, NONCE_BYTES


def test_sealed_values_decrypt_with_their_column_only_and_never_share_a_nonce(install):
    keyring = check_keys(install.registry)
    seal = keyring.sealer("leads_lead.mobile", 500)
    tokens = [seal(f"1380013{n:04d}") for n in range(500)]
    assert [keyring.decrypt(t, "leads_lead.mobile") for t in tokens] == \
        [f"1380013{n:04d}" for n in range(500)]
    assert all(t.startswith(f"v{keyring.active_version()}:") for t in tokens)
    import base64
    nonces = {base64.b64decode(t.split(":", 1)[1])[:NONCE_BYTES] for t in tokens}
    assert len(nonces) == 500
    from security.crypto import DecryptionError
    with pytest.raises(DecryptionError):
        keyring.decrypt(tokens[0], "leads_lead.email")
    with pytest.raises(StopIteration):  # past its count a sealer refuses: no nonce reused
        seal("one too many")


def test_indexer_is_the_keyed_hmac_of_domain_and_value(install):
    keyring = check_keys(install.registry)
    key = keyring._keys[("index", keyring._active["index"])]
    expected = hmac.new(key, b"phone\x0013800138000", hashlib.sha256).hexdigest()
    assert keyring.indexer("phone")("13800138000") == expected[:INDEX_HEX_CHARS]
    assert keyring.index("phone", "13800138000") == expected[:INDEX_HEX_CHARS]
    assert keyring.indexer("email")("13800138000") != expected[:INDEX_HEX_CHARS]
    assert keyring.indexer("phone") is keyring.indexer("phone")  # keyed once per domain
    assert keyring.indexer("phone")("王芳") == hmac.new(
        key, "phone\x00王芳".encode(), hashlib.sha256).hexdigest()[:INDEX_HEX_CHARS]


@pytest.mark.parametrize("length", [1, 32, 63, 64, 65, 200])
def test_hmac_states_are_rfc_2104_for_every_key_length(length):
    """Keys shorter than, equal to and longer than SHA-256's block (hashed first)."""
    from security.crypto.keyring import hmac_states

    key = bytes((at * 7 + 1) % 256 for at in range(length))
    inner, outer = hmac_states(key, b"domain\x00")
    for message in (b"", b"13800138000", "王芳 wang@例子.cn".encode()):
        mac, done = inner.copy(), outer.copy()
        mac.update(message)
        done.update(mac.digest())
        assert done.hexdigest() == hmac.new(key, b"domain\x00" + message,
                                            hashlib.sha256).hexdigest()
