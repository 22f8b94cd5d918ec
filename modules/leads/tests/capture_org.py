"""Fixtures for the lead capture tests (records, forms, import, dedupe, merge, convert): a real
install (base, contacts, opportunities, leads), an org in two divisions with real roles from
the seeded access.csv files, service contexts per user, signed-in HTTP clients, and helpers
that write import files (CSV in UTF-8 or GBK, XLSX).

IA (工业自动化): mgr (sales_manager) ← rep1, rep2 (sales_rep, IA-S1); other_mgr
(sales_manager, IA-S2) ← rep3; mkt (marketing). MD (医疗器械): md_rep (sales_rep).

Test modules import what they use: `from modules.leads.tests.capture_org import *`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modules.base import services
from modules.base.models import Division, User
from security.context import Context
from tests.conftest import _clean_env, database_url  # noqa: F401
from tests.support import ADMIN_PASSWORD, HttpClient, LiveServer, login, make_install

__all__ = ["PASSWORD", "MODULES", "HEADERS_ZH", "HEADERS_EN", "Org", "extra_config", "install",
           "org", "server", "clients", "anonymous", "csv_bytes", "xlsx_bytes", "write", "row",
           "_clean_env", "database_url"]

PASSWORD = "Leads-capture-2026"
MODULES = ["base", "contacts", "opportunities", "leads"]
# login, name, division, department, manager, role
PEOPLE = [
    ("mgr", "王经理", "IA", "IA-S1", None, "sales_manager"),
    ("rep1", "李娜", "IA", "IA-S1", "mgr", "sales_rep"),
    ("rep2", "刘洋", "IA", "IA-S1", "mgr", "sales_rep"),
    ("other_mgr", "赵经理", "IA", "IA-S2", None, "sales_manager"),
    ("rep3", "孙丽", "IA", "IA-S2", "other_mgr", "sales_rep"),
    ("mkt", "周敏", "IA", "IA-MKT", None, "marketing"),
    ("md_rep", "高峰", "MD", "MD-S1", None, "sales_rep"),
]
HEADERS_ZH = ["姓名", "公司名称", "职位", "手机号", "邮箱", "微信", "来源", "活动", "区域", "行业",
              "预算", "需求"]
HEADERS_EN = ["Name", "Company", "Title", "Mobile", "Email", "WeChat", "Source", "Campaign",
              "Region", "Industry", "Budget", "Need"]


@dataclass
class Org:
    registry: object
    divisions: dict[str, Division]
    data_dir: Path
    users: dict[str, User] = field(default_factory=dict)
    admin: User | None = None

    def ctx(self, login_: str | None = None, division: str | None = None) -> Context:
        """A service context as that user (None: the system, as the CLI and jobs act)."""
        if login_ is None:
            return Context(registry=self.registry, user=None, via="import")
        user = User.get(User.login == login_)
        return Context(registry=self.registry, user=user, via="api",
                       division_id=self.divisions[division].id if division else None)

    def id(self, login_: str) -> int:
        return self.users[login_].id


def extra_config(max_bytes: int = 52_428_800) -> dict:
    return {"modules": {"enabled": MODULES},
            "leads": {"import_max_bytes": max_bytes, "import_batch_rows": 50,
                      "import_commit_rows": 100}}  # SQLite: batches commit in groups


@pytest.fixture
def install(tmp_path, database_url):  # noqa: F811
    with make_install(tmp_path / "data", database_url, extra_config=extra_config()) as inst:
        yield inst


@pytest.fixture
def org(install) -> Org:
    divisions = {"IA": services.create_division("IA", "工业自动化事业部"),
                 "MD": services.create_division("MD", "医疗器械事业部")}
    departments = {code: services.create_department(divisions[code[:2]], code, code)
                   for code in ("IA-S1", "IA-S2", "IA-MKT", "MD-S1")}
    built = Org(registry=install.registry, divisions=divisions, data_dir=install.data_dir,
                admin=install.admin)
    for login_, name, div, dept, manager, role in PEOPLE:
        user = services.create_user(login_, name, PASSWORD, department=departments[dept],
                                    manager=built.users.get(manager))
        services.assign_role(user, role, divisions[div])
        built.users[login_] = user
    return built


@pytest.fixture
def server(install):
    with LiveServer(install.registry) as live:
        yield live


@pytest.fixture
def clients(server, org):
    """`clients(login)` → an HttpClient signed in as that user (cached per login)."""
    made: dict[str, HttpClient] = {}

    def get(login_: str) -> HttpClient:
        if login_ not in made:
            client = HttpClient(server.base_url)
            login(client, login_, ADMIN_PASSWORD if login_ == "admin" else PASSWORD)
            made[login_] = client
        return made[login_]

    return get


@pytest.fixture
def anonymous(server) -> HttpClient:
    return HttpClient(server.base_url)


# ------------------------------------------------------------------ files
def csv_bytes(rows: list[list], headers: list[str] = HEADERS_ZH, encoding: str = "utf-8") -> bytes:
    """A CSV file as Excel writes it: GBK without BOM, or UTF-8 (with BOM for `utf-8-sig`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], headers: list[str] = HEADERS_ZH) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def row(name: str, mobile: str = "", email: str = "", company: str = "", source: str = "官网",
        region: str = "华东", budget: str = "", **extra) -> list:
    """A data row in HEADERS_ZH order."""
    return [name, company, extra.get("title", ""), mobile, email, extra.get("wechat", ""),
            source, extra.get("campaign", ""), region, extra.get("industry", ""), budget,
            extra.get("need", "")]
