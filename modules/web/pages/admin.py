"""`/admin/...`: the administration pages (系统管理) — users, the department tree, roles and
their assignment per division; the field-rules matrix and row scopes (`admin_rules_pages`);
the audit viewer (`admin_audit_pages`).

Handlers only parse, call the services in `admin_services` / `admin_policy` / `admin_audit`
(which check the door and audit every change) and render. Who may open a page is the
door's answer for the resources the matching JSON API guards; anyone else gets a 403 page.
"""
from __future__ import annotations

from urllib.parse import urlencode

from modules.web.pages import admin_policy, admin_services
from modules.web.shell import PageHandler

ADMIN_PAGES = (("users", "/admin/users"), ("departments", "/admin/departments"),
               ("roles", "/admin/roles"), ("fields", "/admin/fields"),
               ("scopes", "/admin/scopes"), ("audit", "/admin/audit"))


class AdminPage(PageHandler):
    """An administration page: signed in (the shell) and allowed to open `page` (403)."""

    page = ""

    def prepare(self) -> None:
        super().prepare()
        if not self._finished:
            admin_services.require_page(self.ctx, self.page)

    def admin_tabs(self) -> list[dict]:
        """The administration pages this caller may open (the sub-navigation)."""
        return [{"key": key, "url": url, "active": key == self.page}
                for key, url in ADMIN_PAGES if admin_services.can_open(self.ctx, key)]

    def render_admin(self, template: str, **kwargs) -> None:
        self.render_page(f"admin/{template}", tabs=self.admin_tabs(), current_tab=self.page,
                         can_edit=admin_services.can_edit(self.ctx, self.page), **kwargs)

    def int_query(self, name: str, default: int = 1) -> int:
        value = self.get_query_argument(name, "") or ""
        return int(value) if value.isdigit() and len(value) < 10 else default


class AdminIndexPage(PageHandler):
    """`/admin`: the first administration page the caller may open (403 when none)."""

    def get(self) -> None:
        for key, url in ADMIN_PAGES:
            if admin_services.can_open(self.ctx, key):
                self.redirect(url)
                return
        admin_services.require_page(self.ctx, "users")  # raises the 403


# ------------------------------------------------------------------ users
class UsersPage(AdminPage):
    """`GET /admin/users?q=&active=&page=` the directory; `POST` creates a user."""

    page = "users"

    def get(self) -> None:
        q, active = self.get_query_argument("q", ""), self.get_query_argument("active", "")
        result = admin_services.list_users(self.ctx, q, active, self.int_query("page"))
        self.render_admin("users.html", result=result, q=q, active=active,
                          departments=admin_services.department_names(),
                          roles=admin_policy.roles())

    def post(self) -> None:
        form = self.form_dict()
        min_length = self.app_settings["security"]["password_min_length"]
        user = admin_services.create_user(self.ctx, form, min_length)
        self.redirect_after_post("/admin/users?" + urlencode({"q": user.login}))


class UserActivePage(AdminPage):
    """`POST /admin/users/<id>/active` with `active=1|0`: enable or disable the user; an htmx
    request gets the re-rendered table row."""

    page = "users"

    def post(self, user_id: str) -> None:
        active = self.form_dict().get("active") == "1"
        user = admin_services.set_user_active(self.ctx, int(user_id), active)
        if not self.is_htmx:
            self.redirect_after_post("/admin/users?" + urlencode({"q": user.login}))
            return
        self.render_page("admin/user_row.html", u=admin_services.user_row(self.ctx, user.id),
                         can_edit=True)


# ------------------------------------------------------------------ departments
class DepartmentsPage(AdminPage):
    """`GET /admin/departments` the tree per division; `POST` adds a department."""

    page = "departments"

    def get(self) -> None:
        self.render_admin("departments.html",
                          divisions=admin_services.department_tree(self.ctx))

    def post(self) -> None:
        admin_services.create_department(self.ctx, self.form_dict())
        self.redirect_after_post("/admin/departments")


# ------------------------------------------------------------------ roles
class RolesPage(AdminPage):
    """`GET /admin/roles?role=&division=` the role catalogue and who holds which role in
    which division; `POST` with `op=assign|unassign`, `user`, `role`, `division`."""

    page = "roles"

    def get(self) -> None:
        role, division = self.get_query_argument("role", ""), self.get_query_argument(
            "division", "")
        self.render_admin("roles.html", roles=admin_policy.roles(),
                          domains=admin_policy.domains(), role=role, division=division,
                          assignments=admin_policy.assignments(self.ctx, role, division))

    def post(self) -> None:
        form = self.form_dict()
        if form.get("op") == "unassign":
            admin_policy.unassign(self.ctx, form)
        else:
            admin_policy.assign(self.ctx, form)
        self.redirect_after_post("/admin/roles?" + urlencode({"role": form.get("role", "")}))


def routes() -> list:
    from modules.web.pages.admin_audit_pages import routes as audit_routes
    from modules.web.pages.admin_rules_pages import routes as rules_routes

    return [
        (r"/admin/?", AdminIndexPage),
        (r"/admin/users", UsersPage),
        (r"/admin/users/([0-9]+)/active", UserActivePage),
        (r"/admin/departments", DepartmentsPage),
        (r"/admin/roles", RolesPage),
        *rules_routes(),
        *audit_routes(),
    ]
