"""`huike demo` for the base module: realistic org, manager chains, regions, roles, one
documented password — and loading it twice creates nothing new."""
from __future__ import annotations

from click.testing import CliRunner

from core.cli import build_cli
from core.demo import load_demo as load_all_demo
from modules.base import demo, services
from modules.base.models import (
    Department, Division, Role, Tag, User, UserRegion, UserRole,
)
from security.passwords import verify_password
from tests.support import ADMIN_PASSWORD


def counts() -> dict[str, int]:
    return {model.__name__: model.select().count()
            for model in (Division, Department, User, UserRegion, UserRole, Tag)}


def test_demo_loads_a_realistic_org_and_is_idempotent(install):
    lines = load_all_demo(install.registry)
    assert any(line.startswith("base: ") and demo.DEMO_PASSWORD in line for line in lines)
    first = counts()
    assert first["Division"] == 2 and first["Department"] == len(demo.DEPARTMENTS)
    assert first["User"] == len(demo.USERS) + 1  # plus the install's admin
    assert len(demo.USERS) >= 30

    load_all_demo(install.registry)
    assert counts() == first

    ia = Division.get(Division.code == "IA")
    assert ia.name == "工业自动化事业部" and ia.company.name == "汇客示例集团"
    centre = Department.get(Department.code == "IA-SC")
    in_centre = {d.code for d in Department.select().where(services.subtree(centre))}
    assert in_centre == {"IA-SC", "IA-S1", "IA-S2", "IA-KA", "IA-CH"}

    rep = User.get(User.login == "li.na")
    assert rep.name == "李娜" and rep.department.name == "销售一部（华东）"
    assert rep.manager.login == "wang.fang" and rep.manager.manager.login == "zhang.wei"
    assert services.region_codes(rep) == ["east"]
    assert verify_password(rep.password_hash, demo.DEMO_PASSWORD)
    director = User.get(User.login == "zhang.wei")
    assert len(services.subordinates_ids(director)) >= 10

    roles = {(link.user.login, link.role.code, link.division_id)
             for link in UserRole.select().join(Role)}
    assert ("li.na", "sales_rep", ia.id) in roles
    assert ("zhang.wei", "sales_manager", ia.id) in roles
    assert ("deng.li", "auditor", None) in roles
    assert {code for _, code, _ in roles} >= {"sales_rep", "sales_manager", "finance", "dealer",
                                              "auditor"}
    assert not User.select().where(User.is_admin & (User.login != "admin")).exists()


def test_demo_keeps_later_edits(install):
    demo.load_demo(install.registry)
    user = User.get(User.login == "li.na")
    services.update_user(user, {"name": "李娜（已调岗）", "regions": ["north"]})
    summary = demo.load_demo(install.registry)
    assert "新建 0 个事业部、0 个部门、0 个用户、0 个标签" in summary
    assert User.get_by_id(user.id).name == "李娜（已调岗）"
    assert services.region_codes(user) == ["north"]


def test_huike_demo_command_prints_the_password(tmp_path, database_url):
    cli = build_cli()
    password_file = tmp_path / "admin.pw"
    password_file.write_text(ADMIN_PASSWORD)
    data = str(tmp_path / "inst")
    runner = CliRunner()
    init = runner.invoke(cli, ["init", "--data-dir", data, "--admin-password-file",
                               str(password_file), "--database-url", database_url])
    assert init.exit_code == 0, init.output
    first = runner.invoke(cli, ["demo", "--data-dir", data], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert demo.DEMO_PASSWORD in first.output and "新建 2 个事业部" in first.output
    second = runner.invoke(cli, ["demo", "--data-dir", data], catch_exceptions=False)
    assert second.exit_code == 0
    assert "新建 0 个事业部、0 个部门、0 个用户" in second.output
