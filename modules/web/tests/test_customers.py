"""Customer pages over HTTP against a live server with the demo data: accounts and contacts
lists and details, the timeline actions, escaping, row scope (404 across divisions), field
rules in the HTML, and the handover wizard (preview lists the records, execute moves them)."""
from __future__ import annotations

import re

import pytest

from modules.base import services as base_services
from modules.base.demo import DEMO_PASSWORD
from modules.base.models import Division, User
from modules.contacts.models import Account, Activity, Contact, Task

MISSING = "X-Huike-I18n-Missing"


def ok(response, status: int = 200):
    """The response, after checking its status and that no zh_CN/en key went untranslated."""
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert MISSING not in response.headers, response.headers[MISSING]
    return response


def user(login: str) -> User:
    return User.get(User.login == login)


def account_of(login: str) -> Account:
    return (Account.select().where(Account.owner == user(login).id)
            .order_by(Account.id).first())


def new_account(owner: str, name: str) -> Account:
    owner_row = user(owner)
    division = Division.get(Division.code == ("MD" if owner in ("gao.feng",) else "IA"))
    return Account.create(name=name, name_key=name.lower(), division=division, owner=owner_row)


@pytest.fixture
def rep(page_client):
    return page_client("li.na")


def test_account_list_and_detail_for_a_rep(rep):
    mine = account_of("li.na")
    listing = ok(rep.get("/accounts"))
    assert f'data-account-id="{mine.id}"' in listing.text
    others = Account.select().where(Account.owner != user("li.na").id).limit(50)
    shown = set(map(int, re.findall(r'data-account-id="(\d+)"', listing.text)))
    assert not shown & {a.id for a in others}, "a rep sees only their own accounts"
    detail = ok(rep.get(f"/accounts/{mine.id}"))
    assert 'id="timeline"' in detail.text and 'id="cu-account-contacts"' in detail.text
    # a rep reads the owner but may not change it: text, not an input
    assert 'data-field="owner" data-level="read"' in detail.text
    assert 'name="owner"' not in detail.text
    assert 'data-field="name" data-level="write"' in detail.text


def test_search_filters_the_list(rep):
    mine = account_of("li.na")
    found = ok(rep.get("/accounts", params={"q": mine.name}))
    assert f'data-account-id="{mine.id}"' in found.text
    none = ok(rep.get("/accounts", params={"q": "不存在的客户名称 xyz"}))
    assert "data-account-id" not in none.text


def test_cross_division_account_is_a_404_page(rep):
    md = (Account.select().join(Division).where(Division.code == "MD").first())
    page = rep.get(f"/accounts/{md.id}")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert md.name not in page.text


def test_script_names_render_as_text(rep):
    evil = new_account("li.na", "<script>alert('x')</script> 恶意客户")
    Contact.create(account=evil, name="<img src=x onerror=alert(1)>")
    for path in (f"/accounts/{evil.id}", "/accounts", "/contacts"):
        page = ok(rep.get(path))
        assert "<script>alert(" not in page.text, path
        assert "<img src=x" not in page.text, path
    detail = rep.get(f"/accounts/{evil.id}").text
    assert "&lt;script&gt;alert(" in detail


def test_edit_writes_through_the_service_and_refuses_forbidden_fields(rep):
    mine = new_account("li.na", "编辑测试客户")
    saved = rep.post(f"/accounts/{mine.id}", data={"name": "编辑测试客户（改）",
                                                   "industry": "制造业"})
    assert saved.status_code == 303, saved.text[:500]
    assert Account.get_by_id(mine.id).industry == "制造业"
    # the owner is read-only for a rep: a tampered form is refused, nothing changes
    refused = rep.post(f"/accounts/{mine.id}", data={"owner": str(user("liu.yang").id)})
    assert refused.status_code == 403
    assert Account.get_by_id(mine.id).owner_id == user("li.na").id
    bad = rep.post(f"/accounts/{mine.id}", data={"name": ""})
    assert bad.status_code == 422 and 'data-error="name"' in bad.text


def test_timeline_add_activity_task_and_complete(rep):
    mine = new_account("li.na", "时间线测试客户")
    logged = ok(rep.htmx("POST", f"/accounts/{mine.id}/activities",
                         data={"kind": "call", "subject": "首次电话沟通", "content": "需求 <b>"}))
    assert "首次电话沟通" in logged.text and "需求 &lt;b&gt;" in logged.text
    assert Activity.select().where(Activity.account == mine.id).count() == 1
    added = ok(rep.htmx("POST", f"/accounts/{mine.id}/tasks",
                        data={"title": "发送报价单", "due_at": "2030-01-02T10:00",
                              "priority": "high"}))
    task = Task.get((Task.account == mine.id) & (Task.title == "发送报价单"))
    assert f'data-task-id="{task.id}"' in added.text
    assert task.due_at.hour == 2  # 10:00 in Shanghai is 02:00 UTC
    done = ok(rep.htmx("POST", f"/tasks/{task.id}/complete",
                       data={"res_model": "account", "res_id": str(mine.id)}))
    assert Task.get_by_id(task.id).done_at is not None
    assert 'data-action="reopen"' in done.text
    missing = ok(rep.htmx("POST", f"/accounts/{mine.id}/activities", data={"kind": "visit",
                                                                         "subject": "拜访"}))
    assert 'data-error="activity.address"' in missing.text


