"""What every leads page shares: the page base class, field levels, choice lists, form values.

Pages never read leads themselves: they call the leads services (which go through the door:
`security.scope` for rows, `security.permitted_fields` for columns and masks) and only decide
how to show what comes back. A field's level (`hidden` / `masked` / `read` / `write`) decides
its widget: hidden ones are not rendered at all, masked ones show the mask, read-only ones are
text, only writable ones are inputs — and the services refuse a write to any other anyway.
"""
from __future__ import annotations

from urllib.parse import urlencode

from core.web.base import APIError
from modules.contacts.common import as_pk
from modules.leads.models import SOURCES, STATUSES, Lead
from modules.leads.validation import INPUT_FIELDS
from modules.web.shell import PageHandler

FORM_FIELDS = INPUT_FIELDS  # name, company, title, mobile, email, wechat, source, ...
QUICK_FIELDS = ("name", "company", "mobile", "wechat", "email", "source", "region", "need")
LIST_COLUMNS = ("name", "company", "mobile", "status", "source", "owner", "score",
                "created_at")
FILTER_KEYS = ("q", "status", "source", "owner", "region", "sort")
SORT_CHOICES = ("-id", "-score", "-last_activity_at", "name")
INPUT_TYPES = {"mobile": "tel", "email": "email", "budget": "text"}
INPUT_MODES = {"mobile": "tel", "budget": "decimal"}
TEXTAREAS = ("need",)
LABELLED = (*INPUT_FIELDS, "owner", "status", "lost_reason", "score", "created_at",
            "updated_at", "last_activity_at", "pool_entered_at", "hot")


class LeadsPage(PageHandler):
    """Base of the leads pages: argument helpers and the caller's field levels."""

    def arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value.strip() if value not in (None, "") and value.strip() else None

    def pk(self, text) -> int:
        found = as_pk(text)
        if found is None:
            raise APIError(404, f"记录不存在 / record {text} not found", code="not_found")
        return found

    def levels(self, op: str = "read") -> dict[str, str]:
        """Field → level for the caller on leads (`op`: read, create or write)."""
        return field_levels(self.ctx, op)

    @property
    def refused_status(self) -> int:
        """Status of a form re-rendered with its validation problems (the shell's htmx
        config swaps 4xx answers too, so the fragment with the problems shows in place)."""
        return 422

    def go(self, url: str) -> None:
        """After a successful form: 303 to `url` (htmx follows `HX-Redirect`)."""
        self.redirect_after_post(url)

    def render_lead_page(self, template: str, **kw) -> None:
        import security

        region_list = regions()
        tabs = {name: security.can(self.ctx, act, resource) for name, act, resource in (
            ("new", "create", "model/lead"), ("pool", "execute", "action/lead.pool"),
            ("import", "execute", "action/lead.import"), ("merge", "execute", "action/lead.merge"))}
        self.render_page(template, statuses=STATUSES, sources=SOURCES, regions=region_list,
                         field_types=INPUT_TYPES, field_modes=INPUT_MODES,
                         textareas=TEXTAREAS, show=Display(self.translator.pick, region_list),
                         label=self.field_label, tabs=tabs, **kw)

    def field_label(self, name: str) -> str:
        """A lead field's label (unknown names — e.g. a service's `body` — as they are)."""
        return self._("leads.field." + name) if name in LABELLED else name


class Display:
    """`show(item, name)`: a lead field's value as text for the page — choice codes as their
    labels in the page's language, money and times in China formats, the owner by name.
    Values arrive already through the door (hidden ones absent, masked ones as the mask),
    so this only formats; the template escapes the result."""

    TIMES = ("created_at", "updated_at", "last_activity_at", "assigned_at",
             "first_response_due_at", "first_response_at", "pool_entered_at", "converted_at",
             "status_changed_at", "protected_until")

    def __init__(self, pick, region_list):
        self.pick = pick
        self.region_names = {rid: (zh, en) for rid, zh, en in region_list}

    def __call__(self, item: dict, name: str) -> str:
        from modules.web.formatting import EMPTY, fmt_datetime, fmt_money

        value = item.get(name)
        if name == "owner" and item.get("owner_name"):
            return item["owner_name"]
        if value is None or value == "":
            return EMPTY
        if name == "status" and value in STATUSES:
            return self.pick(*STATUSES[value])
        if name == "source" and value in SOURCES:
            return self.pick(*SOURCES[value])
        if name == "region" and value in self.region_names:
            return self.pick(*self.region_names[value])
        if name == "budget":
            return fmt_money(value)
        if name in self.TIMES:
            return fmt_datetime(value)
        return str(value)


def field_levels(ctx, op: str = "read") -> dict[str, str]:
    import security

    perms = security.permitted_fields(ctx, Lead, op)
    return {name: perms.level(name) for name in Lead._meta.fields}


def regions() -> list[tuple[int, str, str]]:
    """`(id, zh name, en name)` of every region (reference data, not business records)."""
    from modules.base.models import Region

    return [(r.id, r.name, r.name_en) for r in
            Region.select(Region.id, Region.name, Region.name_en).order_by(Region.sequence,
                                                                         Region.id)]


def form_values(form: dict, names) -> dict:
    """The submitted values of `names`: stripped text, empty → None. Every submitted field is
    passed on, writable or not: the service decides and refuses (403) what may not be
    written, so a tampered form is refused, never silently trimmed."""
    values = {}
    for name in names:
        if name in form:
            raw = form[name]
            text = raw.strip() if isinstance(raw, str) else raw
            values[name] = text if text not in ("", None) else None
    return values


def add_owner_names(ctx, items: list[dict]) -> list[dict]:
    """`owner_name` next to each readable owner id (masked when the owner column is masked)."""
    from modules.contacts.decorate import user_names
    from security.masking import mask_name

    level = field_levels(ctx).get("owner", "hidden")
    if level == "hidden":
        return items
    names = user_names(i.get("owner") for i in items if isinstance(i.get("owner"), int))
    for item in items:
        owner = item.get("owner")
        name = names.get(owner) if isinstance(owner, int) else None
        item["owner_name"] = mask_name(name) if (level == "masked" and name) else name
    return items


def filter_query(get) -> dict[str, str]:
    """The list filters present in a request, in a fixed order (for links and saved views)."""
    return {key: get(key) for key in FILTER_KEYS if get(key)}


def query_string(filters: dict, **extra) -> str:
    merged = {**filters, **{k: v for k, v in extra.items() if v not in (None, "")}}
    return urlencode(merged)
