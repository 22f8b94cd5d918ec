"""Screenshots of the main pages at desktop (1280 px) and phone (390 px) width.

    python -m modules.web.screenshots [--out docs/screenshots] [--chromium /usr/bin/chromium]

Builds a throwaway install (SQLite in a temporary directory) with the demo data, serves it on
a loopback port, signs in through the UI as a sales manager (王芳 wang.fang) for the business
pages and as the administrator (enrolling TOTP on the spot) for the administration pages, and
saves `<page>-desktop.png` / `<page>-phone.png` plus an index `README.md` in the output folder.
A page that answers an error (an area not built yet) is reported and skipped. Needs Playwright
for Python (test extras) and Debian's Chromium; nothing is fetched from the internet."""
from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

import pyotp

DEMO_PASSWORD = "Huike-demo-2026"
ADMIN_LOGIN = "admin"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# (file name, who, path or a callable finding it from the list page, title)
PAGES = [
    ("dashboard", "wang.fang", "/", "工作台 / Dashboard"),
    ("leads", "wang.fang", "/leads", "线索列表 / Leads"),
    ("lead-detail", "wang.fang", ("/leads", r'href="(/leads/\d+)"'), "线索详情 / Lead"),
    ("lead-new", "wang.fang", "/leads/new", "快速新建线索 / Quick create"),
    ("lead-import", "wang.fang", "/leads/import", "导入向导 / Import wizard"),
    ("lead-pool", "wang.fang", "/leads/pool", "线索公海 / Lead pool"),
    ("accounts", "wang.fang", "/accounts", "客户 / Accounts"),
    ("account-detail", "wang.fang", ("/accounts", r'href="(/accounts/\d+)"'), "客户详情 / Account"),
    ("contacts", "wang.fang", "/contacts", "联系人 / Contacts"),
    ("deals", "wang.fang", "/deals", "商机看板 / Deals kanban"),
    ("deal-detail", "wang.fang", ("/deals", r'href="(/deals/\d+)"'), "商机详情 / Deal"),
    ("forecast", "wang.fang", "/deals/forecast", "销售预测 / Forecast"),
    ("handover", ADMIN_LOGIN, "/handover", "离职交接 / Handover"),
    ("admin-users", ADMIN_LOGIN, "/admin/users", "用户 / Users"),
    ("admin-departments", ADMIN_LOGIN, "/admin/departments", "组织架构 / Departments"),
    ("admin-roles", ADMIN_LOGIN, "/admin/roles", "角色分配 / Roles"),
    ("admin-fields", ADMIN_LOGIN, "/admin/fields", "字段权限 / Field rules"),
    ("admin-scopes", ADMIN_LOGIN, "/admin/scopes", "数据范围 / Row scopes"),
    ("admin-audit", ADMIN_LOGIN, "/admin/audit", "审计日志 / Audit log"),
]


