"""The audit viewer's rules: a filtered, keyset-paged listing and the chain verification.

Opening it needs `read` on `model/security_audit` (IT admins hold `*`; auditors hold it by
seed). The log is append-only: the page has no way to change an entry.
"""
from __future__ import annotations

import re

from core.db import connection
from core.web.base import APIError
from modules.web.pages.admin_services import require_page
from security.audit.models import AuditEntry
from security.audit.queries import list_entries
from security.audit.verify import verify
from security.audit.writer import KNOWN_ACTIONS

PER_PAGE = 50
ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def actions() -> list[str]:
    """The filter's choices: the known actions and any other action the log holds."""
    found = {a for (a,) in AuditEntry.select(AuditEntry.action).distinct().tuples()}
    return sorted(set(KNOWN_ACTIONS) | found)


def list_audit(ctx, action: str = "", actor: str = "", after: str = "") -> dict:
    """Newest first, `PER_PAGE` a page; `after` is the previous page's `next` cursor."""
    require_page(ctx, "audit")
    problems = {}
    action, actor, after = (action or "").strip(), (actor or "").strip(), (after or "").strip()
    if action and not ACTION.match(action):
        problems["action"] = "未知操作 / unknown action"
    if after and not after.isdigit():
        problems["after"] = "必须是序号 / must be a sequence number"
    if len(actor) > 128:
        problems["actor"] = "过长 / too long"
    if problems:
        raise APIError(422, "输入无效 / invalid input", fields=problems)
    entries, cursor = list_entries(
        action=action or None, actor=(int(actor) if actor.isdigit() else actor) or None,
        limit=PER_PAGE, after=int(after) if after else None, order="desc")
    return {"entries": entries, "next": cursor}


def verify_in_thread() -> dict:
    """Check the whole chain on an executor thread (own connection, closed at the end), so
    a long log does not stall the server. The caller checks access first."""
    with connection():
        return verify().as_dict()
