"""The administration pages in Debian's headless Chromium: the field matrix edited in place
(htmx swaps the cell, the rule is stored), the verify button, and the pages at phone width."""
from __future__ import annotations

from tests.support import ADMIN_LOGIN

CELL = 'tr[data-field="email"] td[data-role="finance"]'


def _rule(role: str, resource: str) -> set[tuple[str, str]]:
    from security.policy.models import CasbinRule
    return {(r.v1, r.v3) for r in CasbinRule.select().where(
        CasbinRule.ptype == "p", CasbinRule.v0 == role, CasbinRule.v2 == resource)}


def test_matrix_cell_changes_in_place_and_verify_answers(page, ui_login):
    ui_login(page, ADMIN_LOGIN)
    page.goto("/admin/fields?model=contact&domain=*")
    assert page.get_attribute(CELL, "data-explicit") == "masked"  # seeded: finance sees a mask
    page.select_option(f"{CELL} select", "read")
    page.wait_for_selector(f'{CELL}[data-explicit="read"]')
    assert _rule("finance", "field/contact/email") == {("*", "read")}
    page.select_option(f"{CELL} select", "masked")
    page.wait_for_selector(f'{CELL}[data-explicit="masked"]')
    assert _rule("finance", "field/contact/email") == {("*", "masked")}

    page.goto("/admin/audit")
    page.click("#verify-button")
    page.wait_for_selector("#verify-ok")
    assert "field/contact/email" in page.content()  # the two changes are in the log


def test_admin_pages_fit_a_phone(phone_page, ui_login):
    ui_login(phone_page, ADMIN_LOGIN)
    for path in ("/admin/users", "/admin/fields", "/admin/scopes", "/admin/audit",
                 "/admin/roles", "/admin/departments"):
        phone_page.goto(path)
        assert phone_page.locator("h1").is_visible()
        overflow = phone_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (path, overflow)  # wide tables scroll inside their wrapper
