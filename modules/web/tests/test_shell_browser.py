"""In Chromium (Debian's, headless, through Playwright): an administrator signs in with a TOTP
second factor enrolled during the test, sees the dashboard with its charts drawn, switches to
English and sees English menu labels; on a 390 px phone the menu folds behind a hamburger."""
from __future__ import annotations

import pyotp

from tests.support import ADMIN_PASSWORD


def test_admin_signs_in_with_totp_and_switches_to_english(page, web_server):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    assert "/login" in page.url  # no session: the sign-in form
    page.fill("#login", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/login/totp**")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#totp-code", pyotp.TOTP(secret).now())
    page.click("#totp-submit")
    page.wait_for_url(web_server.base_url + "/")
    assert page.inner_text(".hk-username") == "系统管理员"
    page.wait_for_selector("#panel-funnel .hk-chart[data-drawn='1'] canvas")
    assert page.locator("nav a[data-menu='leads']").inner_text() == "线索"

    page.click("a[data-lang='en']")
    page.wait_for_load_state()
    assert page.locator("nav a[data-menu='leads']").inner_text() == "Leads"
    assert page.locator("nav a[data-menu='admin_audit']").inner_text() == "Audit log"
    assert page.locator("h1").first.inner_text() == "Dashboard"
    assert errors == []

    # the second sign-in asks for the code with the password
    page.click(".hk-logout button")
    page.wait_for_url("**/login")
    page.fill("#login", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#login-error")
    totp = pyotp.TOTP(secret)
    import time
    page.fill("#password", ADMIN_PASSWORD)
    page.fill("#totp", totp.at(time.time() + 30))  # the next step: the current one is spent
    page.click("#login-submit")
    page.wait_for_url(web_server.base_url + "/")


def test_phone_width_menu_behind_a_hamburger(phone_page, ui_login):
    ui_login(phone_page, "li.na")
    nav = phone_page.locator("#hk-nav")
    assert not nav.is_visible()
    phone_page.click(".hk-burger")
    assert nav.is_visible()
    assert phone_page.locator("nav a[data-menu='leads']").is_visible()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width})"
