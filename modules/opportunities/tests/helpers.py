"""Small helpers shared by the opportunities tests."""
from __future__ import annotations

import pytest

from core.db import atomic
from core.web.base import APIError
from modules.base import services as base_services
from modules.base.models import Role
from modules.opportunities import moves, services
from modules.opportunities.pipelines import default_pipeline, stages_of


def stage(org, name: str, division: str = "IA"):
    pipeline = default_pipeline(org.divisions[division].id)
    return next(s for s in stages_of(pipeline.id) if s.name == name)


def deal(org, login: str = "rep1", account: str = "acme", **values) -> dict:
    body = {"name": f"{account} 项目", "account": org.accounts[account].id, **values}
    return services.create(org.ctx(login), body)


def refused(call, *args, **kwargs) -> APIError:
    with pytest.raises(APIError) as err:
        call(*args, **kwargs)
    return err.value


def move(org, login: str, opp_id: int, stage_name: str, **extra) -> dict:
    return moves.move(org.ctx(login), opp_id, {"stage": stage(org, stage_name).id, **extra})


def define_role(code: str, lines, domain: str = "*") -> None:
    """A catalogue role with policy lines `[(resource, act), ...]` (a custom role an admin
    would define)."""
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    if Role.get_or_none(Role.code == code) is None:
        Role.create(code=code, name=code)
    with atomic():
        adapter = PeeweeAdapter()
        for obj, act in lines:
            adapter.add_policy("p", "p", [code, domain, obj, act])
        bump_version()


def user_with_role(org, login: str, role: str, department: str = "IA-S1"):
    from modules.opportunities.tests.conftest import new_user

    user = new_user(login, login, org.departments[department])
    base_services.assign_role(user, role, org.divisions[department[:2]])
    org.users[login] = user
    org.clock.start()  # sessions must not predate the new user's password timestamp
    return user
