"""`/admin/fields` (the field-rules matrix: model × field × role) and `/admin/scopes` (row
scopes per role and model). Cells are edited in place with htmx: a cell's `<select>` posts
its new value and gets the re-rendered cell back; the change goes through
`security.policy.admin.put_rules` (validated, audited, policy version bumped).
"""
from __future__ import annotations

from urllib.parse import urlencode

from modules.web.pages import admin_policy
from modules.web.pages.admin import AdminPage
from security.policy.names import FIELD_LEVELS, SCOPE_LEVELS, WILDCARD

DEFAULT_MODEL = "lead"


class FieldsPage(AdminPage):
    """`GET /admin/fields?model=&domain=` the matrix of one model in one domain."""

    page = "fields"

    def get(self) -> None:
        models = admin_policy.model_fields(self.ctx)
        model = self.get_query_argument("model", "") or (
            DEFAULT_MODEL if DEFAULT_MODEL in models else next(iter(models)))
        domain = self.get_query_argument("domain", "") or WILDCARD
        matrix = admin_policy.field_matrix(self.ctx, model, domain)
        self.render_admin("fields.html", matrix=matrix, models=list(models),
                          domains=admin_policy.domains(), levels=FIELD_LEVELS)


class FieldCellPage(AdminPage):
    """`POST /admin/fields/cell` (`role`, `domain`, `model`, `field`, `level`; `level=""`
    removes the rule): answers the re-rendered cell (a full page redirect without htmx)."""

    page = "fields"

    def post(self) -> None:
        form = self.form_dict()
        cell = admin_policy.set_field_level(
            self.ctx, form.get("role", ""), form.get("domain") or WILDCARD,
            form.get("model", ""), form.get("field", ""), form.get("level", ""))
        if self.is_htmx:
            self.render_page("admin/field_cell.html", cell=cell, levels=FIELD_LEVELS,
                             can_edit=True, saved=True)
        else:
            self.redirect_after_post("/admin/fields?" + urlencode(
                {"model": cell["model"], "domain": cell["domain"]}))


class ScopesPage(AdminPage):
    """`GET /admin/scopes?role=&domain=` every model's read/write scope for one role."""

    page = "scopes"

    def get(self) -> None:
        roles = admin_policy.roles()
        role = self.get_query_argument("role", "") or (
            "sales_rep" if any(r["code"] == "sales_rep" for r in roles) else roles[0]["code"])
        domain = self.get_query_argument("domain", "") or WILDCARD
        self.render_admin("scopes.html", rows=admin_policy.scope_rows(self.ctx, role, domain),
                          roles=roles, role=role, domain=domain,
                          domains=admin_policy.domains(), levels=SCOPE_LEVELS)


class ScopeCellPage(AdminPage):
    """`POST /admin/scopes/cell` (`role`, `domain`, `model`, `op`, `level`; `level=""`
    removes the line): answers the re-rendered row."""

    page = "scopes"

    def post(self) -> None:
        form = self.form_dict()
        role, domain = form.get("role", ""), form.get("domain") or WILDCARD
        row = admin_policy.set_scope(self.ctx, role, domain, form.get("model", ""),
                                     form.get("op", ""), form.get("level", ""))
        if self.is_htmx:
            self.render_page("admin/scope_row.html", row=row, role=role, domain=domain,
                             levels=SCOPE_LEVELS, can_edit=True, saved=True)
        else:
            self.redirect_after_post("/admin/scopes?" + urlencode({"role": role, "domain": domain}))


def routes() -> list:
    return [
        (r"/admin/fields", FieldsPage),
        (r"/admin/fields/cell", FieldCellPage),
        (r"/admin/scopes", ScopesPage),
        (r"/admin/scopes/cell", ScopeCellPage),
    ]
