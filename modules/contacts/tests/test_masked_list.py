"""The security door's most expensive read — a page of contacts (scope inherited from the
account, encrypted channels shown masked) as a restricted user — stays correct and does a
fixed amount of work however many rows the tables hold:

- every statement the list runs is counted (not only the data queries) and the count is the
  same with 3 or 40 own accounts among many others';
- the page is fetched ids-first (`security.pages.fetch_page`) and equals the plain query;
- paging with the cursor walks exactly the caller's contacts, in order, for every sort.
"""
from __future__ import annotations

import peewee as pw
import pytest

from modules.base import services
from modules.contacts import accounts, people
from modules.contacts.models import Account, Contact
from modules.contacts.paging import ListParams
from security.context import Context
from security.crud import scoped_select
from security.pages import deferred_sql, fetch_page
from security.sensitive_reads import flush
from tests.test_scope_org import count_queries

ROLE = "masked_rep_test"
LINES = [["model/account", "read"], ["scope/account", "read:own"], ["model/contact", "read"],
         *[[f"field/contact/{name}", "masked"] for name in ("mobile", "phone", "email", "wechat")],
         *[[f"field/contact/{name}_bidx", "hidden"]
           for name in ("mobile", "phone", "email", "wechat")]]


@pytest.fixture
def masked(org):
    """User `masked` holding a role that reads own accounts' contacts with channels masked."""
    from core.db import atomic
    from modules.base.models import Role
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    with atomic():
        Role.get_or_create(code=ROLE, defaults={"name": "脱敏销售（测试）"})
        PeeweeAdapter().add_policies("p", "p", [[ROLE, "*", res, act] for res, act in LINES])
        bump_version()
    department = org.users["rep1"].department
    user = services.create_user("masked", "马赛", "Hidden-view-2026", department=department)
    services.assign_role(user, ROLE, org.divisions["IA"])
    org.users["masked"] = user
    return user


def _add(org, owner: str, count: int, start: int) -> None:
    """`count` accounts of `owner` with one contact each (mobile and e-mail set)."""
    division = org.divisions["MD" if owner == "md_rep" else "IA"]
    for index in range(start, start + count):
        account = Account.create(name=f"客户{owner}{index}", name_key=f"k{owner}{index}",
                                 division=division, owner=org.users[owner])
        Contact.create(account=account, name=f"联系人{index}", mobile=f"1380000{index:04d}",
                       email=f"p{index}@example.com")


def _list(org, login: str, query: dict | None = None) -> tuple[dict, list[str]]:
    ctx = Context(registry=org.registry, user=org.ctx(login).user, via="api")
    get = dict(query or {}).get
    with count_queries() as statements:
        page = people.list_contacts(ctx, ListParams.parse(get), get)
        flush(ctx)
    # the policy-version check runs at most once a second: it comes and goes with the clock
    return page, [s for s in statements if "security_policy_version" not in s]


def test_restricted_masked_list_statement_count_is_flat(org, masked):
    _add(org, "masked", 3, 0)
    _add(org, "rep1", 5, 100)
    _list(org, "masked")  # warm the per-process caches (roles, policy table)
    page, few = _list(org, "masked")
    assert len(page["items"]) == 3
    _add(org, "masked", 37, 3)
    _add(org, "rep1", 60, 200)
    _add(org, "md_rep", 30, 400)
    page, many = _list(org, "masked")
    assert len(page["items"]) == 40 and page["next"] is None
    assert len(many) == len(few) <= 4, many  # shares check, page, account names
    (listing,) = [s for s in many if 'FROM "contacts_contact"' in s]
    # the account's scope through the contacts' own mirror columns: no subquery at all
    assert listing.count("SELECT") == 1 and '"account_owner_id" = ' in listing, listing
    assert not any(key.startswith("account_") and key.endswith("_id") for item in page["items"]
                   for key in item)  # mirrors are bookkeeping, never data
    items = page["items"]
    assert all(item["mobile"].startswith("138") and "*" in item["mobile"] for item in items)
    assert all(item["email"].startswith("p***@") for item in items)
    assert not any(key.endswith("_bidx") for item in items for key in item)
    owned = {a.id for a in Account.select().where(Account.owner == masked.id)}
    assert {item["account"] for item in items} == owned
    assert [item["id"] for item in items] == sorted((item["id"] for item in items),
                                                    reverse=True)


