"""Tasks (待办): an assignee, a due time, a reminder, completion; optionally on a record.

Row scope: the assignee is the owner (`Task.__scope__`), so reps handle their own tasks and
managers their team's; a task filed on a record (`res_model`, `res_id`) is also readable by
whoever may read that record (its timeline). Assigning a task to someone outside one's write
scope is refused (403 `out_of_scope`). A task is overdue when it is open and its due time
has passed (`ctx.now()`); `GET /api/v1/tasks?overdue=1&assignee=me` lists the caller's.
Reminders are sent by the periodic job in `reminders`.
"""
from __future__ import annotations

import peewee as pw

from core.web.base import APIError
from modules.base.models import User
from modules.contacts.common import (Checker, as_pk, check_input, delete_in_scope,
                                     division_id, insert_in_scope, parse_moment, record_id,
                                     update_in_scope)
from modules.contacts.decorate import add_user_names
from modules.contacts.models import Task
from modules.contacts.paging import FAR_FUTURE, ListParams, Sort, bad_request
from modules.contacts.parents import (get_parent, of_parent, parent_model, placement,
                                      visible_children)
from security.crud import not_found, require_model
from security.fields import permitted_columns
from security.scopes import both
from security.serialisation import serialise

PRIORITIES = ("low", "normal", "high")
MAINTAINED = ("created_by", "division", "account", "reminded_at", "done_at")
IMMUTABLE = ("res_model", "res_id")
SORTS = {"due_at": Sort(Task.due_at, null_as=FAR_FUTURE), "id": Sort(Task.id),
         "created_at": Sort(Task.created_at)}


def _clean(data: dict, creating: bool) -> dict:
    check = Checker(data)
    check.text("title", 200, required=creating, nullable=False)
    check.text("description", 20_000)
    check.reference("assignee", User, nullable=False, where=User.active == True)  # noqa: E712
    check.moment("due_at")
    check.moment("remind_at")
    check.choice("priority", PRIORITIES)
    values = check.done()
    if "description" in values and values["description"] is None:
        values["description"] = ""
    return values


def create_task(ctx, data: dict) -> dict:
    """Create a task (assigned to the caller unless `assignee` is given), optionally on a
    record the caller may read."""
    require_model(ctx, Task, "create")
    check_input(ctx, Task, data, "create", MAINTAINED)
    values = _clean({k: v for k, v in data.items() if k not in IMMUTABLE}, creating=True)
    system = {"created_by": ctx.user_id}
    values.setdefault("assignee", ctx.user_id)
    account = division = None
    if data.get("res_model") is not None or data.get("res_id") is not None:
        res_id = record_id(data.get("res_id"), "res_id")
        model, _ = get_parent(ctx, data.get("res_model"), res_id)
        account, division = placement(model, res_id)
        system.update(res_model=data["res_model"], res_id=res_id)
    system.update(account=account, division=division or division_id(ctx))
    pk = insert_in_scope(ctx, Task, values, system)
    return get_task(ctx, pk)


def update_task(ctx, task_id: int, data: dict) -> dict:
    """Edit a task in the caller's write scope; a new reminder time re-arms the reminder."""
    require_model(ctx, Task, "update")
    check_input(ctx, Task, data, "write", MAINTAINED + IMMUTABLE)
    values = _clean(data, creating=False)
    system = {"reminded_at": None} if "remind_at" in values else {}
    update_in_scope(ctx, Task, task_id, values, system)
    return get_task(ctx, task_id)


def complete_task(ctx, task_id: int, done: bool = True) -> dict:
    """Mark a task done at `ctx.now()` (or reopen it with `done=False`)."""
    require_model(ctx, Task, "update")
    update_in_scope(ctx, Task, task_id, {}, {"done_at": ctx.now() if done else None})
    return get_task(ctx, task_id)


def delete_task(ctx, task_id: int) -> None:
    delete_in_scope(ctx, Task, task_id, lambda pk: _refuse(ctx, pk))


def _refuse(ctx, task_id: int) -> APIError:
    """403 for a task the caller sees (on their record) but may not change, else 404."""
    if _select(ctx, Task.id == task_id).exists():
        return APIError(403, f"无权修改此任务 / not allowed to change task {task_id}",
                        code="forbidden")
    return not_found(Task, task_id)


def _select(ctx, where) -> pw.ModelSelect:
    require_model(ctx, Task, "read")
    visible = visible_children(ctx, Task)
    return Task.select(*permitted_columns(ctx, Task)).where(
        visible if where is None else both(visible, where))


def present(ctx, raw: list[dict]) -> list[dict]:
    """Serialised tasks with `assignee_name` and the computed `overdue` flag."""
    items = serialise(ctx, Task, raw)
    add_user_names(ctx, Task, raw, items, "assignee", "assignee_name")
    now = ctx.now()
    for row, item in zip(raw, items):
        if "due_at" in item and "done_at" in item:
            item["overdue"] = bool(row.get("due_at") and row.get("done_at") is None
                                   and row["due_at"] < now)
    return items


def get_task(ctx, task_id) -> dict:
    pk = as_pk(task_id)
    if pk is None:
        raise not_found(Task, task_id)
    row = _select(ctx, Task.id == pk).dicts().first()
    if row is None:
        raise not_found(Task, task_id)
    return present(ctx, [row])[0]


def _flag(get, name: str) -> bool | None:
    raw = get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in ("1", "0", "true", "false"):
        raise bad_request(name, "true/false")
    return raw.lower() in ("1", "true")


def filters(ctx, get) -> list[pw.Node]:
    """assignee (`me` or id), overdue, done, account, res_model + res_id, due_before."""
    terms = []
    if get("assignee"):
        raw = get("assignee")
        terms.append(Task.assignee == (ctx.user_id if raw == "me" else record_id(raw, "assignee")))
    overdue, done = _flag(get, "overdue"), _flag(get, "done")
    if overdue is not None:
        late = Task.done_at.is_null() & Task.due_at.is_null(False) & (Task.due_at < ctx.now())
        terms.append(late if overdue else ~late)
    if done is not None:
        terms.append(Task.done_at.is_null(not done))
    if get("account"):
        terms.append(Task.account == record_id(get("account"), "account"))
    if get("res_model"):
        parent_model(ctx, get("res_model"))
        terms.append(Task.res_model == get("res_model"))
        if get("res_id"):
            terms.append(Task.res_id == record_id(get("res_id"), "res_id"))
    if get("due_before"):
        moment = parse_moment(get("due_before"))
        if moment is None:
            raise bad_request("due_before", "需要 ISO 8601 时间 / ISO 8601 expected")
        terms.append(Task.due_at < moment)
    return terms


def list_tasks(ctx, params: ListParams, get, where=None) -> dict:
    query = _select(ctx, where)
    for term in filters(ctx, get):
        query = query.where(term)
    rows = list(params.apply(ctx, Task, query, SORTS).dicts())
    rows, cursor = params.page(rows, SORTS)
    return {"items": params.select_fields(Task, present(ctx, rows)), "next": cursor}


def timeline_tasks(ctx, parent, res_id: int, params: ListParams, get) -> dict:
    return list_tasks(ctx, params, get, where=of_parent(Task, parent, res_id))
