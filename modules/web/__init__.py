"""The `web` module: the browser UI — server-rendered tornado templates with htmx and ECharts.

Every page is a `modules.web.shell.PageHandler`; each area (leads, customers, deals, dashboard,
admin, auth) lives in `modules/web/pages/<area>.py` and exposes `routes()`. This hook collects
the shell's own routes (static files, language switch) and every area file that exists, so an
area joins the UI by adding its file — nothing else to register. Menus come from the business
modules' `register_menus` hooks (see `modules.web.menu`)."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

from core.hooks import hookimpl

log = logging.getLogger("huike.web")
AREAS = ("auth", "dashboard", "leads", "customers", "deals", "admin")
PAGES_DIR = Path(__file__).resolve().parent / "pages"


def area_routes(strict: bool = False) -> list:
    """`routes()` of every `pages/<area>.py` that exists, in `AREAS` order.

    An area that fails to import is logged and left out, so one broken area does not take the
    whole server (API included) down; `strict=True` raises instead — the web tests call it so
    (`test_shell_areas.py`), so a broken area still fails CI."""
    collected = []
    for area in AREAS:
        if not (PAGES_DIR / f"{area}.py").exists():
            continue
        try:
            module = importlib.import_module(f"modules.web.pages.{area}")
            collected.extend(module.routes())
        except Exception:
            if strict:
                raise
            log.exception("web area %s failed to load; its pages are off", area)
    return collected


@hookimpl
def register_routes(registry):
    from modules.web.shell import shell_routes
    return [*shell_routes(), *area_routes()]


@hookimpl
def register_menus():
    """The dashboard is the web module's own page; business pages come from their modules."""
    return [{"key": "dashboard", "label": "工作台", "label_en": "Dashboard", "url": "/",
             "permission": None, "order": 0}]
