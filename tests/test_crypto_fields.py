"""Encrypted fields: round trip, binding to table and column, tamper detection, blind indexes
kept in sync on every write path, and no plaintext anywhere in the stored database."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from pathlib import Path

import peewee as pw
import pytest

from core.db import BaseModel, database, is_postgres
from security.crypto import (BlindIndexField, DecryptionError, KeyringError, active_keyring,
                             blind_index, blind_index_for, normalise_email, normalise_id_number,
                             normalise_phone, normalise_text)
from tests.test_crypto_support import Card, Contact, create_tables, raw_value, set_raw


@pytest.fixture
def tables(install):
    create_tables()
    return install


def test_round_trip_and_stored_form(tables):
    notes = "客户预算 80 万，决策人：王总 🚀\nsecond line"
    contact = Contact.create(name="王芳", phone="+86 138-0013-8000", email="Wang.Fang@Example.cn",
                             notes=notes)
    again = Contact.get_by_id(contact.id)
    assert (again.phone, again.email, again.notes) == ("+86 138-0013-8000",
                                                       "Wang.Fang@Example.cn", notes)
    stored = raw_value("cryptotest_contact", "phone", contact.id)
    assert stored.startswith("v1:") and "138" not in stored
    assert raw_value("cryptotest_contact", "id_number", contact.id) is None
    assert Contact.get_by_id(contact.id).id_number is None
    empty = Contact.create(name="空", phone="")
    assert raw_value("cryptotest_contact", "phone", empty.id).startswith("v1:")
    assert Contact.get_by_id(empty.id).phone == ""


def test_each_encryption_uses_a_fresh_nonce(tables):
    first = Contact.create(name="a", phone="13800138000")
    second = Contact.create(name="b", phone="13800138000")
    assert raw_value("cryptotest_contact", "phone", first.id) != \
        raw_value("cryptotest_contact", "phone", second.id)
    assert first.phone_bidx == second.phone_bidx and len(first.phone_bidx) == 16


def test_ciphertext_is_bound_to_its_table_and_column(tables):
    contact = Contact.create(name="a", phone="13800138000", email="a@example.cn")
    card = Card.create(holder="a", phone="13900000000")
    phone = raw_value("cryptotest_contact", "phone", contact.id)

    set_raw("cryptotest_contact", "email", contact.id, phone)  # another column, same row
    with pytest.raises(DecryptionError, match="cryptotest_contact.email"):
        Contact.get_by_id(contact.id)
    set_raw("cryptotest_card", "phone", card.id, phone)  # same column name, another table
    with pytest.raises(DecryptionError, match="cryptotest_card.phone"):
        Card.get_by_id(card.id)
    set_raw("cryptotest_contact", "email", contact.id, None)
    assert Contact.get_by_id(contact.id).phone == "13800138000"  # the original still reads


def _flip(text: str, position: int) -> str:
    replacement = "A" if text[position] != "A" else "B"
    return text[:position] + replacement + text[position + 1:]


def test_tampering_is_detected_never_returned(tables):
    contact = Contact.create(name="a", phone="13800138000")
    good = raw_value("cryptotest_contact", "phone", contact.id)
    for bad in (_flip(good, 10), _flip(good, len(good) - 6), good[:-8], "v9" + good[2:],
                "13800138000", "v1:not base64!"):
        set_raw("cryptotest_contact", "phone", contact.id, bad)
        with pytest.raises(DecryptionError):
            Contact.get_by_id(contact.id)
    set_raw("cryptotest_contact", "phone", contact.id, good)
    assert Contact.get_by_id(contact.id).phone == "13800138000"


def test_plaintext_length_is_checked_and_wide_text_fits(tables):
    with pytest.raises(ValueError, match="longer than 32"):
        Contact.create(name="a", phone="1" * 33)
    wide = "张" * 31 + "🚀"  # 32 characters, 97 bytes of UTF-8: fits the widened column
    contact = Contact.create(name="a", phone=wide)
    assert Contact.get_by_id(contact.id).phone == wide


def test_normalisers():
    assert normalise_phone("+86 138-0013-8000") == "13800138000"
    assert normalise_phone("0086 138 0013 8000") == "13800138000"
    assert normalise_phone("86-13800138000") == "13800138000"
    assert normalise_phone("１３８００１３８０００") == "13800138000"  # full-width digits
    assert normalise_phone("010-6552 9988") == "01065529988"  # a landline keeps its area code
    assert normalise_email("  Wang.Fang@Example.COM ") == "wang.fang@example.com"
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert normalise_text("  北京  汇客\tＣＲＭ ") == "北京 汇客 crm"


def test_blind_index_equality_search_and_duplicates(tables):
    a = Contact.create(name="a", phone="+86 138-0013-8000", email="Wang.Fang@Example.cn",
                       id_number="11010519491231002x")
    Contact.create(name="b", phone="13800138000", email="wang.fang@example.cn ")
    Contact.create(name="c", phone="13900000000", email="li.lei@example.cn")
    hits = Contact.select().where(
        Contact.phone_bidx == blind_index_for(Contact.phone, "0086 13800138000"))
    assert sorted(c.name for c in hits) == ["a", "b"]
    assert Contact.select().where(Contact.email_bidx.matches("WANG.FANG@example.cn")).count() == 2
    assert Contact.get(Contact.id_number_bidx.matches("11010519491231002X")).id == a.id
    duplicates = (Contact.select(Contact.phone_bidx, pw.fn.COUNT(Contact.id).alias("n"))
                  .group_by(Contact.phone_bidx).having(pw.fn.COUNT(Contact.id) > 1))
    assert [(d.phone_bidx, d.n) for d in duplicates] == [(a.phone_bidx, 2)]


def test_blind_index_is_keyed_and_domain_separated(tables):
    digest = blind_index("13800138000", normalise_phone)
    assert digest != hashlib.sha256(b"13800138000").hexdigest()
    assert digest != blind_index("13800138000", normalise_text)  # phone vs generic domain
    assert blind_index("---", normalise_phone) is None  # nothing searchable
    Contact.create(name="no phone")
    Contact.create(name="junk phone", phone="n/a")
    assert Contact.get(Contact.name == "junk phone").phone_bidx is None
    assert Contact.select().where(Contact.phone_bidx.matches("n/a")).count() == 0
    assert Contact.select().where(Contact.phone_bidx.matches(None)).count() == 0


def test_blind_index_follows_every_write_path(tables):
    def bidx(name):
        return Contact.get(Contact.name == name).phone_bidx

    target = blind_index("13800138000", normalise_phone)
    c = Contact.create(name="create", phone="13800138000")
    assert c.phone_bidx == target and bidx("create") == target
    c.phone = "13900000000"
    c.save()
    assert bidx("create") == blind_index("13900000000", normalise_phone)
    c.phone = None
    c.save()
    assert bidx("create") is None

    Contact.insert(name="insert", phone="+8613800138000").execute()
    Contact.insert_many([{"name": "many-dict", "phone": "138 0013 8000"},
                         {Contact.name: "many-field", Contact.phone: "13800138000"}]).execute()
    Contact.insert_many([("many-tuple", "13800138000")],
                        fields=[Contact.name, Contact.phone]).execute()
    Contact.bulk_create([Contact(name="bulk", phone="0086-13800138000")])
    for name in ("insert", "many-dict", "many-field", "many-tuple", "bulk"):
        assert bidx(name) == target, name

    Contact.update(phone="13700000000").where(Contact.name == "insert").execute()
    assert bidx("insert") == blind_index("13700000000", normalise_phone)
    rows = list(Contact.select().where(Contact.name.in_(["many-dict", "bulk"])))
    for row in rows:
        row.phone = "13600000000"
    Contact.bulk_update(rows, fields=[Contact.phone])
    assert bidx("many-dict") == bidx("bulk") == blind_index("13600000000", normalise_phone)
    assert Contact.get(Contact.name == "bulk").phone == "13600000000"
    with pytest.raises(ValueError, match="SQL expression"):
        Contact.update(phone=Contact.name).execute()


def test_blind_index_field_requires_the_mixin():
    with pytest.raises(TypeError, match="BlindIndexMixin"):
        class Loose(BaseModel):  # noqa: F841
            phone = pw.CharField(null=True)
            phone_bidx = BlindIndexField("phone", normalise_phone)


def test_keyring_refuses_a_database_it_does_not_belong_to(tables):
    from core.db import bind

    original = database.obj
    assert active_keyring() is active_keyring()
    bind(pw.SqliteDatabase(":memory:"))
    try:
        with pytest.raises(KeyringError, match="no keyring is bound"):
            active_keyring()
    finally:
        bind(original)
    assert Contact.create(name="ok", phone="1").phone == "1"


# ---------------------------------------------------------------- nothing in the clear on disk
def _needles() -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    digits = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    return {"tag": uuid.uuid4().hex, "phone": digits, "email": f"zhang.{tag}@example.cn",
            "id_number": f"3201{tag.upper()}", "notes": f"机密备注{tag}预算八十万"}


def _sqlite_bytes(install) -> bytes:
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db_file = Path(database.obj.database)
    data = db_file.read_bytes()
    wal = db_file.with_name(db_file.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def _postgres_bytes(control: str) -> bytes:
    """The table's heap, index and TOAST files after a checkpoint, plus every row as text."""
    database.execute_sql("CHECKPOINT")
    data_dir = Path(database.execute_sql("SHOW data_directory").fetchone()[0])
    paths = database.execute_sql(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
        "UNION SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.reltoastrelid <> 0"
    ).fetchall()
    chunks = []
    for (relative,) in paths:
        if relative:
            chunks.extend(p.read_bytes() for p in data_dir.glob(relative + "*"))
    assert control.encode("utf-8") in b"".join(chunks)  # the files hold real row data
    tables = database.execute_sql("SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema = current_schema()").fetchall()
    for (table,) in tables:
        for (row,) in database.execute_sql(f'SELECT t::text FROM "{table}" t').fetchall():
            chunks.append(row.encode("utf-8"))
    return b"".join(chunks)


def test_database_file_contains_no_plaintext(tables):
    needles = _needles()
    control = f"明文对照{needles.pop('tag')}"  # a plain column: proves the scan sees row data
    for n in range(20):
        Contact.create(name=f"客户{n}", **needles)
    Contact.update(notes=needles["notes"] + "（更新）").where(Contact.name == "客户3").execute()
    Card.create(holder=control, phone=needles["phone"])
    assert Contact.get(Contact.name == "客户3").notes.startswith(needles["notes"])
    stored = _postgres_bytes(control) if is_postgres() else _sqlite_bytes(tables)
    assert control.encode("utf-8") in stored
    for field, value in needles.items():
        for form in {value, value.lower(), normalise_phone(value) if field == "phone" else value}:
            assert form.encode("utf-8") not in stored, (field, form)
            assert form.encode("utf-16-le") not in stored, (field, form)
