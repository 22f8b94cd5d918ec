"""Screenshots of the web UI's main pages at desktop (1366×900) and phone (390×844) width.

    python scripts/screenshots.py [--out docs/screenshots] [--only leads,kanban] [--lang en]

Starts a throwaway install (SQLite in a temp folder, every module migrated, `huike demo`
data loaded) with the server on a loopback port, signs in through the login form with
Debian's headless Chromium (Playwright for Python, `/usr/bin/chromium`; an admin's second
factor is enrolled with pyotp like the tests do) and saves `<page>-desktop.png` and
`<page>-phone.png` — the visible viewport, not the full page, so files stay small. Nothing
leaves the machine. Exits 1 when a page answers an error (its shot is still saved).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-gpu"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
MANAGER = "wang.fang"  # sales manager, IA east: sees her team's leads, deals and accounts


@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # may hold {lead}, {account}: ids picked from the demo data
    login: str
    wait_for: str | None = None  # a selector that shows the page is drawn (charts, boards)
    click: str | None = None  # a button to press before the shot (e.g. "verify chain")
    shows: str | None = None  # ... and the selector its answer brings


SHOTS = [
    Shot("dashboard", "/", MANAGER, ".hk-chart canvas, .hk-chart svg"),
    Shot("leads", "/leads", MANAGER),
    Shot("lead-detail", "/leads/{lead}", MANAGER),
    Shot("lead-new", "/leads/new", MANAGER),
    Shot("import", "/leads/import", "admin"),
    Shot("pool", "/leads/pool", MANAGER),
    Shot("accounts", "/accounts", MANAGER),
    Shot("account-detail", "/accounts/{account}", MANAGER),
    Shot("kanban", "/deals", MANAGER),
    Shot("forecast", "/deals/forecast", MANAGER, ".hk-chart canvas, .hk-chart svg"),
    Shot("admin-fields", "/admin/fields?model=lead", "admin"),
    Shot("admin-audit", "/admin/audit", "admin", click="#verify-button", shows="#verify-ok"),
]


def demo_ids() -> dict[str, int]:
    """Ids for the detail pages: a lead and an account of the manager's team."""
    from modules.base.models import User
    from modules.contacts.models import Account
    from modules.leads.models import Lead

    rep = User.get(User.login == "li.na")
    lead = (Lead.select(Lead.id).where(Lead.owner == rep, Lead.mobile.is_null(False))
            .order_by(Lead.id).first())
    account = Account.select(Account.id).where(Account.owner == rep).order_by(Account.id).first()
    return {"lead": lead.id if lead else 0, "account": account.id if account else 0}


@contextlib.contextmanager
def running_demo(workdir: Path):
    """A migrated install with the demo data and a live server on loopback."""
    from core.demo import load_demo
    from tests.support import LiveServer, make_install

    data_dir = workdir / "data"
    with make_install(data_dir, f"sqlite:///{data_dir / 'huike.db'}", environ={}) as inst:
        load_demo(inst.registry)
        with LiveServer(inst.registry) as server:
            yield server


class Browser:
    """One signed-in browser context per (user, viewport)."""

    def __init__(self, playwright, base_url: str, lang: str):
        self.base_url, self.lang = base_url, lang
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                  args=CHROMIUM_ARGS)
        self.contexts: dict[tuple[str, str], object] = {}
        self.secrets: dict[str, str] = {}
        self.steps: dict[str, int] = {}  # the last TOTP step used per login

    def page(self, login: str, viewport: str):
        key = (login, viewport)
        if key not in self.contexts:
            phone = viewport == "phone"
            context = self.browser.new_context(
                viewport=VIEWPORTS[viewport], base_url=self.base_url, locale="zh-CN",
                is_mobile=phone, has_touch=phone, device_scale_factor=1)
            context.set_default_timeout(20000)
            context.add_cookies([{"name": "huike_lang", "value": self.lang,
                                  "url": self.base_url}])
            page = context.new_page()
            self.sign_in(page, login)
            self.contexts[key] = page
        return self.contexts[key]

    def sign_in(self, page, login: str) -> None:
        from modules.base.demo import DEMO_PASSWORD
        from tests.support import ADMIN_LOGIN, ADMIN_PASSWORD

        page.goto("/login")
        page.fill("#login", login)
        page.fill("#password", ADMIN_PASSWORD if login == ADMIN_LOGIN else DEMO_PASSWORD)
        if login in self.secrets:
            page.fill("#totp", self._code(login))
        page.click("#login-submit")
        page.wait_for_load_state()
        if "/login/totp" in page.url:  # first admin sign-in: enrol the second factor
            self.secrets[login] = page.inner_text("#totp-secret").strip()
            page.fill("#totp-code", self._code(login))
            page.click("#totp-submit")
            page.wait_for_load_state()
        if "/login" in page.url:
            raise SystemExit(f"could not sign in as {login}: still on {page.url}")

    def _code(self, login: str) -> str:
        """The next unused TOTP code (each code is single-use; the server accepts ±1 step)."""
        import time

        import pyotp

        totp = pyotp.TOTP(self.secrets[login])
        step = max(totp.timecode(time.time()), self.steps.get(login, 0) + 1)
        while step > totp.timecode(time.time()) + 1:
            time.sleep(1)
        self.steps[login] = step
        return totp.generate_otp(step)

    def close(self) -> None:
        self.browser.close()


def take(browser: Browser, shot: Shot, ids: dict, out: Path) -> list[str]:
    """Save the shot at both widths; return the problems seen (error statuses)."""
    problems = []
    url = shot.path.format(**ids)
    for viewport in VIEWPORTS:
        page = browser.page(shot.login, viewport)
        answer = page.goto(url)
        page.wait_for_load_state("networkidle")
        if shot.wait_for:
            with contextlib.suppress(Exception):
                page.wait_for_selector(shot.wait_for, timeout=5000)
                page.wait_for_timeout(1200)  # let ECharts finish its opening animation
        status = answer.status if answer is not None else 0
        if shot.click and status < 400:
            page.click(shot.click)
            page.wait_for_selector(shot.shows)
        if status >= 400:
            problems.append(f"{shot.name} {viewport}: HTTP {status} at {url}")
        target = out / f"{shot.name}-{viewport}.png"
        page.screenshot(path=str(target), full_page=False)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
              f"  {target.stat().st_size // 1024} KiB  HTTP {status}  {url}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", default="", help="comma-separated shot names")
    parser.add_argument("--lang", default="zh_CN", choices=("zh_CN", "en"))
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    wanted = {name for name in args.only.split(",") if name}
    shots = [s for s in SHOTS if not wanted or s.name in wanted]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="huike-shots-") as workdir, \
            running_demo(Path(workdir)) as server, sync_playwright() as playwright:
        ids = demo_ids()
        browser = Browser(playwright, server.base_url, args.lang)
        try:
            for shot in shots:
                problems += take(browser, shot, ids, out)
        finally:
            browser.close()
    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
