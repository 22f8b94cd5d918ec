"""The shared fixtures (`install`, `server`, `http`, `database_url`) for the base module's
tests, plus helpers to sign users in."""
from __future__ import annotations

import pytest

from tests.conftest import _clean_env, database_url, http, install, server  # noqa: F401
from tests.support import ADMIN_LOGIN, ADMIN_PASSWORD, HttpClient, login

USER_PASSWORD = "Sales-rep-2026"


@pytest.fixture
def admin_http(http):
    """`http` signed in as the install's administrator (TOTP enrolled on the spot)."""
    login(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    return http


def make_rep(login_name: str = "li.na", name: str = "李娜"):
    """A sales rep of division IA who owns one account (`rep.account_id`): attachments and
    tags hang off records the rep may write, through the security door."""
    from modules.base import services
    from modules.base.models import Division
    from modules.contacts.models import Account

    division = Division.get_or_none(Division.code == "IA") or services.create_division(
        "IA", "工业自动化事业部")
    dept = services.create_department(division, f"d-{login_name}", "销售一部")
    user = services.create_user(login_name, name, USER_PASSWORD, department=dept)
    services.assign_role(user, "sales_rep", division)
    account = Account.create(name=f"{name}的客户", name_key=f"{login_name}客户",
                             division=division, owner=user)
    user.account_id = account.id
    return user


@pytest.fixture
def rep(install):
    """A signed-in-able sales rep (no admin rights) owning one account."""
    return make_rep()


@pytest.fixture
def rep_http(server, rep):
    client = HttpClient(server.base_url)
    login(client, rep.login, USER_PASSWORD)
    return client
