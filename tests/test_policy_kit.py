"""Shared setup of the policy tests (no tests here): a small org in two divisions, contexts,
rule helpers and a throwaway module with an owner-scoped model that ships `access.csv`."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from core.db import atomic
from modules.base import services
from security.context import Context
from security.policy.adapter import PeeweeAdapter
from security.policy.watch import bump_version
from tests.modkit import write_module
from tests.support import make_install

PASSWORD = "Policy-test-2026"


@dataclass
class Org:
    registry: object
    admin: object
    divisions: dict = field(default_factory=dict)
    depts: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)

    def ctx(self, login: str, division: str | None = None) -> Context:
        """A fresh request context for `login` (optionally with header X-Division)."""
        return Context(registry=self.registry, user=self.users[login],
                       division_id=self.divisions[division].id if division else None)

    def user(self, login: str, dept: str | None = None, roles=(), **kwargs):
        """Create a user in department `dept` holding `roles` = [(role, division code|None)]."""
        user = services.create_user(login, login, PASSWORD, department=self.depts.get(dept),
                                    **kwargs)
        for role, division in roles:
            services.assign_role(user, role, self.divisions[division] if division else None)
        self.users[login] = user
        return user


def build_org(install) -> Org:
    """Divisions IA and MD with one department each; users:
    rep_ia (sales_rep in IA), rep_md (sales_rep in MD), auditor (auditor in *),
    multi (department in IA; sales_rep in IA, finance in MD), nobody (no roles)."""
    org = Org(registry=install.registry, admin=install.admin)
    org.users["admin"] = install.admin
    for code, name in (("IA", "工业自动化"), ("MD", "医疗设备")):
        org.divisions[code] = services.create_division(code, name)
        org.depts[code] = services.create_department(org.divisions[code], f"{code}-S", "销售部")
    org.user("rep_ia", "IA", [("sales_rep", "IA")])
    org.user("rep_md", "MD", [("sales_rep", "MD")])
    org.user("auditor", None, [("auditor", None)])
    org.user("multi", "IA", [("sales_rep", "IA"), ("finance", "MD")])
    org.user("nobody", "IA", [])
    return org


@pytest.fixture
def org(install) -> Org:
    return build_org(install)


def add_lines(*lines: str) -> None:
    """Add policy lines written as `role, domain, resource, act` and bump the version."""
    adapter = PeeweeAdapter()
    with atomic():
        for line in lines:
            adapter.add_policy("p", "p", [part.strip() for part in line.split(",")])
        bump_version()


def remove_lines(*lines: str) -> None:
    adapter = PeeweeAdapter()
    with atomic():
        for line in lines:
            adapter.remove_policy("p", "p", [part.strip() for part in line.split(",")])
        bump_version()


NOTE_MODULE = '''
import peewee as pw
from core.db import BaseModel
from core.hooks import hookimpl
from modules.base.models import Division, User


class Note(BaseModel):
    """An owner-scoped business record for the policy tests."""
    __scope__ = {{"owner": "owner", "division": "division"}}
    title = pw.CharField()
    phone = pw.CharField(default="")
    owner = pw.ForeignKeyField(User, null=True)
    division = pw.ForeignKeyField(Division, null=True)

    class Meta:
        table_name = "{name}_note"


@hookimpl
def register_models():
    return [Note]


@hookimpl
def register_actions():
    return [{{"name": "{name}.archive", "label": "归档"}}]
'''

NOTE_ACCESS = """ptype,v0,v1,v2,v3
p,sales_rep,*,model/{name}_note,read
p,sales_rep,*,model/{name}_note,write
p,sales_rep,*,field/{name}_note/phone,masked
p,sales_rep,*,scope/{name}_note,read:own
p,sales_manager,*,model/{name}_note,read
p,sales_manager,*,scope/{name}_note,read:division
"""


@dataclass
class NoteInstall:
    install: object
    name: str
    note_model: object

    @property
    def model_name(self) -> str:
        return f"{self.name}_note"


def note_module_install(tmp_path, database_url):
    """An install with an extra module `pt<hex>` holding the `Note` model and its
    `security/access.csv` (listed first in its `[load] data`)."""
    name = f"pt{uuid.uuid4().hex[:8]}"
    root = tmp_path / "extra"
    write_module(root, name, "1.0.0", ["base"], init_py=NOTE_MODULE.format(name=name),
                 extra_toml='[load]\ndata = ["security/access.csv"]\n',
                 files={"security/access.csv": NOTE_ACCESS.format(name=name)})
    return name, make_install(tmp_path / "data", database_url,
                              extra_config={"modules": {"paths": [str(root)]}})
