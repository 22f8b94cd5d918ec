"""`huike user create|disable|list`."""
from __future__ import annotations

from pathlib import Path

import click
import peewee as pw

from core.cli.common import CliError, data_dir_option, open_registry


@click.group()
def user():
    """用户管理 / manage users."""


@user.command("create")
@data_dir_option
@click.argument("login")
@click.option("--name", default=None, help="姓名 / display name")
@click.option("--email", default=None)
@click.option("--admin", "is_admin", is_flag=True, help="管理员 / administrator")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="从文件读取密码（否则交互输入） / read the password from a file (else prompt)")
@click.option("--department", default=None, help="部门编码 / department code")
@click.option("--manager", default=None, help="上级登录名 / manager login")
def user_create(data_dir, login, name, email, is_admin, password_file, department, manager):
    """创建用户 / create a user."""
    from modules.base import services
    from modules.base.models import Department, User
    from security.passwords import PasswordPolicyError

    if password_file:
        password = Path(password_file).read_text(encoding="utf-8").strip()
    else:
        password = click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    with open_registry(data_dir) as registry:
        dept = mgr = None
        if department:
            dept = Department.get_or_none(Department.code == department)
            if dept is None:
                raise CliError(f"没有部门 / no department with code {department!r}")
        if manager:
            mgr = User.get_or_none(User.login == manager)
            if mgr is None:
                raise CliError(f"没有用户 / no user {manager!r}")
        try:
            created = services.create_user(
                login, name or login, password, is_admin=is_admin, department=dept, manager=mgr,
                email=email,
                min_password_length=registry.settings["security"]["password_min_length"])
        except (services.BaseError, PasswordPolicyError) as exc:
            raise CliError(str(exc)) from exc
    click.echo(f"已创建用户 / created user {created.login} (id {created.id})")


@user.command("disable")
@data_dir_option
@click.argument("login")
def user_disable(data_dir, login):
    """停用用户 / disable a user (sessions and tokens stop working)."""
    from modules.base import services
    from modules.base.models import User

    with open_registry(data_dir):
        found = User.get_or_none(User.login == login)
        if found is None:
            raise CliError(f"没有用户 / no user {login!r}")
        services.set_active(found, False)
    click.echo(f"已停用 / disabled {login}")


@user.command("list")
@data_dir_option
@click.option("--all", "show_all", is_flag=True, help="包括已停用 / include disabled users")
def user_list(data_dir, show_all):
    """列出用户 / list users."""
    from modules.base.models import Department, User

    with open_registry(data_dir):
        query = (User.select(User, Department).join(Department, join_type=pw.JOIN.LEFT_OUTER,
                                                    on=(User.department == Department.id))
                 .order_by(User.login))
        if not show_all:
            query = query.where(User.active == True)  # noqa: E712
        rows = [(u.login, u.name, u.department.name if u.department_id else "-",
                 "admin" if u.is_admin else "", "active" if u.active else "disabled")
                for u in query]
    click.echo(f"{'LOGIN':<20} {'NAME':<16} {'DEPARTMENT':<20} {'ADMIN':<6} STATE")
    for login, name, dept, admin, state in rows:
        click.echo(f"{login:<20} {name:<16} {dept:<20} {admin:<6} {state}")
