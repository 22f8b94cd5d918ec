"""Administration pages over HTTP: who may open them, the field-rules matrix holding in the
UI (a rule changed by the admin hides / masks the field on the restricted user's lead page),
role assignment, user create / disable, the audit viewer and its "verify chain" button, and
escaping of user-supplied names."""
from __future__ import annotations

import re

import pytest

from tests.support import ADMIN_LOGIN

ADMIN_PAGES = ["/admin/users", "/admin/departments", "/admin/roles", "/admin/fields",
               "/admin/scopes", "/admin/audit", "/admin/fields?model=contact&domain=IA",
               "/admin/scopes?role=finance&domain=MD"]
WRITES = [("/admin/users", {"login": "x.y", "name": "X"}),
          ("/admin/departments", {"division_id": "1", "code": "X", "name": "X"}),
          ("/admin/roles", {"op": "assign", "user": "li.na", "role": "admin", "division": "*"}),
          ("/admin/fields/cell", {"role": "sales_rep", "domain": "*", "model": "lead",
                                  "field": "mobile", "level": "write"}),
          ("/admin/scopes/cell", {"role": "sales_rep", "domain": "*", "model": "lead",
                                  "op": "read", "level": "all"}),
          ("/admin/audit/verify", {})]
MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")


def assert_translated(response) -> None:
    assert "X-Huike-I18n-Missing" not in response.headers, response.headers[
        "X-Huike-I18n-Missing"]


def casbin_lines(role: str, resource: str) -> set[tuple[str, str]]:
    from security.policy.models import CasbinRule
    return {(r.v1, r.v3) for r in CasbinRule.select().where(
        CasbinRule.ptype == "p", CasbinRule.v0 == role, CasbinRule.v2 == resource)}


@pytest.fixture(scope="module")
def admin(web_server):
    """One admin client for the module (a TOTP code is single-use: sign in once)."""
    from modules.web.tests.conftest import PageClient
    return PageClient(web_server.base_url).sign_in(ADMIN_LOGIN)


@pytest.mark.parametrize("login", ["li.na", "wang.fang", "hu.bin", "qian.jin"])
def test_non_admins_get_403_on_every_admin_page(page_client, login):
    client = page_client(login)
    for path in ADMIN_PAGES + ["/admin"]:
        answer = client.get(path)
        assert answer.status_code == 403, (login, path, answer.status_code)
        assert "text/html" in answer.headers["Content-Type"]
        assert_translated(answer)
    for path, form in WRITES:
        answer = client.post(path, data=form)
        assert answer.status_code == 403, (login, path, answer.status_code)
    # and the menu offers no administration entry to them
    assert 'href="/admin' not in client.get("/leads").text


def test_auditor_reads_the_audit_log_only(page_client):
    client = page_client("deng.li")
    audit = client.get("/admin/audit")
    assert audit.status_code == 200
    assert_translated(audit)
    assert 'data-tab="fields"' not in audit.text
    verify = client.htmx("POST", "/admin/audit/verify")
    assert verify.status_code == 200 and 'id="verify-ok"' in verify.text
    for path in ("/admin/users", "/admin/fields", "/admin/scopes", "/admin/roles"):
        assert client.get(path).status_code == 403, path


def test_admin_opens_every_page_in_both_languages(admin):
    for lang in ("zh_CN", "en"):
        admin.session.cookies.set("huike_lang", lang)
        for path in ADMIN_PAGES:
            answer = admin.get(path)
            assert answer.status_code == 200, (lang, path, answer.text[:500])
            assert_translated(answer)
    admin.session.cookies.set("huike_lang", "zh_CN")
    assert admin.get("/admin").headers["Location"] == "/admin/users"


def _lead_of(login: str):
    """A lead owned by `login` that has a mobile number (demo data)."""
    from modules.base.models import User
    from modules.leads.models import Lead
    from modules.leads.normalise import phone_display

    owner = User.get(User.login == login)
    lead = (Lead.select().where(Lead.owner == owner, Lead.mobile.is_null(False))
            .order_by(Lead.id).first())
    assert lead is not None, "demo data: a lead of li.na with a mobile"
    digits = re.sub(r"\D", "", lead.mobile)[-11:]
    return lead.id, digits, phone_display(lead.mobile)


def _page_digits(html: str) -> str:
    return re.sub(r"\D", "", html)


