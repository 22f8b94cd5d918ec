"""Contacts' mirrors of their account's owner, division and region (`security.mirrors`):
the database keeps them equal on every write path, and the scope compiled through them gives
exactly the rows the parent subquery gives, for every role, share and division."""
from __future__ import annotations

import pytest

from core.db import atomic, database
from modules.contacts.models import Account, Contact
from security import mirrors, scopes
from security.crud import scoped_select
from security.shares import share

MIRRORS = ("account_owner_id", "account_division_id", "account_region_id")


def _mirrors(contact_id: int) -> tuple:
    row = Contact.select(*[Contact._meta.fields[n] for n in MIRRORS]).where(
        Contact.id == contact_id).tuples().get()
    return tuple(row)


def _account_columns(account_id: int) -> tuple:
    return Account.select(Account.owner, Account.division, Account.region).where(
        Account.id == account_id).tuples().get()


def _account(org, owner: str, name: str, division: str = "IA") -> Account:
    return Account.create(name=name, name_key=name, division=org.divisions[division],
                          owner=org.users[owner])


def test_every_write_path_keeps_the_mirrors_equal(org):
    first, second = _account(org, "rep1", "甲"), _account(org, "rep2", "乙")
    contact = Contact.create(account=first, name="张三")
    assert _mirrors(contact.id) == _account_columns(first.id) != (None, None, None)
    first.owner = org.users["rep2"]  # ORM save of the parent
    first.save()
    assert _mirrors(contact.id)[0] == org.id("rep2")
    Account.update(owner=org.users["mgr"]).where(Account.id == first.id).execute()  # bulk
    assert _mirrors(contact.id)[0] == org.id("mgr")
    Account.update(division=org.divisions["MD"], owner=None).where(
        Account.id == first.id).execute()
    assert _mirrors(contact.id) == _account_columns(first.id)
    stale = Contact.get_by_id(contact.id)
    Account.update(owner=org.users["rep1"]).where(Account.id == first.id).execute()
    stale.name = "张三丰"
    stale.save()  # writes every column back, stale mirrors included: corrected
    assert _mirrors(contact.id) == _account_columns(first.id)
    Contact.update(account=second).where(Contact.id == contact.id).execute()  # moved
    assert _mirrors(contact.id) == _account_columns(second.id)
    p = database.param
    database.execute_sql(f'UPDATE "contacts_contact" SET "account_owner_id" = {p} '
                         f'WHERE "id" = {p}', (org.id("fin"), contact.id))  # a forged copy
    assert _mirrors(contact.id) == _account_columns(second.id)
    Contact.insert(account=second, name="李四", account_owner_id=org.id("fin")).execute()
    (other,) = Contact.select().where(Contact.name == "李四")
    assert _mirrors(other.id) == _account_columns(second.id)


def test_mirrors_are_never_readable_or_writable(org):
    from security.fields import permitted_fields

    for login in ("admin", "rep1", "mgr"):
        ctx = org.ctx(login, "IA")
        readable = permitted_fields(ctx, Contact, "read").readable
        assert not set(MIRRORS) & set(readable)
        assert all(permitted_fields(ctx, Contact, "write").level(n) == "hidden" for n in MIRRORS)


def _ids(query) -> set[int]:
    return {row.id for row in query}


