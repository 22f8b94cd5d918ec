"""The navigation menu: the modules' `register_menus` entries, filtered by the door.

An entry is `{"key", "label", "label_en", "url", "permission", "order"}`. `permission` is
None (every signed-in user), `"admin"` (administrators only), or `(act, resource)` — checked
with `security.can(ctx, act, resource)`, e.g. `("read", "model/lead")` — or a list of such
pairs, any of which suffices."""
from __future__ import annotations

import security


def allowed(ctx, permission) -> bool:
    """Does `permission` (see the module docstring) let the caller see the entry?"""
    if permission is None:
        return True
    if permission == "admin":
        return ctx.is_admin
    if isinstance(permission, (tuple, list)) and len(permission) == 2 \
            and all(isinstance(part, str) for part in permission):
        act, resource = permission
        return security.can(ctx, act, resource)
    if isinstance(permission, (tuple, list)):
        return any(allowed(ctx, one) for one in permission)
    raise ValueError(f"menu permission {permission!r} is not None, 'admin' or (act, resource)")


def build_menu(ctx, registry, translator, current_path: str = "/") -> list[dict]:
    """The entries this caller may see, labelled in the request language, the current one
    marked `active` (the longest URL that prefixes the current path)."""
    entries = [entry for entry in registry.menus if allowed(ctx, entry.get("permission"))]
    best = max((e["url"] for e in entries if _covers(e["url"], current_path)), key=len,
               default=None)
    return [{"key": e["key"], "url": e["url"], "active": e["url"] == best,
             "label": translator.pick(e.get("label"), e.get("label_en"))} for e in entries]


def _covers(url: str, path: str) -> bool:
    if url == "/":
        return path == "/"
    return path == url or path.startswith(url.rstrip("/") + "/")
