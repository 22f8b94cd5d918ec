"""Saved views of the leads list (我的视图): a name for a set of list filters.

Where they live: the install has no per-user preference store yet (no model in base or leads
keeps UI preferences, and the web module's models belong to the shell), so a view is kept in
an HttpOnly cookie bound to the signed-in user id — `huike_lead_views`, base64 JSON
`{"u": user id, "v": [[name, query], ...]}`. A cookie of another user (shared browser) is
ignored. Views hold only filter arguments (re-encoded from the known filter keys, never raw
text), and applying one is just opening the list with those arguments — the list service
checks every filter as it does for a typed URL. At most `MAX_VIEWS` views, names ≤ 40
characters.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlencode

from core.web.base import APIError
from modules.web.pages.leads_common import FILTER_KEYS, LeadsPage

COOKIE = "huike_lead_views"
MAX_VIEWS = 10
MAX_NAME = 40


def clean_query(raw: str) -> str:
    """Only the known filter keys, each once, values ≤ 100 characters."""
    pairs = {}
    for key, value in parse_qsl(raw or "", keep_blank_values=False):
        if key in FILTER_KEYS and key not in pairs and value.strip():
            pairs[key] = value.strip()[:100]
    return urlencode([(k, pairs[k]) for k in FILTER_KEYS if k in pairs])


def load(handler) -> list[tuple[str, str]]:
    """The caller's saved views `[(name, query)]` (empty for a missing or foreign cookie)."""
    raw = handler.get_cookie(COOKIE)
    if not raw or handler.current_user is None:
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, UnicodeError):
        return []
    if not isinstance(data, dict) or data.get("u") != handler.current_user.id:
        return []
    views = []
    for entry in data.get("v") or []:
        if (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)
                and 0 < len(entry[0]) <= MAX_NAME):
            views.append((entry[0], clean_query(entry[1])))
    return views[:MAX_VIEWS]


def store(handler, views: list[tuple[str, str]]) -> None:
    data = {"u": handler.current_user.id, "v": [list(v) for v in views[:MAX_VIEWS]]}
    raw = base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    handler.set_cookie(COOKIE, raw.decode("ascii"), path="/leads", httponly=True,
                       samesite="Lax", expires_days=365)


def save_view(handler, name: str | None, query: str | None) -> list[tuple[str, str]]:
    """Add (or replace) the view `name`; 422 naming `name` when it is empty or too long."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise APIError(422, f"视图名称必填，最多 {MAX_NAME} 字 / view name required, at most "
                       f"{MAX_NAME} characters", code="validation_failed",
                       fields={"name": "invalid"})
    views = [v for v in load(handler) if v[0] != name]
    if len(views) >= MAX_VIEWS:
        raise APIError(422, f"最多保存 {MAX_VIEWS} 个视图 / at most {MAX_VIEWS} saved views",
                       code="validation_failed", fields={"name": "too many views"})
    views.append((name, clean_query(query or "")))
    store(handler, views)
    return views


class ViewsHandler(LeadsPage):
    """`POST /leads/views` (`name`, `query`): save the current filters; `POST
    /leads/views/delete` (`name`): forget one. Both return to the list."""

    def post(self, action: str | None = None) -> None:
        form = self.form_dict()
        if action == "delete":
            views = [v for v in load(self) if v[0] != (form.get("name") or "")]
            store(self, views)
            self.go("/leads")
            return
        views = save_view(self, form.get("name"), form.get("query"))
        query = dict(views)[(form.get("name") or "").strip()]
        self.go("/leads" + (f"?{query}" if query else ""))