@pytest.mark.parametrize("login", ["rep1", "rep2", "mgr", "fin", "md_rep", "admin"])
def test_scope_through_mirrors_equals_the_parent_subquery(org, login, monkeypatch):
    for n, owner in enumerate(["rep1", "rep2", "mgr", "fin", "rep1"]):
        Contact.create(account=_account(org, owner, f"IA{n}"), name=f"ia{n}")
    Contact.create(account=_account(org, "md_rep", "MD0", "MD"), name="md0")
    shared = _account(org, "rep2", "共享")
    Contact.create(account=shared, name="shared")
    with atomic():
        share(org.ctx("rep2", "IA"), Account, shared.id, user=org.users["rep1"])
    home = {"admin": ("IA", "MD"), "md_rep": ("MD",)}.get(login, ("IA",))
    for division in (*home, None):
        ctx = org.ctx(login, division)
        mirrored = _ids(scoped_select(ctx, Contact, "list"))
        update = _ids(Contact.select(Contact.id).where(scopes.scope(ctx, Contact, "write")))
        monkeypatch.setattr(scopes, "_mirrored", lambda model, parent: False)
        plain_ctx = org.ctx(login, division)
        assert mirrored == _ids(scoped_select(plain_ctx, Contact, "list")), division
        assert update == _ids(Contact.select(Contact.id).where(
            scopes.scope(plain_ctx, Contact, "write"))), division
        monkeypatch.undo()
    if login == "rep1":
        names = {c.name for c in scoped_select(org.ctx("rep1", "IA"), Contact, "list")}
        assert names == {"ia0", "ia4", "shared"}


def _drop(*statements: str) -> None:
    """Run each DROP that the current backend understands (the others are the other
    backend's spelling and fail harmlessly)."""
    for statement in statements:
        try:
            with atomic():
                database.execute_sql(statement)
        except Exception:
            pass


def test_backfill_fills_rows_written_before_the_triggers(org):
    account = _account(org, "rep1", "旧")
    _drop('DROP TRIGGER IF EXISTS "contacts_contact_mirror_ins"',
          'DROP TRIGGER IF EXISTS "contacts_contact_mirror_pull" ON "contacts_contact"')
    Contact.create(account=account, name="旧联系人")
    (old,) = Contact.select().where(Contact.name == "旧联系人")
    assert _mirrors(old.id) == (None, None, None)
    assert mirrors.backfill(Contact) >= 1
    assert _mirrors(old.id) == _account_columns(account.id)
    mirrors.install_triggers(Contact)
    Contact.create(account=account, name="新联系人")
    (new,) = Contact.select().where(Contact.name == "新联系人")
    assert _mirrors(new.id) == _account_columns(account.id)


def test_upgrade_from_1_0_0_adds_fills_and_guards_the_mirrors(org, install):
    """An install made before the mirrors (contacts 1.0.0: no columns, index or triggers)
    upgrades to the same schema as a fresh one, with every existing contact filled."""
    from playhouse.migrate import SchemaMigrator, migrate

    from core.migrate import migrate_all
    from core.models import InstalledModule

    account = _account(org, "rep1", "老客户")
    old = Contact.create(account=account, name="老联系人")
    table = Contact._meta.table_name
    fresh_indexes = {i.name for i in database.get_indexes(table)}
    _drop('DROP TRIGGER IF EXISTS "contacts_contact_mirror_ins"',
          'DROP TRIGGER IF EXISTS "contacts_contact_mirror_upd"',
          'DROP TRIGGER IF EXISTS "contacts_contact_mirror_push"',
          'DROP TRIGGER IF EXISTS "contacts_contact_mirror_pull" ON "contacts_contact"',
          'DROP TRIGGER IF EXISTS "contacts_contact_mirror_push" ON "contacts_account"',
          'DROP INDEX IF EXISTS "contacts_contact_account_division_id_account_owner_id"')
    migrator = SchemaMigrator.from_database(database.obj)
    with atomic():
        migrate(*[migrator.drop_column(table, name) for name in MIRRORS])
    assert not set(MIRRORS) & {c.name for c in database.get_columns(table)}
    InstalledModule.update(version="1.0.0").where(InstalledModule.name == "contacts").execute()
    assert dict(migrate_all(install.registry))["contacts"] == "upgraded 1.0.0 -> 1.3.0"
    assert {i.name for i in database.get_indexes(table)} == fresh_indexes
    assert _mirrors(old.id) == _account_columns(account.id)
    Account.update(owner=org.users["rep2"]).where(Account.id == account.id).execute()
    assert _mirrors(old.id)[0] == org.id("rep2")  # the triggers are back
