"""The handover wizard (离职交接): choose the departing user and the receivers → preview what
would move → execute.

    GET  /handover                       step 1: from-user and to-users
    GET  /handover/preview?from=&to=&to= step 2: counts per kind (the service's preview) and
                                          the records themselves as the caller may see them
    POST /handover                       step 3: execute (moves everything, disables the user)

Only for callers holding the handover right (`execute action/handover`); the service then
checks the person (administrator, or a manager above the departing user handing over to
themselves or their team) on preview and on execute alike.
"""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.paging import ListParams
from modules.web.pages.customers_common import AreaPage, optional, user_choices

ACTION = "action/handover"
LISTED = 200


def require_right(ctx) -> None:
    import security

    security.require(ctx, "execute", ACTION)


def from_choices(ctx) -> list[tuple[int, str]]:
    """Who may be handed over: everyone for an administrator, else the caller's team."""
    return user_choices(ctx, include_self=False)


def records(ctx, user_id: int) -> dict:
    """What the departing user holds, listed through the door (a kind the caller may not
    read is None; the counts of the preview still cover every record)."""
    from modules.contacts.accounts import list_accounts
    from modules.contacts.tasks import list_tasks
    from modules.opportunities.listing import list_opportunities

    def arg(values: dict):
        return lambda name: values.get(name)

    limit = str(LISTED)
    params = ListParams.parse(arg({"limit": limit}), "name")
    accounts = optional(list_accounts, ctx, params, arg({"owner": str(user_id)}))
    deals = optional(list_opportunities, ctx, {"owner": str(user_id), "status": "open",
                                               "limit": limit})
    task_params = ListParams.parse(arg({"limit": limit}), "due_at")
    tasks = optional(list_tasks, ctx, task_params, arg({"assignee": str(user_id), "done": "0"}))
    return {"accounts": accounts["items"] if accounts else None,
            "deals": deals["items"] if deals else None,
            "tasks": tasks["items"] if tasks else None}


def step_one(page: AreaPage, errors: dict | None = None, chosen: dict | None = None,
             status: int = 200) -> None:
    """Render the choice form (again, with the service's problems next to the fields)."""
    require_right(page.ctx)
    page.set_status(status)
    page.render_page("customers/handover.html", sources=from_choices(page.ctx),
                     receivers=user_choices(page.ctx), errors=errors or {},
                     chosen=chosen or {"from": "", "to": []})


class HandoverPage(AreaPage):
    """Step 1 (`GET`) and step 3 (`POST`: execute)."""

    def get(self) -> None:
        step_one(self)

    def post(self) -> None:
        from modules.contacts import handover

        require_right(self.ctx)
        source = self.get_body_argument("from", "").strip()
        receivers = [t.strip() for t in self.get_body_arguments("to") if t.strip()]
        try:
            result = handover.execute(self.ctx, source, receivers)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            step_one(self, exc.fields or {}, {"from": source, "to": receivers}, 422)
            return
        self.render_page("customers/handover_done.html", result=result)


class HandoverPreviewPage(AreaPage):
    """Step 2: what would move, and a confirm button posting the same choice."""

    def get(self) -> None:
        from modules.contacts import handover

        require_right(self.ctx)
        source = self.arg("from") or ""
        receivers = [t.strip() for t in self.get_query_arguments("to") if t.strip()]
        try:
            preview = handover.preview(self.ctx, source, receivers)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            step_one(self, exc.fields or {}, {"from": source, "to": receivers}, 422)
            return
        self.render_page("customers/handover_preview.html", preview=preview,
                         listed=records(self.ctx, preview["from"]["id"]),
                         receivers=[str(u["id"]) for u in preview["to"]])
