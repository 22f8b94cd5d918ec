"""Shared ground for the field-rule and row-scope tests: business-like test models and an
org (two divisions, a department tree, a manager chain, regions) built with the real
services on a real install. The tests in this file check that ground itself."""
from __future__ import annotations

import contextlib
import decimal
from dataclasses import dataclass, field

import peewee as pw
import pytest

from core.db import BaseModel, TimestampedModel, atomic, database
from modules.base import services
from modules.base.models import Department, Division, Region, Role, User
from security.context import Context


class T_Account(BaseModel):
    __scope__ = {"owner": "owner", "division": "division", "region": "region"}
    __masks__ = {"phone": "phone", "email": "email", "id_number": "id_number"}

    owner = pw.ForeignKeyField(User, null=True, backref="+")
    division = pw.ForeignKeyField(Division, backref="+")
    region = pw.ForeignKeyField(Region, null=True, backref="+")
    name = pw.CharField(max_length=100)
    phone = pw.CharField(max_length=32, null=True)
    email = pw.CharField(max_length=200, null=True)
    id_number = pw.CharField(max_length=32, null=True)
    amount = pw.DecimalField(max_digits=14, decimal_places=2, default=0)
    signed_at = pw.DateTimeField(null=True)
    note = pw.TextField(null=True)

    class Meta:
        table_name = "t_account"
        indexes = ((("division", "owner"), False),)  # the own/subordinates scope's index


class T_Contact(BaseModel):
    """Follows its account; a contact without account follows its own owner/division."""

    __scope_parent__ = "account"
    __scope__ = {"owner": "owner", "division": "division"}
    __masks__ = {"phone": "phone"}

    account = pw.ForeignKeyField(T_Account, null=True, backref="contacts", on_delete="CASCADE")
    owner = pw.ForeignKeyField(User, null=True, backref="+")
    division = pw.ForeignKeyField(Division, null=True, backref="+")
    name = pw.CharField(max_length=100)
    phone = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "t_contact"


class T_Activity(TimestampedModel):
    """Follows its contact (and so, two levels up, the account); timestamps are the
    system's (read-only by default)."""

    __security_name__ = "t_activity"
    __scope_parent__ = "contact"

    contact = pw.ForeignKeyField(T_Contact, backref="activities", on_delete="CASCADE")
    subject = pw.CharField(max_length=100)

    class Meta:
        table_name = "t_activity_log"


TEST_MODELS = [T_Account, T_Contact, T_Activity]


@dataclass
class Org:
    """Divisions IA and MD; in IA the tree sales ⊃ east ⊃ east1, sales ⊃ north; in MD
    md_sales. Manager chain: boss ← mgr ← rep1, rep2; boss ← rep3; md_rep alone in MD."""

    registry: object
    ia: Division
    md: Division
    depts: dict[str, Department]
    users: dict[str, User]
    regions: dict[str, Region]
    accounts: dict[str, T_Account] = field(default_factory=dict)

    def ctx(self, login: str, division: Division | None = None) -> Context:
        user = User.get(User.login == login)  # fresh row: a new request
        return Context(registry=self.registry, user=user,
                       division_id=division.id if division else None)

    def add_account(self, key: str, owner: str | None, division: Division,
                    region: str | None = None, **values) -> T_Account:
        account = T_Account.create(
            owner=self.users[owner] if owner else None, division=division,
            region=self.regions[region] if region else None, name=key,
            phone=values.pop("phone", "13812345678"),
            email=values.pop("email", "zhang@example.com"),
            id_number=values.pop("id_number", "310101199001011234"),
            amount=values.pop("amount", decimal.Decimal("1234.5")), **values)
        self.accounts[key] = account
        return account


def build_org(registry) -> Org:
    database.create_tables(TEST_MODELS)
    ia = services.create_division("IA", "工业自动化")
    md = services.create_division("MD", "医疗器械")
    sales = services.create_department(ia, "sales", "销售部")
    east = services.create_department(ia, "east", "华东销售", parent=sales)
    east1 = services.create_department(ia, "east1", "华东一组", parent=east)
    north = services.create_department(ia, "north", "华北销售", parent=sales)
    md_sales = services.create_department(md, "md_sales", "医疗销售")
    regions = {r.code: r for r in Region.select()}
    users = {}

    def user(login, dept, manager=None, region_codes=()):
        users[login] = services.create_user(
            login, login, None, department=dept, manager=users.get(manager),
            regions=[regions[c] for c in region_codes])

    user("boss", sales)
    user("mgr", east, "boss", ("east",))
    user("rep1", east1, "mgr", ("east",))
    user("rep2", east1, "mgr")
    user("rep3", north, "boss", ("north",))
    user("md_rep", md_sales)
    user("loner", None)
    depts = {"sales": sales, "east": east, "east1": east1, "north": north, "md_sales": md_sales}
    return Org(registry, ia, md, depts, users, regions)


def standard_accounts(org: Org) -> None:
    """One account per owner in IA (regions vary), two in MD."""
    org.add_account("a_boss", "boss", org.ia, "north")
    org.add_account("a_mgr", "mgr", org.ia, "east")
    org.add_account("a_rep1", "rep1", org.ia, "east")
    org.add_account("a_rep2", "rep2", org.ia, "south")
    org.add_account("a_rep3", "rep3", org.ia, "north")
    org.add_account("a_none", None, org.ia, "east")
    org.add_account("m_rep", "md_rep", org.md, "east")
    org.add_account("m_rep1", "rep1", org.md, "east")


def define_role(code: str, lines, domain: str = "*") -> Role:
    """A catalogue role with policy lines `[(resource, act), ...]` in `domain`."""
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    role = Role.get_or_none(Role.code == code) or Role.create(code=code, name=code)
    with atomic():
        adapter = PeeweeAdapter()
        for obj, act in lines:
            adapter.add_policy("p", "p", [code, domain, obj, act])
        bump_version()
    return role


def scope_lines(model: str, read: str | None = "own", write: str | None = None,
                acts=("read",)) -> list[tuple[str, str]]:
    """Model rights plus scope lines for `model`."""
    lines = [(f"model/{model}", act) for act in acts]
    if read:
        lines.append((f"scope/{model}", f"read:{read}"))
    if write:
        lines.append((f"model/{model}", "write"))
        lines.append((f"scope/{model}", f"write:{write}"))
    return lines


def assign(org: "Org", login: str, role: str, division: Division | None = None) -> None:
    services.assign_role(org.users[login], role, division)


@contextlib.contextmanager
def count_queries():
    """Count the SQL statements the database executes inside the block."""
    db = database.obj
    statements: list[str] = []
    original = db.execute_sql

    def execute_sql(sql, *args, **kwargs):
        statements.append(sql)
        return original(sql, *args, **kwargs)

    db.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del db.execute_sql


@pytest.fixture
def install(tmp_path, database_url):
    """Only the `base` module (and so the security door): these tests bring their own
    business models and must not depend on other modules' state."""
    from tests.support import make_install

    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"enabled": ["base"]}}) as inst:
        yield inst


@pytest.fixture
def org(install):
    built = build_org(install.registry)
    standard_accounts(built)
    return built


# --------------------------------------------------------------------- the ground itself
def test_org_tree_and_chain(org):
    assert org.depts["east1"].path.startswith(org.depts["east"].path)
    assert org.depts["east"].path.startswith(org.depts["sales"].path)
    assert set(services.subordinates_ids(org.users["boss"])) == {
        org.users[n].id for n in ("mgr", "rep1", "rep2", "rep3")}
    assert T_Account.select().count() == 8
