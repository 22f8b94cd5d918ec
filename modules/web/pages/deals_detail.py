"""The deal page (`/deals/<id>`): fields as the caller may see them, derived figures the
service computed for them, stage history, a stage move form, competitors and the deal's
activity timeline and tasks. `POST` edits the fields the caller may write (through the
deal service: anything else is refused with 403); `POST /deals/<id>/competitors` adds a
competitor entry.
"""
from __future__ import annotations

from core.web.base import APIError
from modules.opportunities.models import CATEGORIES, Opportunity
from modules.web.pages.customers_common import (AreaPage, Spec, field_views, form_values,
                                                levels, optional, user_choices)

CATEGORY_CHOICES = tuple((c, f"deals.category.{c}") for c in CATEGORIES)
DEAL_SPECS = (
    Spec("name"), Spec("account", "ref", label_key="account_name", editable=False),
    Spec("contact", "ref", label_key="contact_name", blank=True),
    Spec("owner", "ref", label_key="owner_name"),
    Spec("stage", "ref", label_key="stage_label", editable=False),
    Spec("amount", "money"), Spec("budget", "money"),
    Spec("expected_close", "date"), Spec("forecast_category", "select", CATEGORY_CHOICES),
    Spec("probability", "number"), Spec("description", "textarea"),
    Spec("lost_reason", editable=False), Spec("closed_at", "datetime", editable=False),
    Spec("created_at", "datetime", editable=False),
)
THREATS = ("low", "medium", "high")


def stage_label(pick, stages: list, stage_id) -> str | None:
    found = next((s for s in stages if s.id == stage_id), None)
    return pick(found.name, found.name_en) if found is not None else None


def detail_context(page: AreaPage, pk: int, errors: dict | None = None) -> dict:
    """The template variables of the deal page (404 when the deal is not readable)."""
    import security
    from modules.contacts.models import Contact
    from modules.opportunities.moves import history
    from modules.opportunities.pipelines import stages_of
    from modules.opportunities.present import labels
    from modules.opportunities.services import detail
    from modules.web.pages.customers_timeline import timeline
    from modules.web.pages.deals import writable_ids
    from modules.web.pages.deals_gate import _contact_choices, deal_pipeline

    ctx, pick = page.ctx, page.translator.pick
    deal = detail(ctx, pk)
    stages = stages_of(deal_pipeline(pk)) if security.can(ctx, "read", "model/pipeline_stage") \
        else []
    if deal.get("stage"):
        deal["stage_label"] = stage_label(pick, stages, deal["stage"])
    if deal.get("contact"):
        deal["contact_name"] = labels(ctx, Contact, [deal["contact"]]).get(deal["contact"])
    can_edit = bool(writable_ids(ctx, [pk]))
    options = {"contact": _contact_choices(ctx, deal.get("account")) if can_edit else [],
               "owner": user_choices(ctx) if can_edit else []}
    fields = field_views(page._, "deals.field", deal, DEAL_SPECS, levels(ctx, Opportunity),
                         levels(ctx, Opportunity, "write"), can_edit, errors, options)
    return {
        "deal": deal, "fields": fields, "errors": errors or {},
        "can_edit": can_edit and any(f["level"] == "write" for f in fields),
        "can_move": can_edit and "stage" in deal,
        "stages": [(s.id, pick(s.name, s.name_en), s.kind) for s in stages],
        "history": optional(history, ctx, pk),
        "can_add_competitor": can_edit and security.can(ctx, "create",
                                                        "model/opportunity_competitor"),
        "threats": THREATS, "tl": timeline(ctx, "opportunity", pk), "form": {},
    }


class DealDetailPage(AreaPage):
    """`GET /deals/<id>`; `POST` saves the edit form."""

    def get(self, opp_id: str) -> None:
        self.render_page("deals/detail.html", **detail_context(self, self.pk(opp_id)))

    def post(self, opp_id: str) -> None:
        from modules.opportunities import services

        pk = self.pk(opp_id)
        data = form_values(self.form_dict(), [s for s in DEAL_SPECS if s.editable])
        if "description" in data and data["description"] is None:
            data["description"] = ""  # an emptied text box clears the description
        try:
            services.update(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.set_status(422)
            self.render_page("deals/detail.html", **detail_context(self, pk, exc.fields or {}))
            return
        self.go(f"/deals/{pk}")


class CompetitorPage(AreaPage):
    """`POST /deals/<id>/competitors` (name, strengths, threat)."""

    def post(self, opp_id: str) -> None:
        from modules.opportunities.competitors import add_competitor

        pk = self.pk(opp_id)
        form = self.form_dict()
        data = {k: form[k] for k in ("name", "strengths", "threat") if form.get(k)}
        try:
            add_competitor(self.ctx, pk, data)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.set_status(422)
            errors = {f"competitor.{k}": v for k, v in (exc.fields or {}).items()}
            self.render_page("deals/detail.html", **detail_context(self, pk, errors))
            return
        self.go(f"/deals/{pk}#competitors")