@pytest.mark.parametrize("sort", ["-id", "id", "name", "-name", "created_at", "-updated_at"])
def test_cursor_pages_walk_exactly_the_scope(org, masked, sort):
    _add(org, "masked", 7, 0)
    _add(org, "rep1", 6, 100)
    every_third = [row.id for row in Contact.select(Contact.id).order_by(Contact.id)][::3]
    Contact.update(name="同名").where(Contact.id.in_(every_third)).execute()  # sort-key ties
    seen, after = [], None
    while True:
        query = {"limit": "2", "sort": sort, **({"after": after} if after else {})}
        page, _ = _list(org, "masked", query)
        seen += page["items"]
        after = page["next"]
        if after is None:
            break
    ctx = org.ctx("masked")
    expected = list(ListParams.parse({"sort": sort, "limit": "200"}.get).apply(
        ctx, Contact, scoped_select(ctx, Contact, "list"), people.SORTS).dicts())
    assert [item["id"] for item in seen] == [row["id"] for row in expected]
    assert len(seen) == 7


def test_fetch_page_equals_the_plain_query(org, masked):
    _add(org, "masked", 4, 0)
    _add(org, "rep1", 4, 100)
    for login in ("masked", "rep1", "mgr", "fin"):
        ctx = org.ctx(login)
        for sort in ("-id", "name", "-created_at"):
            query = ListParams.parse({"sort": sort, "limit": "3"}.get).apply(
                ctx, Contact, scoped_select(ctx, Contact, "list"), people.SORTS)
            assert fetch_page(query) == list(query.dicts()), (login, sort)
    sql, _ = deferred_sql(query)
    assert sql.count("LIMIT") == 1 and " IN (SELECT " in sql
    # own scope through the mirrors and the unrestricted page are read directly; a manager's
    # scope (the manager-chain subquery) runs as the deferred join
    for login, selects in (("masked", 1), ("admin", 1), ("mgr", 5)):
        ctx = org.ctx(login)
        query = ListParams.parse({}.get).apply(
            ctx, Contact, scoped_select(ctx, Contact, "list"), people.SORTS)
        with count_queries() as statements:
            rows = fetch_page(query)
        assert rows == list(query.dicts()) and len(rows) == {"masked": 4, "admin": 8}.get(
            login, len(rows))
        assert [s.count("SELECT") for s in statements] == [selects], statements


def test_fetch_page_runs_other_shapes_unchanged(org, masked):
    _add(org, "masked", 2, 0)
    ctx = org.ctx("masked")
    joined = (scoped_select(ctx, Contact, "list").join(Account)
              .order_by(Contact.id).limit(5))
    unlimited = scoped_select(ctx, Contact, "list").order_by(Contact.id)
    computed = (Contact.select(Contact.id, pw.fn.UPPER(Contact.name).alias("upper"))
                .where(Contact.id > 0).order_by(Contact.id).limit(5))
    for query in (joined, unlimited, computed):
        assert fetch_page(query) == list(query.dicts())
    assert len(fetch_page(joined)) == 2


def test_accounts_names_follow_the_page(org, masked):
    _add(org, "masked", 3, 0)
    names = accounts.list_accounts(org.ctx("masked"), ListParams.parse({}.get), {}.get)
    by_id = {item["id"]: item["name"] for item in names["items"]}
    page, _ = _list(org, "masked")
    assert {item["account_name"] for item in page["items"]} == set(by_id.values())
    assert people.account_names([]) == {}
