"""Leads pages (线索): the list with search, filters and saved views, and the lead's detail with
its activity timeline, tasks, score breakdown, duplicates and status SOP — plus the route table
of every leads page (quick create, import wizard, pool, merge and convert live in the
`leads_*.py` files next to this one).

    GET  /leads                      list (filters q, status, source, owner, region, sort)
    POST /leads/views[/delete]       save / forget a view of the list
    GET  /leads/new, POST /leads/new one-screen quick create
    GET  /leads/<id>                 detail;  POST /leads/<id> edit
    POST /leads/<id>/status          SOP move (missing required fields asked in place)
    POST /leads/<id>/activities      log a follow-up
    GET  /leads/import …             the import wizard (`leads_import.py`)
    GET  /leads/pool, POST /leads/<id>/claim|release   the public pool (`leads_pool.py`)
    GET/POST /leads/merge, /leads/<id>/convert          (`leads_actions.py`)
"""
from __future__ import annotations

from modules.contacts.paging import ListParams
from modules.web.pages.leads_common import (FILTER_KEYS, LIST_COLUMNS, SORT_CHOICES, LeadsPage,
                                            add_owner_names, filter_query, query_string)


class LeadListPage(LeadsPage):
    """`GET /leads`: the caller's leads (their row scope), 50 a page, keyset `after`."""

    def get(self) -> None:
        from modules.leads.services import list_leads
        from modules.web.pages import leads_views

        page = list_leads(self.ctx, ListParams.parse(self.arg), self.arg)
        items = add_owner_names(self.ctx, page["items"])
        filters = filter_query(self.arg)
        levels = self.levels()
        columns = [c for c in LIST_COLUMNS if levels.get(c, "hidden") != "hidden"]
        more = query_string(filters, after=page["next"]) if page["next"] else None
        partial = self.is_htmx and self.request.headers.get("HX-Target") == "ld-rows"
        template = "leads/_rows.html" if partial else "leads/list.html"
        self.render_lead_page(template, items=items, columns=columns, filters=filters,
                              more=more, current_query=query_string(filters),
                              views=leads_views.load(self), sort_choices=SORT_CHOICES,
                              filter_keys=FILTER_KEYS)


class LeadDetailPage(LeadsPage):
    """`GET /leads/<id>`: the lead as the caller may see it; `POST`: change editable fields."""

    def get(self, lead_id: str) -> None:
        self.show(self.pk(lead_id))

    def show(self, pk: int, errors: dict | None = None, status: int = 200) -> None:
        from modules.web.pages.leads_detail import render_detail

        render_detail(self, pk, errors=errors, status=status)

    def post(self, lead_id: str) -> None:
        from core.web.base import APIError
        from modules.leads.services import update_lead
        from modules.web.pages.leads_common import FORM_FIELDS, form_values

        pk = self.pk(lead_id)
        form = self.form_dict()
        data = form_values(form, (*FORM_FIELDS, "owner"))
        try:
            update_lead(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise  # 403 forbidden fields, 404, 409: the shell's error page says why
            self.show(pk, errors=exc.fields or {}, status=self.refused_status)
            return
        self.go(f"/leads/{pk}")


class LeadStatusPage(LeadsPage):
    """`POST /leads/<id>/status`: move the lead through the SOP. A refusal for missing
    required fields re-renders the status panel asking for exactly those fields."""

    def post(self, lead_id: str) -> None:
        from core.web.base import APIError
        from modules.leads.sop import change_status

        pk = self.pk(lead_id)
        form = self.form_dict()
        data = {k: v.strip() for k, v in form.items()
                if k not in ("_xsrf",) and isinstance(v, str) and v.strip()}
        try:
            change_status(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.status_panel(pk, exc.fields or {}, data)
            return
        self.go(f"/leads/{pk}")

    def status_panel(self, pk: int, errors: dict, form: dict) -> None:
        from modules.web.pages.leads_detail import render_detail

        render_detail(self, pk, errors=errors, status_form=form,
                      status=self.refused_status,
                      template="leads/_status.html" if self.is_htmx else "leads/detail.html")


class LeadActivityPage(LeadsPage):
    """`POST /leads/<id>/activities`: log a call / visit / note on the lead (stops its SLA
    clock), through the leads activity service."""

    def post(self, lead_id: str) -> None:
        from core.web.base import APIError
        from modules.leads.lead_activities import log_lead_activity

        pk = self.pk(lead_id)
        form = self.form_dict()
        data = {k: form[k].strip() for k in ("kind", "subject", "content", "address")
                if isinstance(form.get(k), str) and form[k].strip()}
        try:
            log_lead_activity(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            from modules.web.pages.leads_detail import render_detail

            problems = {f"activity.{k}": v for k, v in (exc.fields or {}).items()}
            render_detail(self, pk, status=self.refused_status, errors=problems)
            return
        self.go(f"/leads/{pk}#timeline")


def routes() -> list:
    from modules.web.pages import leads_actions as actions
    from modules.web.pages import leads_import as imports
    from modules.web.pages import leads_new, leads_pool, leads_views

    return [
        (r"/leads", LeadListPage),
        (r"/leads/views", leads_views.ViewsHandler),
        (r"/leads/views/(delete)", leads_views.ViewsHandler),
        (r"/leads/new", leads_new.QuickCreatePage),
        (r"/leads/pool", leads_pool.PoolPage),
        (r"/leads/merge", actions.MergePage),
        *imports.routes(),
        (r"/leads/(\d+)", LeadDetailPage),
        (r"/leads/(\d+)/status", LeadStatusPage),
        (r"/leads/(\d+)/activities", LeadActivityPage),
        (r"/leads/(\d+)/claim", leads_pool.ClaimPage),
        (r"/leads/(\d+)/release", leads_pool.ReleasePage),
        (r"/leads/(\d+)/convert", actions.ConvertPage),
    ]
