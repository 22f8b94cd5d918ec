"""Activities, tasks, the per-record timeline, overdue tasks per user and reminders."""
from __future__ import annotations

import datetime as dt

import pytest

from core.models import OutboxMessage
from core.web.base import APIError
from modules.contacts import accounts, activities, people, tasks
from modules.contacts.models import Activity, Task
from modules.contacts.paging import ListParams
from modules.contacts.reminders import TOPIC, send_due_reminders
from security.context import system_context

NOW = dt.datetime(2026, 3, 2, 9, 0)


def clock(moment=NOW):
    return lambda: moment


def params(**args):
    return ListParams.parse(args.get, "-occurred_at")


@pytest.fixture
def book(org):
    a1 = accounts.create_account(org.ctx("rep1"), {"name": "甲一"})[0]["id"]
    a2 = accounts.create_account(org.ctx("rep2"), {"name": "乙二"})[0]["id"]
    c1 = people.create_contact(org.ctx("rep1"), {"account": a1, "name": "张总"})["id"]
    return {"a1": a1, "a2": a2, "c1": c1}


def log(org, login, res_model, res_id, **extra):
    data = {"res_model": res_model, "res_id": res_id, "kind": "call", "subject": "电话沟通",
            **extra}
    return activities.log_activity(org.ctx(login, clock=clock()), data)


def timeline(org, login, res_model, res_id):
    from modules.contacts.parents import get_parent
    ctx = org.ctx(login, clock=clock())
    model, _ = get_parent(ctx, res_model, res_id)
    acts = activities.timeline_activities(ctx, model, res_id, params(), {}.get)["items"]
    todo = tasks.timeline_tasks(ctx, model, res_id, ListParams.parse({}.get, "due_at"), {}.get)
    return [a["subject"] for a in acts], [t["title"] for t in todo["items"]]


def test_logging_places_the_activity_on_its_account(org, book):
    visit = log(org, "rep1", "contact", book["c1"], kind="visit", subject="上门拜访",
                address="上海市浦东新区东方路 1 号", occurred_at="2026-03-01T10:00:00+08:00")
    row = Activity.get_by_id(visit["id"])
    assert (row.account_id, row.owner_id, row.division_id) == (
        book["a1"], org.id("rep1"), org.divisions["IA"].id)
    assert row.occurred_at == dt.datetime(2026, 3, 1, 2, 0)  # stored as naive UTC
    assert visit["owner_name"] == "李娜"
    with pytest.raises(APIError) as err:
        log(org, "rep1", "contact", book["c1"], kind="visit", subject="无地址拜访")
    assert err.value.status_code == 422 and "address" in err.value.fields
    with pytest.raises(APIError) as err:  # rep2's account: not in rep1's scope
        log(org, "rep1", "account", book["a2"])
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        log(org, "rep1", "spaceship", 1)
    assert err.value.status_code == 422 and "res_model" in err.value.fields
    with pytest.raises(APIError) as err:  # owner is the system's to set
        log(org, "rep1", "account", book["a1"], owner=org.id("rep2"))
    assert err.value.status_code == 403 and err.value.fields == {"owner": "read-only"}


def test_the_account_timeline_gathers_its_contacts_and_checks_scope_first(org, book):
    log(org, "rep1", "account", book["a1"], subject="首次电话", occurred_at="2026-02-01T01:00:00")
    log(org, "rep1", "contact", book["c1"], subject="约见张总", occurred_at="2026-02-03T01:00:00")
    log(org, "mgr", "account", book["a1"], kind="note", subject="经理备注",
        occurred_at="2026-02-02T01:00:00")
    log(org, "rep2", "account", book["a2"], subject="乙二电话")
    tasks.create_task(org.ctx("rep1"), {"title": "发报价", "res_model": "account",
                                        "res_id": book["a1"], "due_at": "2026-03-05T09:00:00"})
    assert timeline(org, "rep1", "account", book["a1"]) == (
        ["约见张总", "经理备注", "首次电话"], ["发报价"])
    assert timeline(org, "rep1", "contact", book["c1"]) == (["约见张总"], [])
    assert timeline(org, "mgr", "account", book["a2"]) == (["乙二电话"], [])
    for res_model, res_id in (("account", book["a2"]), ("account", 999999)):
        with pytest.raises(APIError) as err:
            timeline(org, "rep1", res_model, res_id)
        assert err.value.status_code == 404


