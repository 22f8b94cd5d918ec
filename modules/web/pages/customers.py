"""Customer pages (客户): accounts and contacts lists and details with their activity timeline
and tasks, plus the route table of the area (contacts pages live in `customers_contacts.py`,
the timeline actions in `customers_timeline.py`, the handover wizard in
`customers_handover.py`).

    GET  /accounts                   list (q, lifecycle, value_tier, owner=me|none, sort, after)
    GET  /accounts/<id>              detail: fields, contacts, deals, timeline, tasks
    POST /accounts/<id>              edit the fields the caller may write
    GET  /contacts, /contacts/<id>   (customers_contacts.py)
    POST /accounts|contacts/<id>/activities|tasks, /tasks/<id>/complete   (timeline)
    GET  /handover, /handover/preview, POST /handover                   (handover wizard)
"""
from __future__ import annotations

from urllib.parse import urlencode

from core.web.base import APIError
from modules.contacts.models import LIFECYCLE_STAGES, VALUE_TIERS, Account
from modules.contacts.paging import ListParams
from modules.web.pages.customers_common import (AreaPage, Spec, field_views, form_values,
                                                levels, optional, user_choices)

LIFECYCLE = tuple((s, f"customers.lifecycle.{s}") for s in LIFECYCLE_STAGES)
TIERS = tuple((t, f"customers.tier.{t}") for t in VALUE_TIERS)
ACCOUNT_SPECS = (
    Spec("name"), Spec("short_name"), Spec("credit_code"), Spec("industry"),
    Spec("lifecycle", "select", LIFECYCLE), Spec("value_tier", "select", TIERS),
    Spec("region", "ref", label_key="region_name"),
    Spec("owner", "ref", label_key="owner_name"),
    Spec("parent", "ref", label_key="parent_name", editable=False),
    Spec("address"), Spec("website"),
    Spec("created_at", "datetime", editable=False), Spec("updated_at", "datetime", editable=False),
)
LIST_COLUMNS = ("name", "industry", "lifecycle", "value_tier", "owner", "updated_at")
FILTERS = ("q", "lifecycle", "value_tier", "owner", "sort")
SORTS = ("-id", "name", "-updated_at", "-created_at")


def region_choices(lang: str) -> list[tuple[int, str]]:
    """Regions (reference data, not business records) as `(id, label)`."""
    from modules.base.models import Region

    rows = Region.select(Region.id, Region.name, Region.name_en).order_by(Region.sequence,
                                                                         Region.id)
    return [(r.id, (r.name_en or r.name) if lang == "en" else r.name) for r in rows]


def add_labels(ctx, lang: str, item: dict) -> dict:
    """`region_name` and `parent_name` next to the ids the caller may read."""
    from modules.opportunities.present import labels

    if item.get("region"):
        item["region_name"] = dict(region_choices(lang)).get(item["region"])
    if item.get("parent"):
        item["parent_name"] = labels(ctx, Account, [item["parent"]]).get(item["parent"])
    return item


class AccountListPage(AreaPage):
    """`GET /accounts`: the accounts in the caller's read scope, 50 a page (keyset `after`)."""

    def get(self) -> None:
        from modules.contacts.accounts import list_accounts

        page = list_accounts(self.ctx, ListParams.parse(self.arg), self.arg)
        read = levels(self.ctx, Account)
        filters = {k: self.arg(k) for k in FILTERS if self.arg(k)}
        more = urlencode({**filters, "after": page["next"]}) if page["next"] else None
        self.render_page("customers/accounts.html", items=page["items"], filters=filters,
                         columns=[c for c in LIST_COLUMNS if read.get(c, "hidden") != "hidden"],
                         more=more, lifecycle=LIFECYCLE, tiers=TIERS, sorts=SORTS)


class AccountDetailPage(AreaPage):
    """`GET /accounts/<id>`: the account as the caller may see it (404 outside their scope);
    `POST`: change the fields they may write (the service refuses any other: 403)."""

    def get(self, account_id: str) -> None:
        self.show(self.pk(account_id))

    def show(self, pk: int, errors: dict | None = None, status: int = 200) -> None:
        import security
        from modules.contacts.accounts import get_account
        from modules.contacts.common import in_write_scope
        from modules.web.pages.customers_timeline import timeline

        ctx = self.ctx
        account = add_labels(ctx, self.lang, get_account(ctx, pk))
        can_edit = (security.can(ctx, "write", "model/account")
                    and in_write_scope(ctx, Account, pk))
        options = {"region": region_choices(self.lang),
                   "owner": user_choices(ctx) if can_edit else []}
        fields = field_views(self._, "customers.account", account, ACCOUNT_SPECS,
                             levels(ctx, Account), levels(ctx, Account, "write"), can_edit,
                             errors, options)
        self.set_status(status)
        self.render_page("customers/account.html", account=account, fields=fields,
                         can_edit=can_edit and any(f["level"] == "write" for f in fields),
                         errors=errors or {}, contacts=self.contacts(pk),
                         deals=self.deals(pk), tl=timeline(ctx, "account", pk), form={})

    def contacts(self, pk: int) -> list[dict] | None:
        from modules.contacts.people import list_contacts

        params = ListParams.parse(lambda name: "200" if name == "limit" else None, "name")
        found = optional(list_contacts, self.ctx, params,
                         lambda name: str(pk) if name == "account" else None)
        return found["items"] if found is not None else None

    def deals(self, pk: int) -> list[dict] | None:
        from modules.opportunities.listing import list_opportunities

        found = optional(list_opportunities, self.ctx, {"account": str(pk), "limit": "100"})
        return found["items"] if found is not None else None

    def post(self, account_id: str) -> None:
        from modules.contacts.accounts import update_account

        pk = self.pk(account_id)
        data = form_values(self.form_dict(), [s for s in ACCOUNT_SPECS if s.editable])
        try:
            update_account(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise  # 403 forbidden fields / out of scope, 404: the shell's error page
            self.show(pk, errors=exc.fields or {}, status=422)
            return
        self.go(f"/accounts/{pk}")


def routes() -> list:
    from modules.web.pages import customers_contacts as contacts
    from modules.web.pages import customers_handover as handover
    from modules.web.pages import customers_timeline as timeline

    return [
        (r"/accounts", AccountListPage),
        (r"/accounts/(\d+)", AccountDetailPage),
        (r"/contacts", contacts.ContactListPage),
        (r"/contacts/(\d+)", contacts.ContactDetailPage),
        *timeline.routes("/accounts", "account"),
        *timeline.routes("/contacts", "contact"),
        (r"/tasks/(\d+)/complete", timeline.TaskCompletePage),
        (r"/handover", handover.HandoverPage),
        (r"/handover/preview", handover.HandoverPreviewPage),
    ]
