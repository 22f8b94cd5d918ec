"""Contact pages (联系人): the list (search by name, filter by account or decision role) and
the detail with the contact's timeline and tasks. Contacts follow their account's visibility;
their channels (mobile, phone, e-mail, WeChat) come from the service already masked for a
caller who may only see the mask — the page prints exactly what it receives.

    GET  /contacts            list (q, account, decision_role, sort, after)
    GET  /contacts/<id>       detail;  POST /contacts/<id>  edit the writable fields
"""
from __future__ import annotations

from urllib.parse import urlencode

from core.web.base import APIError
from modules.contacts.models import DECISION_ROLES, Contact
from modules.contacts.paging import ListParams
from modules.web.pages.customers_common import AreaPage, Spec, field_views, form_values, levels

ROLES = tuple((r, f"customers.role.{r}") for r in DECISION_ROLES)
CONTACT_SPECS = (
    Spec("name"), Spec("account", "ref", label_key="account_name", editable=False),
    Spec("title"), Spec("department_name"), Spec("mobile", "tel"), Spec("phone", "tel"),
    Spec("email", "email"), Spec("wechat"), Spec("decision_role", "select", ROLES, blank=True),
    Spec("birthday", "date"),
    Spec("created_at", "datetime", editable=False), Spec("updated_at", "datetime", editable=False),
)
LIST_COLUMNS = ("name", "account", "title", "mobile", "email", "decision_role")
FILTERS = ("q", "account", "decision_role", "sort")


class ContactListPage(AreaPage):
    """`GET /contacts`: contacts of the accounts in the caller's scope, 50 a page."""

    def get(self) -> None:
        from modules.contacts.people import list_contacts

        page = list_contacts(self.ctx, ListParams.parse(self.arg, "name"), self.arg)
        read = levels(self.ctx, Contact)
        filters = {k: self.arg(k) for k in FILTERS if self.arg(k)}
        more = urlencode({**filters, "after": page["next"]}) if page["next"] else None
        self.render_page("customers/contacts.html", items=page["items"], filters=filters,
                         columns=[c for c in LIST_COLUMNS if read.get(c, "hidden") != "hidden"],
                         more=more, roles_choices=ROLES)


class ContactDetailPage(AreaPage):
    """`GET /contacts/<id>` (404 outside the caller's scope); `POST` edits it."""

    def get(self, contact_id: str) -> None:
        self.show(self.pk(contact_id))

    def show(self, pk: int, errors: dict | None = None, status: int = 200) -> None:
        import security
        from modules.contacts.common import in_write_scope
        from modules.contacts.people import get_contact
        from modules.web.pages.customers_timeline import timeline

        ctx = self.ctx
        contact = get_contact(ctx, pk)
        can_edit = (security.can(ctx, "write", "model/contact")
                    and in_write_scope(ctx, Contact, pk))
        fields = field_views(self._, "customers.contact", contact, CONTACT_SPECS,
                             levels(ctx, Contact), levels(ctx, Contact, "write"), can_edit,
                             errors)
        self.set_status(status)
        self.render_page("customers/contact.html", contact=contact, fields=fields,
                         can_edit=can_edit and any(f["level"] == "write" for f in fields),
                         errors=errors or {}, tl=timeline(ctx, "contact", pk), form={})

    def post(self, contact_id: str) -> None:
        from modules.contacts.people import update_contact

        pk = self.pk(contact_id)
        data = form_values(self.form_dict(), [s for s in CONTACT_SPECS if s.editable])
        try:
            update_contact(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.show(pk, errors=exc.fields or {}, status=422)
            return
        self.go(f"/contacts/{pk}")
