"""The peewee adapter round-trips Casbin policies; `access.csv` seeds once per line."""
from __future__ import annotations

import pytest

from core.config import load_settings
from core.migrate import migrate_all
from core.models import ExternalId
from core.registry import Registry
from core.seed import SeedError
from modules.base.models import UserRole
from security.policy import watch
from security.policy.adapter import PeeweeAdapter, grouping_lines, subject_for
from security.policy.engine import new_enforcer
from security.policy.models import CasbinRule
from security.policy.seed import load_access_csv, read_access_csv
from tests.test_policy_kit import org  # noqa: F401


def stored_p_lines() -> set[tuple]:
    return {tuple(rule.values()) for rule in CasbinRule.select().where(CasbinRule.ptype == "p")}


def test_load_policy_reads_rules_and_synthesises_assignments(org):
    enforcer = new_enforcer()
    assert ["admin", "*", "*", "*"] in enforcer.get_policy()
    assert sorted(map(tuple, enforcer.get_policy())) == sorted(stored_p_lines())
    groups = {tuple(g) for g in enforcer.get_grouping_policy()}
    rep = subject_for(org.users["rep_ia"].id)
    assert (rep, "sales_rep", "IA") in groups
    assert (subject_for(org.users["auditor"].id), "auditor", "*") in groups
    assert (subject_for(org.admin.id), "admin", "*") in groups  # is_admin, no UserRole row
    assert enforcer.enforce(rep, "IA", "model/base_user", "read")
    assert not enforcer.enforce(rep, "MD", "model/base_user", "read")


def test_add_remove_and_filtered_remove_write_through(org):
    adapter = PeeweeAdapter()
    line = ["dealer", "IA", "model/base_tag", "read"]
    assert adapter.add_policy("p", "p", line)
    assert not adapter.add_policy("p", "p", line)  # no duplicates
    assert tuple(line) in stored_p_lines()
    assert line in new_enforcer().get_policy()
    assert adapter.remove_policy("p", "p", line)
    assert not adapter.remove_policy("p", "p", line)
    assert tuple(line) not in stored_p_lines()
    adapter.add_policies("p", "p", [["dealer", "MD", "model/base_tag", "read"],
                                    ["dealer", "MD", "model/base_region", "write"],
                                    ["dealer", "IA", "model/base_region", "write"]])
    assert adapter.remove_filtered_policy("p", "p", 0, "dealer", "MD")
    assert {l for l in stored_p_lines() if l[0] == "dealer" and l[1] != "*"} == {
        ("dealer", "IA", "model/base_region", "write")}
    assert adapter.remove_filtered_policy("p", "p", 2, "model/base_region")
    assert not [l for l in stored_p_lines() if l[2] == "model/base_region"]


def test_grouping_policy_writes_user_roles(org):
    adapter = PeeweeAdapter()
    nobody = org.users["nobody"]
    subject = subject_for(nobody.id)
    assert adapter.add_policy("g", "g", [subject, "finance", "MD"])
    assert not adapter.add_policy("g", "g", [subject, "finance", "MD"])
    assert (subject, "finance", "MD") in grouping_lines()
    assert UserRole.select().where(UserRole.user == nobody).count() == 1
    assert adapter.remove_filtered_policy("g", "g", 0, subject)
    assert UserRole.select().where(UserRole.user == nobody).count() == 0
    with pytest.raises(ValueError):
        adapter.add_policy("g", "g", ["sales_rep", "finance", "*"])  # roles of roles: no


def test_save_policy_replaces_the_stored_policy(org):
    enforcer = new_enforcer()
    enforcer.auto_save = False  # change the model in memory only, then save it at once
    enforcer.remove_filtered_policy(0, "auditor")
    enforcer.add_policy("auditor", "*", "model/base_tag", "read")
    enforcer.remove_grouping_policy(subject_for(org.users["rep_md"].id), "sales_rep", "MD")
    enforcer.add_grouping_policy(subject_for(org.users["nobody"].id), "dealer", "IA")
    enforcer.save_policy()
    stored = stored_p_lines()
    assert {l for l in stored if l[0] == "auditor"} == {("auditor", "*", "model/base_tag", "read")}
    assert ("admin", "*", "*", "*") in stored
    lines = grouping_lines()
    assert (subject_for(org.users["rep_md"].id), "sales_rep", "MD") not in lines
    assert (subject_for(org.users["nobody"].id), "dealer", "IA") in lines
    reloaded = new_enforcer()
    assert sorted(map(tuple, reloaded.get_policy())) == sorted(stored)


def test_access_csv_is_seeded_at_install_once_per_line(install):
    base = install.registry.manifest("base")
    stored = stored_p_lines()
    assert ("admin", "*", "*", "*") in stored
    assert ("auditor", "*", "model/security_audit", "read") in stored
    seeded = ExternalId.select().where(ExternalId.module == "base",
                                       ExternalId.model == "security_casbin_rule").count()
    base_lines = read_access_csv(base.path / "security/access.csv", "base")
    assert seeded == len(base_lines) and set(base_lines) <= stored
    version = watch.read_version()
    assert load_access_csv(install.registry, base, base.path / "security/access.csv") == 0
    assert stored_p_lines() == stored and watch.read_version() == version
    # an admin removes a seeded line: a later load (module upgrade) leaves it removed
    PeeweeAdapter().remove_policy("p", "p", ["auditor", "*", "model/security_audit", "export"])
    migrate_all(Registry.build(load_settings(install.data_dir, environ={})))
    assert load_access_csv(install.registry, base, base.path / "security/access.csv") == 0
    assert ("auditor", "*", "model/security_audit", "export") not in stored_p_lines()


@pytest.mark.parametrize("text, message", [
    ("role,dom,obj,act\np,a,*,model/x,read\n", "must start with the header"),
    ("ptype,v0,v1,v2,v3\ng,user:1,admin,*\n", "line 2: expected p,"),
    ("ptype,v0,v1,v2,v3\np,a,*,model/x,fly\n", "line 2: unknown model act 'fly'"),
    ("ptype,v0,v1,v2,v3\np,a,*,field/x/y,read\np,a,*,field/x/y,visible\n",
     "line 3: unknown field level 'visible'"),
    ("ptype,v0,v1,v2,v3\np,a,*,scope/x,read:team\n", "bad scope 'read:team'"),
    ("ptype,v0,v1,v2,v3\np,a,*,lead,read\n", "unknown resource 'lead'"),
    ("ptype,v0,v1,v2,v3\np,,*,model/x,read\n", "empty value"),
])
def test_access_csv_errors_name_the_line(install, tmp_path, text, message):
    path = tmp_path / "access.csv"
    path.write_text(text, encoding="utf-8")
    before = stored_p_lines()
    with pytest.raises(SeedError, match=message):
        load_access_csv(install.registry, install.registry.manifest("base"), path)
    assert stored_p_lines() == before
