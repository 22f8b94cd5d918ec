"""Schema steps of leads (and contacts' blind indexes): the index diet (v1_1_0 — a fresh
install and an install upgraded from 1.0.0 end with the same indexes), hash blind indexes on
PostgreSQL (1.2.0) and blind indexes cut to 64 bits (v1_3_0)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from core.db import database, is_postgres
from core.migrate import migrate_all
from core.models import InstalledModule
from modules.leads.models import Lead
from modules.leads.tests.capture_org import *  # noqa: F401,F403  (the install fixture)

STEP = Path(__file__).resolve().parents[1] / "migrations" / "v1_1_0__lead_index_diet.py"
OLD = {"leads_lead_status": "status",
       "leads_lead_source": "source", "leads_lead_last_activity_at": "last_activity_at",
       "leads_lead_created_by_id": "created_by_id"}


def indexes() -> set[str]:
    return {index.name for index in database.get_indexes(Lead._meta.table_name)}


def dropped() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("lead_index_diet", STEP)
    step = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    return step.DROPPED


def test_fresh_and_upgraded_installs_have_the_same_lead_indexes(install):
    fresh = indexes()
    assert set(dropped()) == set(OLD) and not fresh & set(OLD)
    assert {"leads_lead_division_id_owner_id_status", "leads_lead_division_id",
            "leads_lead_import_key",
            "leads_lead_mobile_bidx", "leads_lead_owner_id"} <= fresh
    for name, column in OLD.items():  # the 1.0.0 schema
        database.execute_sql(f'CREATE INDEX "{name}" ON "{Lead._meta.table_name}" ("{column}")')
    InstalledModule.update(version="1.0.0").where(InstalledModule.name == "leads").execute()
    assert indexes() == fresh | set(OLD)
    assert dict(migrate_all(install.registry))["leads"] == "upgraded 1.0.0 -> 1.3.0"
    assert indexes() == fresh
    assert InstalledModule.get(InstalledModule.name == "leads").version == "1.3.0"


def _methods() -> dict[str, str]:
    """Index name → access method of the lead and contact blind indexes (PostgreSQL)."""
    rows = database.execute_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND indexname LIKE %s", ("%\\_bidx",)).fetchall()
    return {name: ("hash" if " USING hash " in text else "btree") for name, text in rows}


BIDX = {"leads_lead_mobile_bidx", "leads_lead_email_bidx", "leads_lead_wechat_bidx",
        "contacts_contact_mobile_bidx", "contacts_contact_phone_bidx",
        "contacts_contact_email_bidx", "contacts_contact_wechat_bidx"}


def test_blind_indexes_are_hash_indexes_on_postgresql_fresh_and_upgraded(org):
    from modules.contacts.models import Contact
    from security.crypto.blind import hash_indexes

    if not is_postgres():  # SQLite has no hash index: the B-trees stay, nothing to convert
        assert hash_indexes(Lead) == hash_indexes(Contact) == []
        assert {"leads_lead_mobile_bidx", "leads_lead_email_bidx"} <= indexes()
        return
    assert _methods() == {name: "hash" for name in BIDX}  # fresh install
    for name in BIDX:  # the 1.1.0 schema: B-trees
        module, model, column = name.split("_", 2)
        database.execute_sql(f'DROP INDEX "{name}"')
        database.execute_sql(f'CREATE INDEX "{name}" ON "{module}_{model}" ("{column}")')
    InstalledModule.update(version="1.1.0").where(
        InstalledModule.name.in_(["leads", "contacts"])).execute()
    assert set(_methods().values()) == {"btree"}
    assert dict(migrate_all(org.registry))["leads"] == "upgraded 1.1.0 -> 1.3.0"
    assert _methods() == {name: "hash" for name in BIDX}
    assert hash_indexes(Lead) == hash_indexes(Contact) == []  # idempotent
    lead = Lead.create(division=org.divisions["IA"].id, name="王芳",
                       mobile="+86 138-0013-8000")
    assert Lead.get(Lead.mobile_bidx.matches("13800138000")).id == lead.id


STORED_INDEXES = ("SELECT l.mobile_bidx, l.email_bidx, c.mobile_bidx, c.phone_bidx, "
                  "c.wechat_bidx FROM leads_lead l, contacts_contact c")


def test_stored_64_character_blind_indexes_are_cut_on_upgrade_and_still_match(org, monkeypatch):
    """A 1.2.0 install stored whole HMACs (64 hex characters); the 1.3.0 migrations of leads and
    contacts cut them to 16, and both kinds of records are found by the new indexes."""
    from modules.contacts.models import Account, Contact
    from modules.leads.normalise import company_key
    from security.crypto import keyring

    tables = {"leads_lead": ("mobile_bidx", "email_bidx", "wechat_bidx"),
              "contacts_contact": ("mobile_bidx", "phone_bidx", "email_bidx", "wechat_bidx")}
    if is_postgres():  # the 1.2.0 column type
        for table, columns in tables.items():
            database.execute_sql(f'ALTER TABLE "{table}" ' + ", ".join(
                f'ALTER COLUMN "{c}" TYPE varchar(64)' for c in columns))
    with monkeypatch.context() as old:  # the 1.2.0 index: the whole HMAC
        old.setattr(keyring, "INDEX_HEX_CHARS", 64)
        lead = Lead.create(division=org.divisions["IA"].id, name="王芳",
                           mobile="+86 138-0013-8000", email="Wang@Example.cn")
        account = Account.create(name="苏州精工", name_key=company_key("苏州精工"),
                                 division=org.divisions["IA"], owner=org.users["rep1"])
        contact = Contact.create(account=account, name="张工", phone="021-6888 1234",
                                 wechat="ZG88", mobile="138 0013 8000")
    stored = database.execute_sql(STORED_INDEXES).fetchone()
    assert {len(value) for value in stored} == {64} and stored[0] == stored[2]
    InstalledModule.update(version="1.2.0").where(
        InstalledModule.name.in_(["leads", "contacts"])).execute()
    upgraded = dict(migrate_all(org.registry))
    assert upgraded["leads"] == upgraded["contacts"] == "upgraded 1.2.0 -> 1.3.0"
    cut = database.execute_sql(STORED_INDEXES).fetchone()
    assert cut == tuple(value[:16] for value in stored)
    assert Lead.get(Lead.mobile_bidx.matches("13800138000")).id == lead.id
    assert Lead.get(Lead.email_bidx.matches("wang@example.cn")).id == lead.id
    assert Contact.get(Contact.mobile_bidx.matches("+8613800138000")).id == contact.id
    assert Contact.get(Contact.phone_bidx.matches("021 68881234")).id == contact.id
    assert Contact.get(Contact.wechat_bidx.matches("zg88")).id == contact.id
    if is_postgres():  # as a fresh install declares them, hash indexes kept
        types = database.execute_sql(
            "SELECT DISTINCT character_maximum_length FROM information_schema.columns "
            "WHERE table_name IN ('leads_lead', 'contacts_contact') AND column_name LIKE %s",
            ("%\\_bidx",)).fetchall()
        assert types == [(16,)] and set(_methods().values()) == {"hash"}
