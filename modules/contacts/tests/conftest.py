"""Fixtures for the contacts tests: a real install with an org in two divisions and real roles
(seeded access.csv), service contexts per user and signed-in HTTP clients.

IA (工业自动化): mgr (sales_manager) ← rep1, rep2 (sales_rep); fin (finance); other_mgr
(sales_manager, not above the reps). MD (医疗器械): md_rep (sales_rep).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from modules.base import services
from modules.base.models import Division, User
from security.context import Context
from tests.conftest import _clean_env, database_url, http, server  # noqa: F401
from tests.support import HttpClient, login, make_install

PASSWORD = "Contacts-test-2026"
# login, name, division, department, manager, role
PEOPLE = [
    ("mgr", "王经理", "IA", "IA-S1", None, "sales_manager"),
    ("rep1", "李娜", "IA", "IA-S1", "mgr", "sales_rep"),
    ("rep2", "刘洋", "IA", "IA-S1", "mgr", "sales_rep"),
    ("other_mgr", "赵经理", "IA", "IA-S2", None, "sales_manager"),
    ("fin", "胡斌", "IA", "IA-FIN", None, "finance"),
    ("md_rep", "高峰", "MD", "MD-S1", None, "sales_rep"),
]


MODULES = ["base", "contacts"]  # only what these tests need: others may be mid-work


@pytest.fixture
def install(tmp_path, database_url):
    """A migrated install of base + contacts with an admin."""
    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"enabled": MODULES}}) as inst:
        yield inst


@dataclass
class Org:
    registry: object
    divisions: dict[str, Division]
    users: dict[str, User] = field(default_factory=dict)
    admin: User | None = None

    def ctx(self, login: str, division: str | None = None, clock=None) -> Context:
        user = User.get(User.login == login)  # fresh row: active flag etc.
        extra = {"clock": clock} if clock else {}
        return Context(registry=self.registry, user=user, via="api",
                       division_id=self.divisions[division].id if division else None, **extra)

    def id(self, login: str) -> int:
        return self.users[login].id


@pytest.fixture
def org(install) -> Org:
    divisions = {"IA": services.create_division("IA", "工业自动化事业部"),
                 "MD": services.create_division("MD", "医疗器械事业部")}
    departments = {}
    for code in ("IA-S1", "IA-S2", "IA-FIN", "MD-S1"):
        departments[code] = services.create_department(divisions[code[:2]], code, code)
    built = Org(registry=install.registry, divisions=divisions, admin=install.admin)
    for login_, name, div, dept, manager, role in PEOPLE:
        user = services.create_user(login_, name, PASSWORD, department=departments[dept],
                                    manager=built.users.get(manager))
        services.assign_role(user, role, divisions[div])
        built.users[login_] = user
    return built


@pytest.fixture
def clients(server, org):
    """`clients(login)` → an HttpClient signed in as that user (cached per login)."""
    made: dict[str, HttpClient] = {}

    def get(login_: str) -> HttpClient:
        if login_ not in made:
            client = HttpClient(server.base_url)
            login(client, login_, PASSWORD)
            made[login_] = client
        return made[login_]

    return get


# valid 统一社会信用代码 samples (check characters verified by credit_code.validate)
CODE_A = "91350100M000100Y43"
CODE_B = "91110000600037341L"