def test_field_rule_changed_in_the_matrix_holds_on_the_restricted_users_page(
        admin, page_client):
    lead_id, digits, shown = _lead_of("li.na")
    rep = page_client("li.na")
    before = rep.get(f"/leads/{lead_id}")
    assert before.status_code == 200
    assert digits in _page_digits(before.text) or shown in before.text

    # the admin masks sales_rep's lead.mobile in every division, in place (htmx)
    cell = admin.htmx("POST", "/admin/fields/cell", data={
        "role": "sales_rep", "domain": "*", "model": "lead", "field": "mobile",
        "level": "masked"})
    assert cell.status_code == 200, cell.text
    assert 'data-level="masked"' in cell.text and 'data-explicit="masked"' in cell.text
    assert casbin_lines("sales_rep", "field/lead/mobile") == {("*", "masked")}
    matrix = admin.get("/admin/fields?model=lead")
    row = re.search(r'<tr data-field="mobile">(.*?)</tr>', matrix.text, re.S).group(1)
    assert re.search(r'data-role="sales_rep" data-level="masked" data-explicit="masked"', row)

    masked = rep.get(f"/leads/{lead_id}")
    assert masked.status_code == 200
    assert digits not in masked.text and shown not in masked.text
    assert MASKED_PHONE.search(masked.text)  # 138****8001
    # the server refuses the write anyway (the door, not the page)
    refused = rep.session.patch(f"{rep.base_url}/api/v1/leads/{lead_id}",
                                json={"mobile": "13900000000"}, timeout=30)
    assert refused.status_code == 403, refused.text

    # hidden: absent from the HTML altogether
    admin.htmx("POST", "/admin/fields/cell", data={
        "role": "sales_rep", "domain": "*", "model": "lead", "field": "mobile",
        "level": "hidden"})
    hidden = rep.get(f"/leads/{lead_id}")
    assert hidden.status_code == 200
    assert digits not in _page_digits(hidden.text) and not MASKED_PHONE.search(hidden.text)

    # back to the default: the rule line is gone and the rep sees the number again
    back = admin.htmx("POST", "/admin/fields/cell", data={
        "role": "sales_rep", "domain": "*", "model": "lead", "field": "mobile", "level": ""})
    assert 'data-explicit=""' in back.text and 'data-level="write"' in back.text
    assert casbin_lines("sales_rep", "field/lead/mobile") == set()
    again = rep.get(f"/leads/{lead_id}")
    assert digits in _page_digits(again.text) or shown in again.text

    # every change is a permission_change entry in the audit log, shown by the viewer
    log = admin.get("/admin/audit?action=permission_change")
    assert log.status_code == 200
    assert log.text.count("field/lead/mobile") >= 3


def test_contact_field_rule_holds_for_finance(admin, page_client):
    """finance sees contact mobiles masked (seed); the admin opens them read-only, then hides
    them: each state shows on hu.bin's contact page, and the digits only when allowed."""
    from modules.base.models import Division
    from modules.contacts.models import Account, Contact

    ia = Division.get(Division.code == "IA")
    contact = (Contact.select().join(Account).where(Account.division == ia.id,
                                                    Contact.mobile.is_null(False))
               .order_by(Contact.id).first())
    assert contact is not None, "demo data: an IA contact with a mobile"
    digits = re.sub(r"\D", "", contact.mobile)[-11:]
    finance = page_client("hu.bin")

    def show() -> str:
        answer = finance.get(f"/contacts/{contact.id}")
        assert answer.status_code == 200
        assert_translated(answer)
        return answer.text

    masked = show()
    assert digits not in _page_digits(masked) and digits[:3] + "****" + digits[-4:] in masked

    def set_level(level: str) -> None:
        cell = admin.htmx("POST", "/admin/fields/cell", data={
            "role": "finance", "domain": "*", "model": "contact", "field": "mobile",
            "level": level})
        assert cell.status_code == 200, cell.text

    set_level("read")
    assert digits in _page_digits(show())
    set_level("hidden")
    hidden = show()
    assert digits not in _page_digits(hidden) and not MASKED_PHONE.search(hidden)
    set_level("masked")
    assert digits not in _page_digits(show())
    assert casbin_lines("finance", "field/contact/mobile") == {("*", "masked")}


def test_matrix_refuses_bad_input_naming_the_field(admin):
    bad = admin.htmx("POST", "/admin/fields/cell", data={
        "role": "sales_rep", "domain": "*", "model": "lead", "field": "nope",
        "level": "masked"})
    assert bad.status_code == 422 and "field" in bad.text
    bad = admin.htmx("POST", "/admin/fields/cell", data={
        "role": "sales_rep", "domain": "*", "model": "lead", "field": "mobile",
        "level": "visible"})
    assert bad.status_code == 422 and "level" in bad.text
    assert admin.post("/admin/fields/cell", data={"role": "sales_rep", "model": "lead"},
                      headers={"X-XSRF-Token": "forged"}).status_code == 403