def test_timeline_needs_xsrf(page_client):
    client = page_client("li.na")
    mine = account_of("li.na")
    del client.session.headers["X-XSRF-Token"]
    refused = client.post(f"/accounts/{mine.id}/activities",
                          data={"kind": "note", "subject": "no token"})
    assert refused.status_code == 403


def test_contacts_list_and_detail(rep):
    mine = account_of("li.na")
    person = Contact.create(account=mine, name="联系人测试", mobile="13812345678",
                            decision_role="influencer")
    listing = ok(rep.get("/contacts", params={"q": "联系人测试"}))
    assert f'data-contact-id="{person.id}"' in listing.text
    detail = ok(rep.get(f"/contacts/{person.id}"))
    assert 'id="timeline"' in detail.text and "13812345678" in detail.text
    md = Contact.select().join(Account).join(Division).where(Division.code == "MD").first()
    assert rep.get(f"/contacts/{md.id}").status_code == 404


def test_pages_in_english(rep):
    rep.get("/lang/en?next=/accounts")
    page = ok(rep.get("/accounts"))
    assert "Accounts" in page.text and "客户名称" not in page.text


@pytest.fixture
def leaver():
    """A rep under wang.fang with one account, one contact and an open task."""
    from security.passwords import hash_password

    manager = user("wang.fang")
    found = User.get_or_none(User.login == "leaving.rep")
    if found is None:
        found = base_services.create_user("leaving.rep", "离职测试", None,
                                          department=manager.department, manager=manager)
        User.update(password_hash=hash_password(DEMO_PASSWORD)).where(
            User.id == found.id).execute()
        base_services.assign_role(found, "sales_rep", manager.department.division)
    account = new_account("leaving.rep", "交接测试客户 A")
    Task.create(title="交接测试待办", assignee=found, division=account.division,
                account=account, res_model="account", res_id=account.id)
    return found, account


def test_handover_wizard_preview_lists_records_and_executes(page_client, leaver):
    source, account = leaver
    manager = page_client("wang.fang")
    step_one = ok(manager.get("/handover"))
    assert f'value="{source.id}"' in step_one.text
    receiver = user("li.na")
    preview = ok(manager.get("/handover/preview",
                             params={"from": str(source.id), "to": [str(receiver.id)]}))
    assert f'data-account-id="{account.id}"' in preview.text
    assert "交接测试客户 A" in preview.text and "交接测试待办" in preview.text
    assert re.search(r'data-kind="accounts"><td>[^<]+</td><td>1</td>', preview.text)
    done = ok(manager.post("/handover", data={"from": str(source.id),
                                              "to": str(receiver.id)}))
    assert 'id="cu-handover-done"' in done.text
    assert Account.get_by_id(account.id).owner_id == receiver.id
    assert not User.get_by_id(source.id).active


def test_handover_is_refused_without_the_right(rep):
    assert rep.get("/handover").status_code == 403
    assert 'href="/handover"' not in ok(rep.get("/accounts")).text


def test_finance_sees_only_masks_and_no_hidden_fields(page_client):
    import datetime as dt

    mine = account_of("li.na")
    person = Contact.create(account=mine, name="脱敏测试", mobile="13987654321",
                            email="secret.person@example.com", birthday=dt.date(1980, 5, 6))
    finance = page_client("hu.bin")
    for path in (f"/contacts/{person.id}", f"/accounts/{mine.id}",
                 "/contacts?q=" + "脱敏测试"):
        page = ok(finance.get(path))
        assert "13987654321" not in page.text and "1398765" not in page.text, path
        assert "secret.person" not in page.text, path
    detail = finance.get(f"/contacts/{person.id}").text
    assert 'data-field="mobile" data-level="masked"' in detail
    assert "4321" in detail  # the mask keeps the last digits only
    assert 'data-field="birthday"' not in detail and "1980-05-06" not in detail
    assert 'name="mobile"' not in detail and 'id="cu-save"' not in detail
    # no write right: the server refuses the edit whatever the form says
    refused = finance.post(f"/contacts/{person.id}", data={"name": "改名"})
    assert refused.status_code == 403
    assert Contact.get_by_id(person.id).name == "脱敏测试"
