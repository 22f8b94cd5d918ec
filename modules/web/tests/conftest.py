"""Fixtures for the web UI tests: one live server per test module with the demo org loaded,
HTTP clients signed in through the UI's own login form, and a headless Chromium (Debian's
`/usr/bin/chromium`, driven by Playwright for Python).

- `web_install` (module): a migrated install (SQLite, or a PostgreSQL schema when
  `HUIKE_TEST_DATABASE_URL` is set) with `huike demo` data; admin `admin` / `ADMIN_PASSWORD`.
- `web_server` (module): a `LiveServer` with `huike_i18n_strict=True` (pages report untranslated
  keys in the `X-Huike-I18n-Missing` header).
- `page_client(login, password=DEMO_PASSWORD)` (function): a `PageClient` signed in through
  `/login` (enrolling / answering TOTP for admins with pyotp, like `tests.support.login`).
- `anon_client()`: a `PageClient` that is not signed in.
- `browser` (session): Chromium launched headless from `/usr/bin/chromium` (skips when missing).
- `page` (function): a fresh browser context and page (1280×800); `phone_page`: 390×844.
- `ui_login(page, login, password=DEMO_PASSWORD)`: sign a Playwright page in through the form.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import requests

from modules.base.demo import DEMO_PASSWORD
from tests.support import (
    ADMIN_LOGIN, ADMIN_PASSWORD, TEST_PG_URL, LiveServer, _TOTP_SECRETS, _TOTP_LAST_STEP,
    _totp_code, make_install, pg_schema_url,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-gpu"]
# one demo user per role, both divisions (see modules/base/demo.py)
ROLE_USERS = {
    "sales_rep_IA": "li.na", "sales_rep_MD": "gao.feng",
    "sales_manager_IA": "wang.fang", "sales_manager_MD": "he.jing",
    "finance_IA": "hu.bin", "finance_MD": "cao.yang",
    "dealer_IA": "qian.jin", "dealer_MD": "han.xue",
    "auditor": "deng.li", "admin": ADMIN_LOGIN,
}
SECRET_RE = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7]+)<')
XSRF_RE = re.compile(r'name="_xsrf" value="([^"]+)"')


def password_of(login: str) -> str:
    return ADMIN_PASSWORD if login == ADMIN_LOGIN else DEMO_PASSWORD


# ---------------------------------------------------------------------- install and server
@pytest.fixture(scope="module")
def web_install(tmp_path_factory):
    """A migrated install of every module with the demo org and its data loaded."""
    from core.demo import load_demo

    data_dir = tmp_path_factory.mktemp("web") / "data"
    with contextlib.ExitStack() as stack:
        url = (stack.enter_context(pg_schema_url(TEST_PG_URL)) if TEST_PG_URL
               else f"sqlite:///{data_dir / 'huike.db'}")
        inst = stack.enter_context(make_install(data_dir, url, environ={}))
        load_demo(inst.registry)
        yield inst


@pytest.fixture(scope="module")
def web_server(web_install):
    with LiveServer(web_install.registry, huike_i18n_strict=True) as live:
        yield live


# ---------------------------------------------------------------------- HTTP clients
class PageClient:
    """A cookie-keeping client of the HTML pages. `xsrf` is the session's XSRF token (sent as
    `X-XSRF-Token` on every request once signed in); redirects are not followed unless asked."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.xsrf: str | None = None
        self.login_name: str | None = None

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        url = path if path.startswith("http") else self.base_url + path
        return self.session.request(method, url, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def htmx(self, method: str, path: str, **kwargs) -> requests.Response:
        """A request as htmx sends it (`HX-Request: true`)."""
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.request(method, path, headers=headers, **kwargs)

    def form_token(self, path: str) -> str:
        """The `_xsrf` field of the page at `path` (public pages: the pre-session token)."""
        page = self.get(path)
        match = XSRF_RE.search(page.text)
        assert match, f"no _xsrf field on {path}: {page.status_code}"
        return match.group(1)

    def sign_in(self, login: str, password: str | None = None) -> "PageClient":
        """Sign in through `/login` (and `/login/totp` on a first admin login)."""
        password = password or password_of(login)
        key = (self.base_url, login)
        body = {"_xsrf": self.form_token("/login"), "login": login, "password": password,
                "next": "/"}
        if key in _TOTP_SECRETS:
            body["totp"] = _totp_code(_TOTP_SECRETS[key], key)
        answer = self.post("/login", data=body)
        assert answer.status_code == 303, f"login {login}: {answer.status_code} {answer.text[:300]}"
        if answer.headers["Location"].startswith("/login/totp"):
            page = self.get("/login/totp")
            secret = SECRET_RE.search(page.text).group(1)
            _TOTP_SECRETS[key] = secret
            _TOTP_LAST_STEP.pop(key, None)
            token = XSRF_RE.search(page.text).group(1)
            confirm = self.post("/login/totp", data={"_xsrf": token,
                                                     "code": _totp_code(secret, key)})
            assert confirm.status_code == 303, confirm.text[:300]
        self.xsrf = self.session.cookies.get("huike_xsrf")
        self.session.headers["X-XSRF-Token"] = self.xsrf
        self.login_name = login
        return self


@pytest.fixture
def anon_client(web_server):
    def make() -> PageClient:
        return PageClient(web_server.base_url)
    return make


@pytest.fixture
def page_client(web_server):
    """`page_client("li.na")` → a `PageClient` signed in as that demo user (or `admin`)."""
    def make(login: str, password: str | None = None) -> PageClient:
        return PageClient(web_server.base_url).sign_in(login, password)
    return make


# ---------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, web_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  base_url=web_server.base_url, locale="zh-CN")
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser, web_server):
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  base_url=web_server.base_url, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


@pytest.fixture
def ui_login(web_server):
    """`ui_login(page, "li.na")`: fill the login form (and the TOTP step, computing codes with
    pyotp from the secret the page shows or the one enrolled earlier) until the dashboard."""
    def sign_in(page, login: str, password: str | None = None) -> None:
        key = (web_server.base_url, login)
        page.goto("/login")
        page.fill("#login", login)
        page.fill("#password", password or password_of(login))
        if key in _TOTP_SECRETS:
            page.fill("#totp", _totp_code(_TOTP_SECRETS[key], key))
        page.click("#login-submit")
        page.wait_for_load_state()
        if "/login/totp" in page.url:
            secret = page.inner_text("#totp-secret").strip()
            _TOTP_SECRETS[key] = secret
            _TOTP_LAST_STEP.pop(key, None)
            page.fill("#totp-code", _totp_code(secret, key))
            page.click("#totp-submit")
            page.wait_for_load_state()
        assert "/login" not in page.url, f"still on {page.url}: {page.content()[:500]}"
    return sign_in
