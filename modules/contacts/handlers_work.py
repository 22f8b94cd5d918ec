"""`/api/v1/activities…`, `/api/v1/tasks…`, `/api/v1/timeline/<model>/<id>`, `/api/v1/handover…`."""
from __future__ import annotations

from modules.contacts import activities, handover, tasks
from modules.contacts.handlers import ContactsApiHandler
from modules.contacts.paging import MAX_LIMIT, ListParams
from modules.contacts.parents import get_parent


class ActivitiesHandler(ContactsApiHandler):
    """`GET` the activities the caller may read (kind, owner, account, res_model, res_id,
    since, until; newest first by default); `POST` logs one on a record → 201."""

    def get(self) -> None:
        params = self.list_params("-occurred_at")
        self.write_json(activities.list_activities(self.ctx, params, self.arg))

    def post(self) -> None:
        self.write_json(activities.log_activity(self.ctx, self.body()), 201)


class ActivityHandler(ContactsApiHandler):
    def get(self, activity_id: str) -> None:
        self.write_json(activities.get_activity(self.ctx, self.pk(activity_id)))

    def patch(self, activity_id: str) -> None:
        self.write_json(activities.update_activity(self.ctx, self.pk(activity_id), self.body()))

    def delete(self, activity_id: str) -> None:
        activities.delete_activity(self.ctx, self.pk(activity_id))
        self.set_status(204)
        self.finish()


class TasksHandler(ContactsApiHandler):
    """`GET` tasks (assignee=me|id, overdue, done, account, res_model, res_id, due_before;
    by due time by default); `POST` creates one → 201."""

    def get(self) -> None:
        self.write_json(tasks.list_tasks(self.ctx, self.list_params("due_at"), self.arg))

    def post(self) -> None:
        self.write_json(tasks.create_task(self.ctx, self.body()), 201)


class TaskHandler(ContactsApiHandler):
    def get(self, task_id: str) -> None:
        self.write_json(tasks.get_task(self.ctx, self.pk(task_id)))

    def patch(self, task_id: str) -> None:
        self.write_json(tasks.update_task(self.ctx, self.pk(task_id), self.body()))

    def delete(self, task_id: str) -> None:
        tasks.delete_task(self.ctx, self.pk(task_id))
        self.set_status(204)
        self.finish()


class TaskCompleteHandler(ContactsApiHandler):
    """`POST {"done": true|false}` (default true) completes or reopens a task."""

    def post(self, task_id: str) -> None:
        done = self.flag(self.body(), "done", True)
        self.write_json(tasks.complete_task(self.ctx, self.pk(task_id), done))


class TimelineHandler(ContactsApiHandler):
    """`GET /api/v1/timeline/<res_model>/<res_id>`: 404 unless the record is in the caller's
    read scope; then its activities (newest first, paged with `after`/`limit`) and tasks
    (by due time)."""

    def get(self, res_model: str, res_id: str) -> None:
        pk = self.pk(res_id)
        model, _ = get_parent(self.ctx, res_model, pk)
        params = self.list_params("-occurred_at")
        acts = activities.timeline_activities(self.ctx, model, pk, params, lambda _: None)
        task_params = ListParams(sort="due_at", descending=False, after=None, limit=MAX_LIMIT)
        todo = tasks.timeline_tasks(self.ctx, model, pk, task_params, lambda _: None)
        self.write_json({"res_model": res_model, "res_id": pk, "activities": acts["items"],
                         "next": acts["next"], "tasks": todo["items"]})


class HandoverPreviewHandler(ContactsApiHandler):
    """`GET ?from=<user>&to=<user>[,<user>]` (ids or logins) → counts per provider."""

    def get(self) -> None:
        self.write_json(handover.preview(self.ctx, self.arg("from"), self.arg("to") or ""))


class HandoverHandler(ContactsApiHandler):
    """`POST {"from": user, "to": [user, ...]}` moves everything and disables the user."""

    def post(self) -> None:
        data = self.body()
        self.write_json(handover.execute(self.ctx, data.get("from"), data.get("to")))
