"""Every `pages/<area>.py` that exists imports and yields routes (the server itself skips a
broken area so the API stays up; this test is where a broken area fails)."""
from __future__ import annotations

import tornado.web

from modules.web import AREAS, PAGES_DIR, area_routes


def test_every_area_file_loads_and_has_routes():
    present = [area for area in AREAS if (PAGES_DIR / f"{area}.py").exists()]
    assert {"auth", "dashboard"} <= set(present)
    routes = area_routes(strict=True)
    assert routes
    for route in routes:
        handler = route.handler_class if isinstance(route, tornado.web.URLSpec) else route[1]
        assert issubclass(handler, tornado.web.RequestHandler), route


def test_menu_entries_are_well_formed(web_install):
    menus = web_install.registry.menus
    keys = [entry["key"] for entry in menus]
    assert len(keys) == len(set(keys)), "menu keys must be unique"
    for entry in menus:
        assert {"key", "label", "label_en", "url", "permission", "order"} <= set(entry), entry
        assert entry["url"].startswith("/") and not entry["url"].startswith("/api/")