def test_activities_are_edited_by_their_owner_and_read_through_the_parent(org, book):
    note = log(org, "mgr", "account", book["a1"], kind="note", subject="经理备注")
    assert activities.get_activity(org.ctx("rep1"), note["id"])["subject"] == "经理备注"
    with pytest.raises(APIError) as err:  # visible on rep1's account, but the manager's
        activities.update_activity(org.ctx("rep1"), note["id"], {"subject": "改"})
    assert err.value.status_code == 403
    with pytest.raises(APIError) as err:
        activities.get_activity(org.ctx("rep2"), note["id"])
    assert err.value.status_code == 404
    mine = log(org, "rep1", "account", book["a1"])
    changed = activities.update_activity(org.ctx("rep1"), mine["id"],
                                         {"kind": "meeting", "content": "纪要"})
    assert changed["kind"] == "meeting"
    with pytest.raises(APIError) as err:  # a visit needs its address, also when edited
        activities.update_activity(org.ctx("rep1"), mine["id"], {"kind": "visit"})
    assert err.value.status_code == 422
    activities.delete_activity(org.ctx("rep1"), mine["id"])
    assert not Activity.select().where(Activity.id == mine["id"]).exists()


def test_tasks_assignment_follows_write_scope(org, book):
    ctx = org.ctx("rep1")
    own = tasks.create_task(ctx, {"title": "回访"})
    assert own["assignee"] == org.id("rep1") and own["division"] == org.divisions["IA"].id
    with pytest.raises(APIError) as err:
        tasks.create_task(ctx, {"title": "替同事", "assignee": org.id("rep2")})
    assert err.value.status_code == 403 and err.value.code == "out_of_scope"
    assigned = tasks.create_task(org.ctx("mgr"), {"title": "经理派活", "assignee": org.id("rep2"),
                                                  "res_model": "account", "res_id": book["a2"]})
    assert assigned["account"] == book["a2"] and assigned["assignee_name"] == "刘洋"
    with pytest.raises(APIError) as err:  # rep1 cannot see rep2's task
        tasks.get_task(ctx, assigned["id"])
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        tasks.create_task(ctx, {"title": "x", "done_at": "2026-01-01T00:00:00"})
    assert err.value.status_code == 403


def test_overdue_tasks_per_user_and_completion(org, book):
    rep1 = org.ctx("rep1", clock=clock())
    tasks.create_task(rep1, {"title": "已逾期", "due_at": "2026-03-01T09:00:00"})
    tasks.create_task(rep1, {"title": "明天到期", "due_at": "2026-03-03T09:00:00"})
    tasks.create_task(rep1, {"title": "无期限"})
    done = tasks.create_task(rep1, {"title": "逾期但已完成", "due_at": "2026-02-01T09:00:00"})
    tasks.complete_task(rep1, done["id"])
    tasks.create_task(org.ctx("mgr"), {"title": "刘洋逾期", "assignee": org.id("rep2"),
                                       "due_at": "2026-02-20T09:00:00"})

    def overdue(login, **extra):
        args = {"overdue": "1", "assignee": "me", **extra}
        page = tasks.list_tasks(org.ctx(login, clock=clock()), ListParams.parse(args.get, "due_at"),
                                args.get)
        return [t["title"] for t in page["items"]]

    assert overdue("rep1") == ["已逾期"]
    assert overdue("rep2") == ["刘洋逾期"]
    assert overdue("mgr") == []  # his own
    assert overdue("mgr", assignee=str(org.id("rep2"))) == ["刘洋逾期"]
    assert overdue("rep1", assignee=str(org.id("rep2"))) == []  # not in rep1's scope
    item = tasks.get_task(rep1, Task.get(Task.title == "已逾期").id)
    assert item["overdue"] is True
    reopened = tasks.complete_task(rep1, done["id"], done=False)
    assert reopened["done_at"] is None and reopened["overdue"] is True


def test_reminders_are_queued_once_and_rearm_when_moved(org, book):
    rep1 = org.ctx("rep1")
    due = tasks.create_task(rep1, {"title": "提醒我", "remind_at": "2026-03-02T08:30:00"})
    tasks.create_task(rep1, {"title": "以后提醒", "remind_at": "2026-03-09T08:30:00"})
    done = tasks.create_task(rep1, {"title": "已完成的", "remind_at": "2026-03-01T08:30:00"})
    tasks.complete_task(rep1, done["id"])
    system = system_context(org.registry, via="job")
    system.clock = clock()
    assert send_due_reminders(system) == 1
    assert send_due_reminders(system) == 0
    messages = list(OutboxMessage.select().where(OutboxMessage.topic == TOPIC))
    assert [m.payload["task_id"] for m in messages] == [due["id"]]
    assert messages[0].payload["assignee_id"] == org.id("rep1")
    assert Task.get_by_id(due["id"]).reminded_at == NOW
    tasks.update_task(rep1, due["id"], {"remind_at": "2026-03-02T08:45:00"})
    assert Task.get_by_id(due["id"]).reminded_at is None
    assert send_due_reminders(system) == 1
    assert OutboxMessage.select().where(OutboxMessage.topic == TOPIC).count() == 2


def test_the_reminder_job_is_registered(org):
    from core.jobs import build_huey
    assert "contacts.contacts.task_reminders" in build_huey(org.registry).huike_tasks
