"""Stage moves from the kanban and the deal page, and the stage-gate dialog.

`POST /deals/<id>/move` (form `stage`) calls the opportunities move service. When a gate
blocks the move the service answers 422 `stage_gate` naming each unmet requirement by its
code; the page answers with a form asking exactly for those (`deals/_gate.html`): a missing
field (`expected_close`, `contact`, `budget`, `amount`, `probability`, `description`,
`custom.<key>`) becomes an input when the caller may write it, `lost_reason` a text,
`competitor` a competitor name, a decision-chain role (`decision_maker`, ...) a choice of
the account's contacts to give that role, `activity[_<kind>]` an activity to log. Sending
that form saves the values through the same services (deal update, competitor, contact,
activity — each behind the door) and retries the move; what is still missing is asked again.

An htmx / script request gets fragments: the moved card (200) or the dialog (422 with the
header `X-Huike-Gate: 1`); a plain form post gets the deal page (303) or a full page with
the dialog's form (422).
"""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.models import DECISION_ROLES
from modules.web.pages.customers_common import AreaPage, optional

# gate codes that name a deal field the dialog can ask for, and the input kind
FIELD_INPUTS = {"expected_close": "date", "budget": "money", "amount": "money",
                "probability": "number", "description": "textarea", "contact": "select"}
ACTIVITY_KINDS_ASKED = ("call", "visit", "meeting", "email", "note")


def _stage_id(form: dict) -> int:
    raw = form.get("stage") or ""
    if not raw.isdigit():
        raise APIError(422, "请选择阶段 / choose a stage", code="validation_failed",
                       fields={"stage": "必填 / required"})
    return int(raw)


def pending(ctx, pk: int, stage_id: int) -> dict[str, str]:
    """What a move of deal `pk` into `stage_id` still lacks, `{code: message}` — the rules
    of the move service (`gates.unmet` over the stages entered, and the lost reason)
    evaluated without moving; the deal must be in the caller's write scope."""
    from modules.opportunities.gates import LOST_REASON, DealFacts, stages_entered, unmet
    from modules.opportunities.pipelines import stages_of
    from modules.opportunities.services import load

    row = load(ctx, pk, "write")
    stages = stages_of(row.pipeline_id)
    target = next((s for s in stages if s.id == stage_id), None)
    if target is None:
        return {}
    current = next((s for s in stages if s.id == row.stage_id), None)
    problems = unmet(ctx, DealFacts(values=dict(row.__data__), opportunity_id=row.id),
                     stages_entered(current, target, stages))
    if target.kind == "lost":
        problems.append(LOST_REASON)
    return {p["code"]: p["message"] for p in problems}


def _contact_choices(ctx, account_id) -> list[tuple[int, str]]:
    from modules.contacts.paging import ListParams
    from modules.contacts.people import list_contacts

    if not account_id:
        return []
    params = ListParams.parse(lambda name: "200" if name == "limit" else None, "name")
    found = optional(list_contacts, ctx, params,
                     lambda name: str(account_id) if name == "account" else None)
    return [(c["id"], c.get("name") or f"#{c['id']}") for c in (found or {}).get("items", [])]


def gate_items(ctx, pick, deal: dict, problems: dict[str, str]) -> list[dict]:
    """One entry per unmet requirement: its message (in the page language) and, when the
    caller can supply it here, the input asking for it."""
    import security
    from modules.opportunities.models import Opportunity

    write = security.permitted_fields(ctx, Opportunity, "write")
    contacts = None
    items = []
    for code, message in problems.items():
        zh, _, en = message.partition(" / ")
        item = {"code": code, "message": pick(zh, en or zh), "kind": None, "name": code,
                "choices": []}
        if code in FIELD_INPUTS and write.level(code) == "write":
            item["kind"] = FIELD_INPUTS[code]
        elif code.startswith("custom.") and write.level("custom") == "write":
            item["kind"] = "text"
        elif code == "lost_reason":
            item["kind"] = "textarea"
        elif code == "competitor" and security.can(ctx, "create", "model/opportunity_competitor"):
            item.update(kind="text", name="competitor_name")
        elif code in DECISION_ROLES and security.can(ctx, "write", "model/contact"):
            item.update(kind="select", name=f"role_contact.{code}")
        elif (code == "activity" or code.startswith("activity_")) \
                and security.can(ctx, "create", "model/activity"):
            kind = code[len("activity_"):] if code.startswith("activity_") else "note"
            item.update(kind="activity", name="activity_subject",
                        activity_kind=kind if kind in ACTIVITY_KINDS_ASKED else "note")
        if item["kind"] == "select":
            if contacts is None:
                contacts = _contact_choices(ctx, deal.get("account"))
            item["choices"] = contacts
        items.append(item)
    return items


