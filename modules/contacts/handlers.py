"""HTTP API of the contacts module: the shared handler base and the route table.

Handlers parse, call a service, serialise; every rule (scope, field rules, pool, handover
rights) lives in the services. Accounts and contacts are in `handlers_accounts.py`,
activities, tasks, timelines and handover in `handlers_work.py`.
"""
from __future__ import annotations

from core.web.base import APIError, BaseHandler
from modules.contacts.common import as_pk
from modules.contacts.paging import ListParams


class ContactsApiHandler(BaseHandler):
    """Every route needs a signed-in caller."""

    def prepare(self) -> None:
        super().prepare()
        self.require_user()

    def pk(self, text: str) -> int:
        """A record id from the URL; one too large to exist is simply not found."""
        found = as_pk(text)
        if found is None:
            raise APIError(404, f"记录不存在 / record {text} not found", code="not_found")
        return found

    def arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value not in (None, "") else None

    def list_params(self, default_sort: str = "-id") -> ListParams:
        return ListParams.parse(self.arg, default_sort)

    def body(self) -> dict:
        return self.json_body()

    def flag(self, data: dict, name: str, default: bool) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            raise APIError(400, f"{name} 必须是 true/false / {name} must be true or false",
                           fields={name: "boolean expected"})
        return value


def contacts_routes() -> list:
    from modules.contacts import handlers_accounts as acc
    from modules.contacts import handlers_work as work

    v1 = r"/api/v1"
    return [
        (rf"{v1}/accounts", acc.AccountsHandler),
        (rf"{v1}/accounts/check-duplicates", acc.DuplicatesHandler),
        (rf"{v1}/accounts/pool", acc.PoolHandler),
        (rf"{v1}/accounts/(\d+)", acc.AccountHandler),
        (rf"{v1}/accounts/(\d+)/claim", acc.ClaimHandler),
        (rf"{v1}/accounts/(\d+)/release", acc.ReleaseHandler),
        (rf"{v1}/contacts", acc.ContactsHandler),
        (rf"{v1}/contacts/(\d+)", acc.ContactHandler),
        (rf"{v1}/activities", work.ActivitiesHandler),
        (rf"{v1}/activities/(\d+)", work.ActivityHandler),
        (rf"{v1}/tasks", work.TasksHandler),
        (rf"{v1}/tasks/(\d+)", work.TaskHandler),
        (rf"{v1}/tasks/(\d+)/complete", work.TaskCompleteHandler),
        (rf"{v1}/timeline/(\w+)/(\d+)", work.TimelineHandler),
        (rf"{v1}/handover/preview", work.HandoverPreviewHandler),
        (rf"{v1}/handover", work.HandoverHandler),
    ]
