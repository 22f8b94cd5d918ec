"""Data-key rotation: everything is re-encrypted and still reads, a crash mid-way resumes where it
stopped, rows written meanwhile by a process on the old key are caught, unreadable values are
reported; and the `huike keys status|rotate` commands."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database
from security.crypto import keyring_for
from security.crypto.keyring import Keyring
from security.crypto.models import DataKey
from security.crypto.providers import provider_for
from security.crypto.rotation import pending_count, encrypted_targets, rotate
from tests.support import make_install
from tests.test_crypto_support import (Card, Contact, create_tables, raw_value, set_raw,
                                       write_crypto_module, write_key)

FAST = {"security": {"key_refresh_seconds": 0}}


@pytest.fixture
def fast(tmp_path, database_url):
    """An install whose processes adopt a new key version at once (no settling wait)."""
    with make_install(tmp_path / "data", database_url, extra_config=FAST) as inst:
        create_tables()
        yield inst


def fill(count: int) -> dict[int, tuple]:
    expected = {}
    for n in range(count):
        values = dict(name=f"客户{n}", phone=f"+86 138-0000-{n:04d}",
                      email=f"user{n}@example.cn" if n % 3 else None,
                      notes=f"第{n}条备注" * (n % 4))
        expected[Contact.create(**values).id] = values
    return expected


def versions(column: str = "phone") -> list[str]:
    rows = database.execute_sql(f'SELECT "{column}" FROM cryptotest_contact ORDER BY id')
    return [value.split(":")[0] for (value,) in rows.fetchall() if value is not None]


def assert_all_read(expected: dict[int, tuple]) -> None:
    for contact in Contact.select():
        values = expected[contact.id]
        assert {k: getattr(contact, k) for k in values} == values


def test_rotation_reencrypts_everything_and_everything_still_reads(fast):
    expected = fill(37)
    Card.create(holder="x", phone="13900000000")
    bidx_before = [c.phone_bidx for c in Contact.select().order_by(Contact.id)]
    keyring = keyring_for(fast.registry)
    batches = []
    result = rotate(keyring, [Contact, Card], batch_size=5,
                    on_batch=lambda table, n: batches.append((table, n)))
    assert (result.version, result.resumed, result.complete) == (2, False, True)
    assert result.reencrypted == 38 and not result.failures
    assert [n for t, n in batches if t == "cryptotest_contact"] == [5] * 7 + [2]
    assert set(versions("phone")) == set(versions("notes")) == set(versions("email")) == {"v2"}
    assert raw_value("cryptotest_card", "phone", 1).startswith("v2:")
    assert_all_read(expected)
    assert [c.phone_bidx for c in Contact.select().order_by(Contact.id)] == bidx_before
    assert Contact.get(Contact.phone_bidx.matches("13800000007")).name == "客户7"
    assert DataKey.get(DataKey.purpose == "enc", DataKey.version == 2).rotated_at is not None

    new = Contact.create(name="after", phone="13700000000")  # new writes use the new key
    assert raw_value("cryptotest_contact", "phone", new.id).startswith("v2:")
    again = rotate(keyring, [Contact, Card], batch_size=100)
    assert (again.version, again.resumed, again.reencrypted) == (3, False, 39)
    assert set(versions()) == {"v3"}
    assert Contact.get_by_id(new.id).phone == "13700000000"


def test_rotation_resumes_after_a_crash(fast):
    expected = fill(23)
    keyring = keyring_for(fast.registry)

    def crash_after_first_batch(table, n):
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        rotate(keyring, [Contact], batch_size=5, on_batch=crash_after_first_batch)
    assert sorted(versions()) == ["v1"] * 18 + ["v2"] * 5  # the first batch was committed
    assert DataKey.get(DataKey.purpose == "enc", DataKey.version == 2).rotated_at is None
    assert_all_read(expected)  # mixed versions read fine meanwhile
    assert pending_count(encrypted_targets([Contact])[0], 2) == 18

    resumed = rotate(keyring, [Contact], batch_size=5)
    assert (resumed.version, resumed.resumed, resumed.complete) == (2, True, True)
    assert resumed.reencrypted == 18  # only the rows still on the old key
    assert set(versions()) == {"v2"}
    assert_all_read(expected)


def test_rows_written_with_the_old_key_during_rotation_are_caught(tmp_path, database_url):
    # the "server" (the bound keyring) re-reads the key table only hourly; the rotating
    # process is configured to settle at once, so its verification pass must catch the stragglers
    config = {"security": {"key_refresh_seconds": 3600}}
    with make_install(tmp_path / "data", database_url, extra_config=config) as inst:
        create_tables()
        expected = fill(12)
        server = keyring_for(inst.registry)
        assert server.active_version() == 1
        rotating = Keyring(provider_for(inst.settings), refresh_seconds=0)
        late = []

        def server_writes(table, n):
            if not late:
                late.append(Contact.create(name="late", phone="13500000000").id)
                assert raw_value("cryptotest_contact", "phone", late[0]).startswith("v1:")

        result = rotate(rotating, [Contact], batch_size=5, on_batch=server_writes)
        assert result.complete and result.version == 2
        assert raw_value("cryptotest_contact", "phone", late[0]).startswith("v2:")
        assert set(versions()) == {"v2"}
        expected[late[0]] = {"name": "late", "phone": "13500000000"}
        assert_all_read(expected)  # the "server" meets v2 rows and loads the new key itself

        waits = []
        rotate(Keyring(provider_for(inst.settings), refresh_seconds=600), [Contact],
               sleep=waits.append)  # a new version: wait for other processes to adopt it
        assert len(waits) == 1 and 590 < waits[0] <= 600


def test_unreadable_values_are_reported_and_keep_the_rotation_open(fast):
    expected = fill(8)
    bad_id = min(expected)
    good = raw_value("cryptotest_contact", "phone", bad_id)
    set_raw("cryptotest_contact", "phone", bad_id, good[:-6] + "AAAAAA")
    result = rotate(keyring_for(fast.registry), [Contact], batch_size=3)
    assert not result.complete
    assert list(result.failures) == [("cryptotest_contact", bad_id, "phone")]
    assert sorted(versions()) == ["v1"] + ["v2"] * 7
    set_raw("cryptotest_contact", "phone", bad_id, good)  # restored from a backup, say
    resumed = rotate(keyring_for(fast.registry), [Contact], batch_size=3)
    assert resumed.resumed and resumed.complete and resumed.reencrypted == 1
    assert_all_read(expected)


# ---------------------------------------------------------------- the commands
def run(*args):
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


def test_keys_commands(tmp_path, database_url):
    root = tmp_path / "extra"
    name = write_crypto_module(root)
    config = {"modules": {"paths": [str(root)]}, **FAST}
    with make_install(tmp_path / "data", database_url, extra_config=config) as inst:
        Customer = inst.registry.model(f"{name}_customer")
        for n in range(12):
            Customer.create(name=f"c{n}", phone=f"1380000{n:04d}", notes=f"备注{n}")
        data = str(inst.data_dir)

        status = run("keys", "status", "--data-dir", data)
        assert status.exit_code == 0, status.output
        assert f"{name}_customer.phone: v1=12" in status.output
        assert "master key: key file" in status.output

        rotated = run("keys", "rotate", "--batch-size", "5", "--data-dir", data)
        assert rotated.exit_code == 0, rotated.output
        assert "new data key v2: 12" in rotated.output
        assert "done: 12 rows re-encrypted with v2" in rotated.output
        status = run("keys", "status", "--data-dir", data)
        assert f"{name}_customer.phone: v1=0 v2=12" in status.output
        assert f"{name}_customer.notes: v1=0 v2=12" in status.output

        database.connect(reuse_if_open=True)
        assert sorted(c.notes for c in Customer.select()) == sorted(f"备注{n}" for n in range(12))
        assert Customer.get(Customer.phone_bidx.matches("+86 13800000005")).name == "c5"

        table = f"{name}_customer"
        good = raw_value(table, "phone", 3)
        set_raw(table, "phone", 3, good[:-6] + "AAAAAA")
        broken = run("keys", "rotate", "--data-dir", data)
        assert broken.exit_code == 2
        assert "new data key v3" in broken.output
        assert f"{table}.phone id=3" in broken.output and "unfinished" in broken.output
        database.connect(reuse_if_open=True)
        set_raw(table, "phone", 3, good)
        resumed = run("keys", "rotate", "--data-dir", data)
        assert resumed.exit_code == 0, resumed.output
        assert "resuming rotation v3: 1" in resumed.output

        write_key(inst.data_dir / "master.key")
        wrong = run("keys", "rotate", "--data-dir", data)
        assert wrong.exit_code == 2 and "does not match this database" in wrong.output