def _field_values(ctx, pk: int, form: dict) -> dict:
    """Deal fields supplied in the dialog, typed as the deal service expects."""
    from modules.opportunities.services import load

    values: dict = {}
    for name in FIELD_INPUTS:
        text = (form.get(name) or "").strip()
        if not text:
            continue
        values[name] = int(text) if name in ("contact", "probability") and text.isdigit() else text
    custom = {k[len("custom."):]: v for k, v in form.items() if k.startswith("custom.") and v}
    if custom:
        values["custom"] = {**(load(ctx, pk, "write").custom or {}), **custom}
    return values


def _try(errors: dict, call, *args, prefix: str = "") -> None:
    """Run one save; a refused input (422) is collected next to its field."""
    try:
        call(*args)
    except APIError as exc:
        if exc.status_code != 422:
            raise
        fields = exc.fields if isinstance(exc.fields, dict) else {}
        for name, problem in (fields or {"": exc.message}).items():
            errors[prefix or name] = problem


def apply_fills(ctx, pk: int, form: dict) -> dict:
    """Save what the gate dialog supplied; `{field: problem}` of the refused inputs."""
    from modules.contacts.activities import log_activity
    from modules.contacts.people import update_contact
    from modules.opportunities import services
    from modules.opportunities.competitors import add_competitor

    errors: dict = {}
    values = _field_values(ctx, pk, form)
    if values:
        _try(errors, services.update, ctx, pk, values)
    if form.get("competitor_name"):
        _try(errors, add_competitor, ctx, pk, {"name": form["competitor_name"]},
             prefix="competitor_name")
    for key, raw in form.items():
        if key.startswith("role_contact.") and raw:
            role = key[len("role_contact."):]
            contact = int(raw) if raw.isdigit() else raw
            _try(errors, update_contact, ctx, contact, {"decision_role": role}, prefix=key)
    if form.get("activity_subject"):
        data = {"res_model": "opportunity", "res_id": pk, "subject": form["activity_subject"],
                "kind": form.get("activity_kind") or "note"}
        if form.get("activity_address"):
            data["address"] = form["activity_address"]
        _try(errors, log_activity, ctx, data, prefix="activity_subject")
    return errors


class MovePage(AreaPage):
    """`POST /deals/<id>/move`: save the dialog's values, then move (see the module doc)."""

    def post(self, opp_id: str) -> None:
        from modules.opportunities.moves import move

        pk = self.pk(opp_id)
        form = self.form_dict()
        stage_id = _stage_id(form)
        errors = apply_fills(self.ctx, pk, form)
        if errors:
            self.gate(pk, stage_id, pending(self.ctx, pk, stage_id), form, errors)
            return
        data = {"stage": stage_id}
        if form.get("lost_reason"):
            data["lost_reason"] = form["lost_reason"]
        try:
            deal = move(self.ctx, pk, data)
        except APIError as exc:
            if exc.code != "stage_gate":
                raise
            self.gate(pk, stage_id, dict(exc.fields or {}), form, {})
            return
        if not self.is_htmx:
            self.go(f"/deals/{pk}")
            return
        from modules.web.pages.deals import writable_ids

        self.render_page("deals/_card.html", d=deal, movable=bool(writable_ids(self.ctx, [pk])))

    def gate(self, pk: int, stage_id: int, problems: dict, form: dict, errors: dict) -> None:
        """The dialog (htmx / script) or a full page asking for what is missing (422)."""
        from modules.opportunities.services import detail
        from modules.opportunities.pipelines import stages_of

        deal = detail(self.ctx, pk)
        stage = next((s for s in stages_of(deal_pipeline(pk)) if s.id == stage_id), None)
        translator = self.translator
        context = {"deal": deal, "stage": stage, "form": form, "errors": errors,
                   "items": gate_items(self.ctx, translator.pick, deal, problems)}
        self.set_status(422)
        if self.is_htmx:
            self.set_header("X-Huike-Gate", "1")
            self.render_page("deals/_gate.html", **context)
        else:
            self.render_page("deals/move.html", **context)


def deal_pipeline(pk: int) -> int:
    """The pipeline id of a deal already loaded through the door (configuration, not data)."""
    from modules.opportunities.models import Opportunity

    return Opportunity.select(Opportunity.pipeline).where(Opportunity.id == pk).scalar()
