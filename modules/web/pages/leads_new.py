"""One-screen quick create of a lead (`/leads/new`): the handful of fields a rep fills in on a
phone in under a minute. Only fields the caller may set on creation are offered; the lead is
created by `services.create_lead` (field rules, scope, scoring and assignment in one
transaction) and the rep lands on its detail page, where possible duplicates are shown.
Validation problems come back next to their fields (422)."""
from __future__ import annotations

from core.web.base import APIError
from modules.web.pages.leads_common import QUICK_FIELDS, LeadsPage, form_values


class QuickCreatePage(LeadsPage):
    def get(self) -> None:
        self.show({}, {})

    def show(self, values: dict, errors: dict, status: int = 200) -> None:
        levels = self.levels("create")
        fields = [name for name in QUICK_FIELDS if levels.get(name) == "write"]
        self.set_status(status)
        self.render_lead_page("leads/new.html", fields=fields, values=values, errors=errors)

    def post(self) -> None:
        from modules.leads.services import create_lead

        form = self.form_dict()
        data = form_values(form, QUICK_FIELDS)
        data = {k: v for k, v in data.items() if v is not None}
        try:
            created = create_lead(self.ctx, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.show(form, exc.fields or {}, status=self.refused_status)
            return
        self.go(f"/leads/{created['lead']['id']}?created=1")
