"""HTTP API of the leads module (part 1): lead CRUD, search, duplicates, merge, conversion;
the route table of this part. Handlers parse, call a service, answer — every rule (scope,
field rules, rights, conflicts) lives in the services.

    GET    /api/v1/leads                       list / search (filters, sort, keyset, fields)
    POST   /api/v1/leads                       create → 201 {"lead", "duplicates"}
    GET    /api/v1/leads/<id>                  one lead
    PATCH  /api/v1/leads/<id>                  change editable fields
    DELETE /api/v1/leads/<id>                  delete (managers)
    GET    /api/v1/leads/<id>/duplicates       matches among leads, contacts, accounts
    POST   /api/v1/leads/merge                 {"target", "sources", "fields"}
    POST   /api/v1/leads/<id>/convert          → account + contact (+ opportunity)

Capture (web forms) is in `handlers_capture.py`, imports in `handlers_import.py`.
"""
from __future__ import annotations

from core.web.base import APIError, BaseHandler
from modules.contacts.common import as_pk
from modules.contacts.paging import ListParams


class LeadsApiHandler(BaseHandler):
    """Every route of this base needs a signed-in caller."""

    def prepare(self) -> None:
        super().prepare()
        self.require_user()

    def pk(self, text: str) -> int:
        found = as_pk(text)
        if found is None:
            raise APIError(404, f"记录不存在 / record {text} not found", code="not_found")
        return found

    def arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if value not in (None, "") else None


class LeadsHandler(LeadsApiHandler):
    def get(self) -> None:
        from modules.leads.services import list_leads

        self.write_json(list_leads(self.ctx, ListParams.parse(self.arg), self.arg))

    def post(self) -> None:
        from modules.leads.services import create_lead

        self.write_json(create_lead(self.ctx, self.json_body()), 201)


class LeadHandler(LeadsApiHandler):
    def get(self, lead_id: str) -> None:
        from modules.leads.services import get_lead

        self.write_json(get_lead(self.ctx, self.pk(lead_id)))

    def patch(self, lead_id: str) -> None:
        from modules.leads.services import update_lead

        self.write_json(update_lead(self.ctx, self.pk(lead_id), self.json_body()))

    def delete(self, lead_id: str) -> None:
        from modules.leads.services import delete_lead

        delete_lead(self.ctx, self.pk(lead_id))
        self.set_status(204)
        self.finish()


class DuplicatesHandler(LeadsApiHandler):
    def get(self, lead_id: str) -> None:
        from modules.leads.dedupe import find

        self.write_json(find(self.ctx, self.pk(lead_id)))


class MergeHandler(LeadsApiHandler):
    def post(self) -> None:
        from modules.leads.merge import merge

        self.write_json(merge(self.ctx, self.json_body()))


class ConvertHandler(LeadsApiHandler):
    def post(self, lead_id: str) -> None:
        from modules.leads.convert import convert

        self.write_json(convert(self.ctx, self.pk(lead_id), self.json_body()))


def leads_routes() -> list:
    """The routes of part 1 (capture, import, records, dedupe, merge, convert)."""
    from modules.leads import handlers_capture as capture
    from modules.leads import handlers_import as imports

    v1 = r"/api/v1"
    return [
        (rf"{v1}/leads", LeadsHandler),
        (rf"{v1}/leads/merge", MergeHandler),
        (rf"{v1}/leads/(\d+)", LeadHandler),
        (rf"{v1}/leads/(\d+)/duplicates", DuplicatesHandler),
        (rf"{v1}/leads/(\d+)/convert", ConvertHandler),
        (rf"{v1}/leads/imports", imports.ImportsHandler),
        (rf"{v1}/leads/imports/(\d+)", imports.ImportHandler),
        (rf"{v1}/leads/imports/(\d+)/resume", imports.ResumeHandler),
        (rf"{v1}/leads/imports/(\d+)/errors", imports.ErrorsHandler),
        (rf"{v1}/leads/import-mappings", imports.MappingsHandler),
        (rf"{v1}/leads/forms", capture.FormsHandler),
        (rf"{v1}/leads/forms/(\d+)", capture.FormHandler),
        (rf"{v1}/forms/([A-Za-z0-9_-]{{1,64}})", capture.PublicFormHandler),
    ]
