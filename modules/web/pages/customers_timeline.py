"""The activity timeline and tasks of a record (account, contact or deal), shared by the
customer and deal pages: reading it through the contacts services and the htmx actions
"log an activity", "add a task" and "complete a task".

    POST /accounts/<id>/activities   /contacts/<id>/activities   /deals/<id>/activities
    POST /accounts/<id>/tasks        /contacts/<id>/tasks        /deals/<id>/tasks
    POST /tasks/<id>/complete        (form: res_model, res_id of the timeline to redraw)

An htmx request gets the redrawn timeline fragment (`customers/_timeline.html`); a plain
form post is sent back to the record's page (303). A refused input (422) redraws the
fragment with the problems next to the fields (a full page answers 422).
"""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.models import ACTIVITY_KINDS
from modules.contacts.paging import ListParams
from modules.web.pages.customers_common import AreaPage, local_to_iso, optional, user_choices

TIMELINE_SIZE = "50"
PRIORITIES = ("low", "normal", "high")
PAGES = {"account": "/accounts/", "contact": "/contacts/", "opportunity": "/deals/"}


def parent_of(res_model: str):
    """The model of a timeline parent named by its security name."""
    from modules.contacts.models import Account, Contact
    from modules.opportunities.models import Opportunity

    found = {"account": Account, "contact": Contact, "opportunity": Opportunity}.get(res_model)
    if found is None:
        raise APIError(404, f"不支持的记录类型 / unknown record type {res_model}")
    return found


def _params(sort: str) -> ListParams:
    return ListParams.parse(lambda name: TIMELINE_SIZE if name == "limit" else None, sort)


def timeline(ctx, res_model: str, pk: int) -> dict:
    """Activities (newest first) and tasks (by due time) of one readable record; a section
    the caller has no right to is None. The record itself must be readable (else 404)."""
    import security
    from modules.contacts import activities, tasks
    from modules.contacts.parents import get_parent

    model, _ = get_parent(ctx, res_model, pk)
    acts = optional(activities.timeline_activities, ctx, model, pk, _params("-occurred_at"),
                    lambda name: None)
    todo = optional(tasks.timeline_tasks, ctx, model, pk, _params("due_at"), lambda name: None)
    return {
        "res_model": res_model, "res_id": pk, "url": f"{PAGES[res_model]}{pk}",
        "activities": acts["items"] if acts is not None else None,
        "tasks": todo["items"] if todo is not None else None,
        "can_log": security.can(ctx, "create", "model/activity"),
        "can_task": security.can(ctx, "create", "model/task"),
        "can_complete": security.can(ctx, "write", "model/task"),
        "kinds": ACTIVITY_KINDS, "priorities": PRIORITIES,
        "assignees": user_choices(ctx) if security.can(ctx, "create", "model/task") else [],
    }


class TimelinePage(AreaPage):
    """Base of the timeline actions: `res_model` comes from the route."""

    def initialize(self, res_model: str = "account") -> None:
        self.res_model = res_model

    def answer(self, res_model: str, pk: int, errors: dict | None = None,
               form: dict | None = None) -> None:
        """The redrawn timeline (htmx) or back to the record's page."""
        if errors is None and not self.is_htmx:
            self.go(f"{PAGES[res_model]}{pk}#timeline")
            return
        if errors and not self.is_htmx:
            self.set_status(422)
        self.render_page("customers/_timeline_page.html" if not self.is_htmx
                         else "customers/_timeline.html",
                         tl=timeline(self.ctx, res_model, pk), errors=errors or {},
                         form=form or {})


class ActivityPage(TimelinePage):
    """`POST .../<id>/activities`: log a call, visit, meeting, e-mail or note."""

    def post(self, record_id: str) -> None:
        from modules.contacts.activities import log_activity

        pk = self.pk(record_id)
        form = self.form_dict()
        data = {k: form[k] for k in ("kind", "subject", "content", "address") if form.get(k)}
        if form.get("occurred_at"):
            data["occurred_at"] = local_to_iso(form["occurred_at"])
        try:
            log_activity(self.ctx, {"res_model": self.res_model, "res_id": pk, **data})
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.answer(self.res_model, pk, {f"activity.{k}": v for k, v in
                                             (exc.fields or {}).items()}, form)
            return
        self.answer(self.res_model, pk)


class TaskPage(TimelinePage):
    """`POST .../<id>/tasks`: add a task on the record (assignee, due time, priority)."""

    def post(self, record_id: str) -> None:
        from modules.contacts.tasks import create_task

        pk = self.pk(record_id)
        form = self.form_dict()
        data = {k: form[k] for k in ("title", "description", "priority") if form.get(k)}
        for name in ("due_at", "remind_at"):
            if form.get(name):
                data[name] = local_to_iso(form[name])
        if form.get("assignee"):
            raw = form["assignee"]
            data["assignee"] = int(raw) if raw.isdigit() else raw
        try:
            create_task(self.ctx, {"res_model": self.res_model, "res_id": pk, **data})
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.answer(self.res_model, pk, {f"task.{k}": v for k, v in
                                             (exc.fields or {}).items()}, form)
            return
        self.answer(self.res_model, pk)


class TaskCompletePage(TimelinePage):
    """`POST /tasks/<id>/complete` (`done=0` reopens); redraws the timeline it came from."""

    def post(self, task_id: str) -> None:
        from modules.contacts.tasks import complete_task

        form = self.form_dict()
        res_model = form.get("res_model") or ""
        if res_model not in PAGES:
            raise APIError(400, "res_model 无效 / invalid res_model",
                           fields={"res_model": "one of " + ", ".join(PAGES)})
        res_id = self.pk(form.get("res_id"))
        complete_task(self.ctx, self.pk(task_id), form.get("done", "1") != "0")
        self.answer(res_model, res_id)


def routes(prefix: str, res_model: str) -> list:
    """The timeline actions of one record page (`/accounts`, `/contacts`, `/deals`)."""
    kwargs = {"res_model": res_model}
    return [(rf"{prefix}/(\d+)/activities", ActivityPage, kwargs),
            (rf"{prefix}/(\d+)/tasks", TaskPage, kwargs)]
