"""`huike demo` for the contacts module: ~40 customers with contacts, activities and tasks.

Needs the base demo organisation (logins of `modules/base/demo.py`), which loads first.
Accounts are keyed by (division, name): loading again creates nothing new and leaves later
edits alone; contacts, activities and tasks are created only with their new account.
Everything is deterministic (no randomness), so two installs get the same demo.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from core.db import atomic, utcnow
from modules.base.models import Division, Region, User
from modules.contacts import credit_code
from modules.contacts.demo_data import (ACCOUNTS, ACTIVITIES, COMPANY_TITLES, GIVEN,
                                        HOSPITAL_TITLES, MOBILE_PREFIXES, SURNAMES, TASKS)
from modules.contacts.models import Account, Activity, Contact, Task
from modules.contacts.names import name_key

BODY_ALPHABET = credit_code.ALPHABET


def synthetic_code(prefix: str, admin_code: str, name: str) -> str:
    """A valid-looking code: authority+type, admin-division code, 9 characters derived from
    the name, and the computed check character."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    body = "".join(BODY_ALPHABET[b % len(BODY_ALPHABET)] for b in digest[:9])
    return credit_code.complete(prefix + admin_code + body)


def _people(index: int, hospital: bool) -> list[dict]:
    titles = HOSPITAL_TITLES if hospital else COMPANY_TITLES
    count = 1 + index % 3
    found = []
    for offset in range(count):
        n = index * 3 + offset
        title, role, dept = titles[(index + offset) % len(titles)]
        mobile = f"{MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]}{(n * 7919 + 1234) % 10**8:08d}"
        found.append({"name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)],
                      "title": title, "department_name": dept, "decision_role": role,
                      "mobile": mobile, "email": f"contact{n:03d}@customer-demo.example",
                      "birthday": dt.date(1965 + n % 25, 1 + n % 12, 1 + n % 28)})
    return found


def _create(index: int, row: tuple, divisions: dict, regions: dict, users: dict, now) -> None:
    division, name, short, industry, region, admin, owner_login, tier, stage, prefix = row
    owner = users.get(owner_login)
    account = Account.create(
        name=name, short_name=short, name_key=name_key(name), industry=industry,
        credit_code=synthetic_code(prefix, admin, name), region=regions.get(region),
        division=divisions[division], owner=owner, value_tier=tier, lifecycle=stage)
    hospital = prefix == "12"
    contacts = [Contact.create(account=account, **person) for person in _people(index, hospital)]
    if owner is None:
        return  # pool accounts: no one is working them
    for step in range(1 + index % 3):
        kind, subject, content = ACTIVITIES[(index + step) % len(ACTIVITIES)]
        target = contacts[step % len(contacts)] if step else account
        Activity.create(kind=kind, subject=subject, content=content,
                        address=f"{short}（客户现场）" if kind == "visit" else None,
                        occurred_at=now - dt.timedelta(days=3 + 9 * step + index % 7, hours=step),
                        res_model="contact" if step else "account", res_id=target.id,
                        account=account, owner=owner, division=divisions[division])
    title, days, priority = TASKS[index % len(TASKS)]
    due = now + dt.timedelta(days=days)
    Task.create(title=f"{short}：{title}", assignee=owner, created_by=owner, due_at=due,
                remind_at=due - dt.timedelta(hours=2), priority=priority, res_model="account",
                res_id=account.id, account=account, division=divisions[division],
                done_at=now - dt.timedelta(days=1) if index % 5 == 0 else None)


def load_demo(registry) -> str:
    """Create the missing demo accounts (with their contacts, activities and tasks)."""
    divisions = {d.code: d for d in Division.select()}
    if not {"IA", "MD"} <= set(divisions):
        return "跳过：需要 base 演示组织 / skipped: the base demo organisation is missing"
    regions = {r.code: r for r in Region.select()}
    logins = {row[6] for row in ACCOUNTS if row[6]}
    users = {u.login: u for u in User.select().where(User.login.in_(sorted(logins)))}
    now = utcnow().replace(microsecond=0)
    created = 0
    with atomic():
        for index, row in enumerate(ACCOUNTS):
            exists = Account.select().where((Account.division == divisions[row[0]])
                                            & (Account.name == row[1])).exists()
            if not exists:
                _create(index, row, divisions, regions, users, now)
                created += 1
    pool = sum(1 for row in ACCOUNTS if row[6] is None)
    return (f"{len(ACCOUNTS)} 个演示客户（本次新建 {created} 个，其中公海 {pool} 个），含联系人、跟进记录与待办 "
            f"/ {len(ACCOUNTS)} demo accounts ({created} new, {pool} in the pool) with contacts, "
            "activities and tasks")
