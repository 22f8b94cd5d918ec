"""`huike demo` for contacts: ~40 realistic customers over the demo reps, valid credit codes,
contacts, activities and tasks, reachable through the door — and idempotent."""
from __future__ import annotations

from core.demo import load_demo
from modules.base.models import User
from modules.contacts import credit_code
from modules.contacts.demo_data import ACCOUNTS
from modules.contacts.models import Account, Activity, Contact, Task
from modules.contacts.paging import ListParams
from security.context import Context


def counts():
    return {m.__name__: m.select().count() for m in (Account, Contact, Activity, Task)}


def test_demo_customers_load_once_and_make_sense(install):
    lines = load_demo(install.registry)
    assert any(line.startswith("contacts: ") for line in lines)
    first = counts()
    assert first["Account"] == len(ACCOUNTS) >= 40
    assert first["Contact"] >= first["Account"] and first["Activity"] > 0 and first["Task"] > 0
    load_demo(install.registry)
    assert counts() == first

    rows = list(Account.select())
    assert all(credit_code.is_valid(a.credit_code) for a in rows)
    assert len({a.name_key for a in rows}) == len(rows)
    zpmc = Account.get(Account.name == "上海振华重工（集团）股份有限公司")
    assert zpmc.owner.login == "li.na" and zpmc.division.code == "IA"
    assert zpmc.name_key == "上海振华重工"
    assert all(c.mobile and c.mobile[:3] in ("138", "139", "137", "136", "135", "186", "158",
                                             "188", "177", "150") and len(c.mobile) == 11
               for c in Contact.select())
    assert Account.select().where(Account.owner.is_null()).count() >= 3  # a pool to claim from

    from modules.contacts import accounts, people
    li_na = User.get(User.login == "li.na")
    ctx = Context(registry=install.registry, user=li_na)
    get = {}.get
    mine = accounts.list_accounts(ctx, ListParams.parse(get), get)["items"]
    assert {a["owner"] for a in mine} == {li_na.id} and len(mine) == 3
    pool = accounts.list_pool(ctx, ListParams.parse(get), get)["items"]
    assert pool and all(a["owner"] is None and a["division"] == zpmc.division_id for a in pool)
    contacts = people.list_contacts(ctx, ListParams.parse(get), get)["items"]
    assert contacts and {c["account"] for c in contacts} <= {a["id"] for a in mine}
