"""The benchmark organisation: two divisions, sales departments, a manager, the measured users
and a crowd of other reps who own most of the data.

Measured users (password `USER_PASSWORD`):
- `bench_rep` — the standard `sales_rep` role (own records) in division IA, reporting to
  `bench_mgr` (`sales_manager`);
- `bench_masked` — role `bench_masked_rep`: own accounts and their contacts, read-only, with
  every contact channel masked (138****5678) and the blind indexes hidden: a scoped model with
  encrypted and masked fields, the security door's most expensive read path.
"""
from __future__ import annotations

from dataclasses import dataclass, field

USER_PASSWORD = "Bench-user-2026"
MASKED_ROLE = "bench_masked_rep"
MASKED_LINES = [
    ["model/account", "read"], ["scope/account", "read:own"], ["model/contact", "read"],
    *[[f"field/contact/{name}", "masked"] for name in ("mobile", "phone", "email", "wechat")],
    *[[f"field/contact/{name}_bidx", "hidden"] for name in ("mobile", "phone", "email", "wechat")],
]
DEPARTMENTS = (("EAST", "华东销售部", "east"), ("SOUTH", "华南销售部", "south"),
               ("NORTH", "华北销售部", "north"), ("WEST", "西南销售部", "southwest"))


@dataclass
class Org:
    divisions: dict[str, int]
    regions: dict[str, int]
    admin_id: int
    rep_id: int
    masked_id: int
    manager_id: int
    others: list[int] = field(default_factory=list)  # reps owning the bulk of the data
    division_of: dict[int, int] = field(default_factory=dict)  # user id → division id


def _policy_lines(role: str) -> list[list[str]]:
    return [[role, "*", resource, act] for resource, act in MASKED_LINES]


def masked_role() -> None:
    """The `bench_masked_rep` role and its p-lines (a policy version bump tells the servers)."""
    from core.db import atomic
    from modules.base.models import Role
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    with atomic():
        Role.get_or_create(code=MASKED_ROLE, defaults={"name": "压测-脱敏销售"})
        PeeweeAdapter().add_policies("p", "p", _policy_lines(MASKED_ROLE))
        bump_version()


def shared_hash() -> str:
    from security.passwords import hash_password
    return hash_password(USER_PASSWORD)


def make_user(login: str, name: str, password_hash: str, *, department=None, manager=None,
              role: str | None = None, division=None):
    """A user with the shared password hash (one argon2 hash for the whole crowd)."""
    from modules.base import services
    from modules.base.models import User

    user = services.create_user(login, name, None, department=department, manager=manager)
    User.update(password_hash=password_hash).where(User.id == user.id).execute()
    if role:
        services.assign_role(user, role, division)
    return user


def build(other_reps: int = 100, seed: int = 7) -> Org:
    """Create the organisation in the connected database (idempotent enough for one run)."""
    from bench.names import Names
    from core.db import atomic
    from modules.base import services
    from modules.base.models import Region, User

    names = Names(seed)
    digest = shared_hash()
    with atomic():
        divisions = {code: services.create_division(code, label)
                     for code, label in (("IA", "工业自动化事业部"), ("MD", "医疗设备事业部"))}
        departments = {(d, code): services.create_department(div, code, label)
                       for d, div in divisions.items() for code, label, _ in DEPARTMENTS}
        east = departments[("IA", "EAST")]
        manager = make_user("bench_mgr", names.person(), digest, department=east,
                            role="sales_manager", division=divisions["IA"])
        rep = make_user("bench_rep", names.person(), digest, department=east, manager=manager,
                        role="sales_rep", division=divisions["IA"])
        masked_role()
        masked = make_user("bench_masked", names.person(), digest, department=east,
                           manager=manager, role=MASKED_ROLE, division=divisions["IA"])
        org = Org(divisions={k: v.id for k, v in divisions.items()},
                  regions={r.code: r.id for r in Region.select()},
                  admin_id=User.get(User.login == "admin").id, rep_id=rep.id,
                  masked_id=masked.id, manager_id=manager.id)
        for number in range(other_reps):
            division = "IA" if number % 3 else "MD"
            dept = departments[(division, DEPARTMENTS[number % len(DEPARTMENTS)][0])]
            user = make_user(f"rep{number:04d}", names.person(), digest, department=dept,
                             role="sales_rep", division=divisions[division])
            org.others.append(user.id)
            org.division_of[user.id] = divisions[division].id
    for user_id in (rep.id, masked.id, manager.id):
        org.division_of[user_id] = divisions["IA"].id
    return org
