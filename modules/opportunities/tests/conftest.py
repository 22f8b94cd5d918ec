"""Fixtures for the opportunities tests: a real install (base + contacts + opportunities) with
an org in two divisions, real roles from the seeded access.csv files, accounts and contacts,
service contexts per user on a controllable clock, and signed-in HTTP clients.

IA (工业自动化): mgr (sales_manager) ← rep1, rep2 (sales_rep, IA-S1); rep3 (sales_rep, IA-S2,
another team); pre (presales: the division's deals, no money). MD (医疗器械): md_rep.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core.db import utcnow
from modules.base import services
from modules.base.models import Department, Division, User
from modules.contacts.models import Account, Contact
from security.context import Context
from tests.conftest import _clean_env, database_url  # noqa: F401
from tests.support import HttpClient, LiveServer, login, make_install

PASSWORD = "Pipeline-test-2026"
# login, name, department, manager, role
PEOPLE = [
    ("mgr", "王经理", "IA-S1", None, "sales_manager"),
    ("rep1", "李娜", "IA-S1", "mgr", "sales_rep"),
    ("rep2", "刘洋", "IA-S1", "mgr", "sales_rep"),
    ("rep3", "赵敏", "IA-S2", None, "sales_rep"),
    ("pre", "孙工", "IA-S1", None, "presales"),
    ("md_rep", "高峰", "MD-S1", None, "sales_rep"),
]
MODULES = ["base", "contacts", "opportunities"]  # only what these tests need


class Clock:
    """A settable clock for `ctx.clock` and the server's `huike_clock`: it stands still
    unless a test advances it. `org` starts it just after the users are created (a session
    must not predate its user's password timestamp, and the server checks TOTP codes
    against this clock, so it stays close to real time until a test moves it)."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or utcnow()

    def start(self) -> None:
        self.now = utcnow().replace(microsecond=0) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def install(tmp_path, database_url):
    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"enabled": MODULES}}) as inst:
        yield inst


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Org:
    registry: object
    clock: Clock
    divisions: dict[str, Division]
    departments: dict[str, Department]
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)

    def ctx(self, login_: str, division: str | None = None) -> Context:
        user = User.get(User.login == login_)
        return Context(registry=self.registry, user=user, via="api", clock=self.clock,
                       division_id=self.divisions[division].id if division else None)

    def system(self) -> Context:
        return Context(registry=self.registry, user=None, via="system", clock=self.clock)

    def id(self, login_: str) -> int:
        return self.users[login_].id


_HASH: list[str] = []


def new_user(login_: str, name: str, department: Department, manager: User | None = None):
    """A user signing in with PASSWORD (hashed once per process: argon2 is slow on purpose)."""
    from security.passwords import hash_password

    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    user = services.create_user(login_, name, None, department=department, manager=manager)
    User.update(password_hash=_HASH[0]).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def make_account(org: Org, key: str, owner: str, division: str = "IA") -> Account:
    account = Account.create(name=f"{key} 有限公司", name_key=key.lower(),
                             division=org.divisions[division], owner=org.users[owner])
    org.accounts[key] = account
    return account


def make_contact(account: Account, name: str, role: str | None) -> Contact:
    return Contact.create(account=account, name=name, decision_role=role)


@pytest.fixture
def org(install, clock) -> Org:
    divisions = {"IA": services.create_division("IA", "工业自动化事业部"),
                 "MD": services.create_division("MD", "医疗器械事业部")}
    departments = {code: services.create_department(divisions[code[:2]], code, code)
                   for code in ("IA-S1", "IA-S2", "MD-S1")}
    built = Org(registry=install.registry, clock=clock, divisions=divisions,
                departments=departments)
    for login_, name, dept, manager, role in PEOPLE:
        user = new_user(login_, name, departments[dept], built.users.get(manager))
        services.assign_role(user, role, divisions[dept[:2]])
        built.users[login_] = user
    clock.start()
    for key, owner, division in (("acme", "rep1", "IA"), ("bolt", "rep2", "IA"),
                                 ("crane", "rep3", "IA"), ("dyna", "mgr", "IA"),
                                 ("med", "md_rep", "MD")):
        make_account(built, key, owner, division)
    return built


@pytest.fixture
def server(install, clock):
    with LiveServer(install.registry, huike_clock=clock) as live:
        yield live


@pytest.fixture
def clients(server, org):
    """`clients(login)` → an HttpClient signed in as that user (cached per login)."""
    made: dict[str, HttpClient] = {}

    def get(login_: str) -> HttpClient:
        if login_ not in made:
            client = HttpClient(server.base_url)
            password = PASSWORD if login_ != "admin" else None
            if password is None:
                from tests.support import ADMIN_PASSWORD
                password = ADMIN_PASSWORD
            login(client, login_, password)
            made[login_] = client
        return made[login_]

    return get
