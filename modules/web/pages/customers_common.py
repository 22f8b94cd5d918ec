"""What the customer pages (accounts, contacts, timelines, handover) and the deal pages share:
the page base class, field views built from the door's field levels, and form parsing.

Pages never read records themselves: they call the contacts / opportunities services (which
go through the door: `security.scope` for rows, `security.permitted_fields` for columns and
masks) and only decide how to show what comes back. `field_views` turns a serialised record
plus the caller's levels into what a template renders: a hidden field is not in the list at
all, a masked one carries only the mask the service produced, a read-only one is text, and
only a field the caller may write (on a record in their write scope) becomes an input —
while the services refuse any other write anyway (403 naming the fields).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable

from core.web.base import APIError
from modules.contacts.common import as_pk
from modules.web.formatting import SHANGHAI, fmt_date, fmt_datetime, fmt_money
from modules.web.shell import PageHandler


class AreaPage(PageHandler):
    """Base of the customer and deal pages: argument helpers and re-render statuses."""

    def arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value.strip() if value is not None and value.strip() else None

    def pk(self, text) -> int:
        found = as_pk(text)
        if found is None:
            raise APIError(404, f"记录不存在 / record {text} not found", code="not_found")
        return found

    @property
    def refused_status(self) -> int:
        """Status of a form re-rendered with its problems: 422, except for htmx, which gets
        200 so the fragment with the problems is swapped where the form was."""
        return 200 if self.is_htmx else 422

    def go(self, url: str) -> None:
        self.redirect_after_post(url)

    def template_namespace(self) -> dict:
        """The shell's names plus `can_handover` (the area tabs) and `roles` (decision-chain
        role codes, for labels)."""
        from modules.contacts.models import DECISION_ROLES

        namespace = super().template_namespace()
        namespace["roles"] = DECISION_ROLES
        namespace["can_handover"] = False
        if self.current_user is not None:
            import security

            try:
                namespace["can_handover"] = security.can(self.ctx, "execute", "action/handover")
            except Exception:  # an error page must render even when the door cannot answer
                namespace["can_handover"] = False
        return namespace


# ---------------------------------------------------------------------- field levels
def levels(ctx, model, op: str = "read") -> dict[str, str]:
    """`{field: hidden | masked | read | write}` of the caller on `model`."""
    import security

    perms = security.permitted_fields(ctx, model, op)
    return {name: perms.level(name) for name in model._meta.fields}


def optional(call: Callable, *args, **kwargs):
    """A page section's data, or None when the caller lacks the right to it (403): the
    section is left out instead of failing the whole page."""
    try:
        return call(*args, **kwargs)
    except APIError as exc:
        if exc.status_code == 403:
            return None
        raise


@dataclass(frozen=True)
class Spec:
    """How one field shows: `kind` text | textarea | select | date | datetime | money |
    number | email | tel | ref (a reference shown by `label_key` of the item); `choices`
    gives `(value, i18n key)` pairs of a select; `editable` says whether the page offers an
    input for it when the caller may write it."""

    name: str
    kind: str = "text"
    choices: tuple = ()
    label_key: str | None = None
    editable: bool = True
    blank: bool = False  # a select that may be cleared offers an empty choice


def field_views(translate, prefix: str, item: dict, specs: Iterable[Spec],
                read: dict[str, str], write: dict[str, str], can_edit: bool,
                errors: dict | None = None, options: dict | None = None) -> list[dict]:
    """The fields of `item` as the caller may see them, in `specs` order.

    A field whose read level is hidden, or which the service left out of `item`, is skipped
    (absent from the page). `options[name]` are `(value, label)` choices for reference
    inputs (e.g. the account's contacts)."""
    errors, options = errors or {}, options or {}
    views = []
    for spec in specs:
        level = read.get(spec.name, "hidden")
        if level == "hidden" or spec.name not in item:
            continue
        value = item.get(spec.name)
        editing = (can_edit and spec.editable and level != "masked"
                   and write.get(spec.name) == "write")
        views.append({
            "name": spec.name, "label": translate(f"{prefix}.{spec.name}"), "kind": spec.kind,
            "level": "write" if editing else ("read" if level == "write" else level),
            "value": input_value(spec, value),
            "text": display(translate, spec, item, value, level),
            "choices": [(v, translate(k)) for v, k in spec.choices] if spec.choices
            else list(options.get(spec.name, [])),
            "error": errors.get(spec.name), "blank": spec.blank,
            "linked": bool(spec.label_key and item.get(spec.label_key)),
        })
    return views


def display(translate, spec: Spec, item: dict, value, level: str) -> str:
    """The text shown for a field (a masked value is shown exactly as the service masked it)."""
    if value in (None, ""):
        return "—"
    if level == "masked":
        return str(value)
    if spec.kind == "select":
        key = dict(spec.choices).get(value)
        return translate(key) if key else str(value)
    if spec.kind == "ref":
        return str(item.get(spec.label_key) or f"#{value}") if spec.label_key else str(value)
    if spec.kind == "money":
        return fmt_money(value, item.get("currency") or "CNY")
    if spec.kind == "date":
        return fmt_date(value)
    if spec.kind == "datetime":
        return fmt_datetime(value)
    return str(value)


def input_value(spec: Spec, value) -> str:
    """A field's value as an input's `value` attribute (dates as the browser expects)."""
    if value in (None, ""):
        return ""
    if spec.kind == "date":
        return fmt_date(value)
    if spec.kind == "datetime":
        return fmt_datetime(value).replace(" ", "T")
    return str(value)


# ---------------------------------------------------------------------- form input
def form_values(form: dict, specs: Iterable[Spec]) -> dict:
    """Submitted values of the fields in `specs` (empty → None). Every submitted field is
    passed on, writable or not: the service decides and refuses (403) what may not be
    written, so a tampered form is refused, never silently trimmed."""
    values = {}
    for spec in specs:
        if spec.name not in form:
            continue
        text = form[spec.name].strip()
        if text == "":
            values[spec.name] = None
        elif spec.kind in ("ref", "number") and text.isdigit():
            values[spec.name] = int(text)
        elif spec.kind == "datetime":
            values[spec.name] = local_to_iso(text)
        else:
            values[spec.name] = text
    return values


def local_to_iso(text: str) -> str:
    """A browser `datetime-local` value (Asia/Shanghai wall time) → ISO 8601 with offset,
    which the services convert to UTC; anything else is passed on for the service to refuse."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.isoformat()


def user_choices(ctx, include_self: bool = True) -> list[tuple[int, str]]:
    """Active users the caller may pick (owner, assignee, handover parties): everyone for an
    administrator, else the caller and the people below them in the manager chain."""
    from modules.base.models import User
    from modules.base.services import subordinates_ids

    query = User.select(User.id, User.name, User.login).where(User.active == True)  # noqa: E712
    if not ctx.is_admin:
        ids = subordinates_ids(ctx.user) + ([ctx.user.id] if include_self else [])
        query = query.where(User.id.in_(ids or [0]))
    return [(u.id, f"{u.name} ({u.login})") for u in query.order_by(User.login).limit(500)]
