"""Fixtures for the lead automation tests (scoring, assignment, SLA, pool, SOP, nurture): a real
install (base, contacts, opportunities, leads), an org in two divisions with a manager chain,
real roles from the seeded access.csv files, a controllable clock shared by service contexts
and a live server, and signed-in HTTP clients.

IA (工业自动化): director (sales_manager) ← mgr (sales_manager) ← rep1, rep2, rep3 (sales_rep);
fin (finance). MD (医疗器械): md_mgr (sales_manager) ← md_rep (sales_rep).

Test modules import what they use: `from modules.leads.tests.automation_org import *`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core.db import utcnow
from modules.base import services
from modules.base.models import Division, User
from modules.leads.models import Lead
from security.context import Context
from tests.conftest import _clean_env, database_url  # noqa: F401
from tests.support import HttpClient, LiveServer, login, make_install

PASSWORD = "Leads-auto-2026"
MODULES = ["base", "contacts", "opportunities", "leads"]
# login, name, division, department, manager, role
PEOPLE = [
    ("director", "陈总监", "IA", "IA-S", None, "sales_manager"),
    ("mgr", "王经理", "IA", "IA-S1", "director", "sales_manager"),
    ("rep1", "李娜", "IA", "IA-S1", "mgr", "sales_rep"),
    ("rep2", "刘洋", "IA", "IA-S1", "mgr", "sales_rep"),
    ("rep3", "张伟", "IA", "IA-S1", "mgr", "sales_rep"),
    ("fin", "胡斌", "IA", "IA-FIN", None, "finance"),
    ("md_mgr", "赵经理", "MD", "MD-S1", None, "sales_manager"),
    ("md_rep", "高峰", "MD", "MD-S1", "md_mgr", "sales_rep"),
]


class Clock:
    """A clock tests move by hand (`ctx.clock` and the server's `huike_clock`)."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or utcnow().replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment


@dataclass
class Org:
    registry: object
    clock: Clock
    divisions: dict[str, Division]
    departments: dict = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    admin: User | None = None

    def ctx(self, login_: str | None = None, division: str | None = None) -> Context:
        """A service context as that user (None: the system, as jobs run)."""
        if login_ is None:
            return Context(registry=self.registry, user=None, via="job", clock=self.clock)
        user = User.get(User.login == login_)
        return Context(registry=self.registry, user=user, via="api", clock=self.clock,
                       division_id=self.divisions[division].id if division else None)

    def id(self, login_: str) -> int:
        return self.users[login_].id

    def lead(self, division: str = "IA", **values) -> Lead:
        """A lead inserted directly (as capture would), created at the clock's time."""
        now = self.clock()
        data = {"name": "客户", "source": "website", "status": "new", "created_at": now,
                "updated_at": now, "status_changed_at": now, **values}
        return Lead.create(division=self.divisions[division].id, **data)

    def reload(self, lead) -> Lead:
        return Lead.get_by_id(lead if isinstance(lead, int) else lead.id)


@pytest.fixture
def install(tmp_path, database_url):  # noqa: F811
    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"enabled": MODULES},
                                    # tests move the clock by days: sessions must outlive it
                                    "security": {"session_idle_minutes": 200_000,
                                                 "session_absolute_hours": 4000}}) as inst:
        yield inst


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def org(install, clock) -> Org:
    divisions = {"IA": services.create_division("IA", "工业自动化事业部"),
                 "MD": services.create_division("MD", "医疗器械事业部")}
    built = Org(registry=install.registry, clock=clock, divisions=divisions, admin=install.admin)
    for code in ("IA-S", "IA-S1", "IA-FIN", "MD-S1"):
        built.departments[code] = services.create_department(divisions[code[:2]], code, code)
    for login_, name, div, dept, manager, role in PEOPLE:
        user = services.create_user(login_, name, PASSWORD, department=built.departments[dept],
                                    manager=built.users.get(manager))
        services.assign_role(user, role, divisions[div])
        built.users[login_] = user
    # sessions must start after the users' passwords were set (real time): start the clock now
    clock.set(utcnow() + dt.timedelta(seconds=1))
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
            if login_ == "admin":
                from tests.support import ADMIN_PASSWORD
                login(client, "admin", ADMIN_PASSWORD)
            else:
                login(client, login_, PASSWORD)
            made[login_] = client
        return made[login_]

    return get


def rule(org: Org, division: str = "IA", **values):
    """An assignment rule (round robin over rep1..rep3 unless told otherwise)."""
    from modules.leads.automation_models import AssignmentRule

    data = {"name": "默认", "sequence": 10, "strategy": "round_robin",
            "team_users": [org.id("rep1"), org.id("rep2"), org.id("rep3")], **values}
    return AssignmentRule.create(division=org.divisions[division].id, **data)


class count_queries:
    """Count the SQL statements executed inside the block (`with count_queries() as sql:`)."""

    def __enter__(self) -> list[str]:
        from core.db import database

        self.db = database.obj
        self.statements: list[str] = []
        original = self.db.execute_sql

        def execute_sql(sql, *args, **kwargs):
            self.statements.append(sql)
            return original(sql, *args, **kwargs)

        self.db.execute_sql = execute_sql
        return self.statements

    def __exit__(self, *exc) -> None:
        del self.db.execute_sql