def build_install(data_dir: Path, admin_password: str):
    """A migrated SQLite install with the demo org; returns its registry."""
    import tomli_w

    from core.cli.install import write_master_key
    from core.config import load_settings
    from core.db import database
    from core.demo import load_demo
    from core.migrate import migrate_all
    from core.registry import Registry
    from modules.base import services

    data_dir.mkdir(parents=True, exist_ok=True)
    config = {"database": {"url": f"sqlite:///{data_dir / 'huike.db'}"},
              "jobs": {"immediate": True}}
    (data_dir / "huike.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    write_master_key(data_dir / "master.key")
    registry = Registry.build(load_settings(data_dir, environ={}))
    database.connect(reuse_if_open=True)
    migrate_all(registry)
    services.create_user(ADMIN_LOGIN, "系统管理员", admin_password, is_admin=True)
    load_demo(registry)
    return registry


class Server:
    """The application on its own IOLoop thread, on a free loopback port."""

    def __init__(self, registry):
        self.registry, self.port = registry, None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import tornado.httpserver
        import tornado.netutil

        from core.web.app import make_app

        async def main():
            sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
            self.port = sockets[0].getsockname()[1]
            server = tornado.httpserver.HTTPServer(make_app(self.registry))
            server.add_sockets(sockets)
            self._stop, self._loop = asyncio.Event(), asyncio.get_running_loop()
            self._ready.set()
            await self._stop.wait()
            server.stop()

        asyncio.run(main())

    def __enter__(self) -> str:
        self._thread.start()
        self._ready.wait(30)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def sign_in(page, login: str, password: str, secrets_by_login: dict) -> None:
    """The UI's login form (and TOTP enrolment / code for the administrator)."""
    page.goto("/login")
    page.fill("#login", login)
    page.fill("#password", password)
    if login in secrets_by_login:
        # the enrolment spent this 30 s step's code; the next step's is accepted (±1 drift)
        page.fill("#totp", pyotp.TOTP(secrets_by_login[login]).at(time.time() + 30))
    page.click("#login-submit")
    page.wait_for_load_state()
    if "/login/totp" in page.url:
        secret = page.inner_text("#totp-secret").strip()
        secrets_by_login[login] = secret
        page.fill("#totp-code", pyotp.TOTP(secret).now())
        page.click("#totp-submit")
        page.wait_for_load_state()


def resolve(page, target) -> str | None:
    """A page path; `(list path, href regex)` finds the first detail link on the list page."""
    if isinstance(target, str):
        return target
    listing, pattern = target
    page.goto(listing)
    found = re.search(pattern, page.content())
    return found.group(1) if found else None


def shoot(base_url: str, out: Path, chromium: str, admin_password: str) -> list[tuple]:
    from playwright.sync_api import sync_playwright

    done, secrets_by_login = [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-background-networking",
                  "--disable-component-update", "--disable-gpu"])
        for size, viewport in SIZES.items():
            pages = {}
            for name, who, target, title in PAGES:
                if who not in pages:
                    context = browser.new_context(viewport=viewport, base_url=base_url,
                                                  is_mobile=size == "phone", locale="zh-CN")
                    pages[who] = context.new_page()
                    sign_in(pages[who], who, admin_password if who == ADMIN_LOGIN
                            else DEMO_PASSWORD, secrets_by_login)
                page = pages[who]
                path = resolve(page, target)
                answer = page.goto(path) if path else None
                if answer is None or answer.status >= 400:
                    print(f"skipped {name} ({size}): {path} -> "
                          f"{answer.status if answer else 'no link'}")
                    continue
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(300)  # charts finish their first paint
                file = out / f"{name}-{size}.png"
                page.screenshot(path=str(file))
                done.append((name, size, path, title, file.name))
        browser.close()
    return done


def write_index(out: Path, done: list[tuple]) -> None:
    lines = ["# 界面截图 / Screenshots", "",
             "由 `python -m modules.web.screenshots` 生成（演示数据，1280 px 桌面与 390 px 手机）。",
             "Generated by `python -m modules.web.screenshots` (demo data; 1280 px desktop, "
             "390 px phone).", "", "| 页面 / page | 路径 / path | desktop | phone |",
             "|---|---|---|---|"]
    names = dict.fromkeys(name for name, *_ in done)
    for name in names:
        shots = {size: (path, title, file) for n, size, path, title, file in done if n == name}
        path, title, _file = next(iter(shots.values()))
        cells = [f"[{size}]({shots[size][2]})" if size in shots else "—" for size in SIZES]
        lines.append(f"| {title} | `{path}` | {' | '.join(cells)} |")
    if any(n == "dashboard" for n, *_ in done):
        lines += ["", "![工作台 / Dashboard, desktop](dashboard-desktop.png)",
                  "![工作台 / Dashboard, phone](dashboard-phone.png)"]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    admin_password = "Shot-" + secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="huike-shots-") as tmp:
        registry = build_install(Path(tmp) / "data", admin_password)
        with Server(registry) as base_url:
            done = shoot(base_url, out, args.chromium, admin_password)
    write_index(out, done)
    print(f"{len(done)} screenshots in {out}")


if __name__ == "__main__":
    main()