def test_scope_edit_widens_what_the_rep_sees(admin, page_client, web_install):
    from modules.base.models import User
    from modules.leads.models import Lead

    li_na = User.get(User.login == "li.na")
    division = li_na.department.division
    other = (Lead.select().where(Lead.division == division.id, Lead.owner != li_na.id,
                                 Lead.pool_entered_at.is_null())  # pool leads are public
             .order_by(Lead.id).first())
    assert other is not None, "demo data: a colleague's lead in li.na's division"
    rep = page_client("li.na")
    assert rep.get(f"/leads/{other.id}").status_code == 404
    row = admin.htmx("POST", "/admin/scopes/cell", data={
        "role": "sales_rep", "domain": division.code, "model": "lead", "op": "read",
        "level": "division"})
    assert row.status_code == 200 and 'data-explicit="division"' in row.text
    assert rep.get(f"/leads/{other.id}").status_code == 200
    admin.htmx("POST", "/admin/scopes/cell", data={
        "role": "sales_rep", "domain": division.code, "model": "lead", "op": "read",
        "level": ""})
    assert rep.get(f"/leads/{other.id}").status_code == 404
    assert casbin_lines("sales_rep", "scope/lead") == {("*", "read:own"), ("*", "write:own")}


def test_audit_verify_button_answers_ok(admin):
    page = admin.get("/admin/audit")
    assert 'id="verify-button"' in page.text and 'hx-post="/admin/audit/verify"' in page.text
    fragment = admin.htmx("POST", "/admin/audit/verify")
    assert fragment.status_code == 200
    assert 'id="verify-ok"' in fragment.text and 'id="verify-broken"' not in fragment.text
    full = admin.post("/admin/audit/verify")
    assert full.status_code == 200 and 'id="verify-ok"' in full.text
    assert admin.get("/admin/audit?after=abc").status_code == 422


def test_script_in_a_display_name_renders_as_text(admin):
    from modules.base.models import User
    from modules.web.tests.conftest import PageClient

    name = "<script>alert('x')</script>王"
    created = admin.post("/admin/users", data={
        "login": "evil.name", "name": name, "password": "Evil-name-2026!x",
        "role": "sales_rep",
        "department_id": str(User.get(User.login == "li.na").department_id)})
    assert created.status_code == 303, created.text[:500]
    listing = admin.get("/admin/users?q=evil")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;王" in listing.text
    assert "<script>alert" not in listing.text
    audit = admin.get("/admin/audit?actor=admin&action=create")
    assert "evil.name" in audit.text and "<script>alert" not in audit.text
    # the user's own pages show the name escaped in the header
    own = PageClient(admin.base_url).sign_in("evil.name", "Evil-name-2026!x")
    home = own.get("/leads")
    assert "&lt;script&gt;" in home.text and "<script>alert" not in home.text


def test_admin_creates_assigns_and_disables_a_user(admin, page_client):
    from modules.base.models import User
    from security.audit.models import AuditEntry

    answer = admin.htmx("POST", "/admin/users", data={
        "login": "new.rep", "name": "新销售", "email": "new.rep@huike-demo.example",
        "password": "New-rep-2026!x", "role": "sales_rep",
        "department_id": str(User.get(User.login == "li.na").department_id)})
    assert answer.status_code == 200 and answer.headers["HX-Redirect"].startswith("/admin/users")
    user = User.get(User.login == "new.rep")
    roles = admin.get("/admin/roles?role=sales_rep")
    assert "new.rep" in roles.text
    duplicate = admin.htmx("POST", "/admin/users", data={"login": "new.rep", "name": "x"})
    assert duplicate.status_code == 409 and "login" in duplicate.text
    missing = admin.htmx("POST", "/admin/users", data={"login": "", "name": ""})
    assert missing.status_code == 422 and "login" in missing.text

    rep = page_client("new.rep", "New-rep-2026!x")
    assert rep.get("/leads").status_code == 200
    row = admin.htmx("POST", f"/admin/users/{user.id}/active", data={"active": "0"})
    assert row.status_code == 200 and 'data-action="enable"' in row.text
    assert rep.get("/leads").status_code == 302  # the session ended with the account
    assert User.get_by_id(user.id).active is False
    assert AuditEntry.select().where(AuditEntry.model == "base_user",
                                     AuditEntry.res_id == user.id).count() >= 2
    me = User.get(User.login == ADMIN_LOGIN)
    self_disable = admin.htmx("POST", f"/admin/users/{me.id}/active", data={"active": "0"})
    assert self_disable.status_code == 422

    unassign = admin.post("/admin/roles", data={"op": "unassign", "user": "new.rep",
                                                "role": "sales_rep", "division": "IA"})
    assert unassign.status_code == 303
    assert "new.rep" not in admin.get("/admin/roles?role=sales_rep").text
