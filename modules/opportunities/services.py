"""Business rules of opportunities: create, read, update, delete. Stage moves live in
`moves.py`, competitors in `competitors.py`.

Every function takes `ctx` first and goes through the door: the model right (403), the row
scope (404 outside it; 403 when readable but not writable), field rules on what is written
(403 listing every forbidden field) and on what is answered (`present`). A deal is created
in its account's division; a new or reassigned deal must stay inside the caller's write
scope (403 `out_of_scope`, nothing kept).
"""
from __future__ import annotations

from core.db import atomic, is_postgres
from core.web.base import APIError
from modules.base.models import User
from modules.contacts.models import Account, Contact
from modules.opportunities.gates import DealFacts, gate_error, stages_entered, unmet
from modules.opportunities.models import Opportunity, OpportunityCompetitor, Pipeline, StageChange
from modules.opportunities.pipelines import default_pipeline, first_open_stage, stages_of
from modules.opportunities.present import present
from modules.opportunities.validation import invalid, parse, parse_competitor

EDITABLE = {"name", "contact", "owner", "amount", "budget", "currency", "expected_close",
            "forecast_category", "probability", "description", "custom"}
CREATABLE = EDITABLE | {"account", "pipeline", "stage"}
MOVE_ONLY = {"stage", "pipeline", "lost_reason", "closed_at", "stage_entered_at",
             "cycle_seconds", "division", "account", "created_by"}


def currency_of(ctx) -> str:
    return ctx.registry.settings["locale"]["currency"]


def record_id(value) -> int:
    if isinstance(value, bool):
        return -1
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def load(ctx, opp_id, op: str = "read", *, lock: bool = False) -> Opportunity:
    """The full row (for rules, never answered as is) if `opp_id` is in the caller's `op`
    scope: 404 outside the read scope, 403 when readable but not writable."""
    import security
    from security.crud import not_found, require_model

    require_model(ctx, Opportunity, op)
    pk = record_id(opp_id)
    query = Opportunity.select().where(security.scope(ctx, Opportunity, op)
                                       & (Opportunity.id == pk))
    if lock and is_postgres():
        query = query.for_update()
    row = query.first()
    if row is not None:
        return row
    if op != "read" and Opportunity.select(Opportunity.id).where(
            security.scope(ctx, Opportunity, "read") & (Opportunity.id == pk)).exists():
        raise APIError(403, f"无权修改此商机 / not allowed to change opportunity {opp_id}",
                       code="forbidden")
    raise not_found(Opportunity, opp_id)


def in_write_scope(ctx, pk: int) -> bool:
    import security

    return Opportunity.select(Opportunity.id).where(
        security.scope(ctx, Opportunity, "write") & (Opportunity.id == pk)).exists()


def out_of_scope() -> APIError:
    return APIError(403, "商机将超出你的数据范围 / the opportunity would be outside your data "
                         "scope", code="out_of_scope", fields={"owner": "out of scope"})


def detail(ctx, opp_id) -> dict:
    """One deal as the caller may see it, with its competitors."""
    import security

    row = load(ctx, opp_id)
    item = present(ctx, [row])[0]
    if security.can(ctx, "read", "model/opportunity_competitor"):
        rows = (OpportunityCompetitor.select(*security.permitted_columns(
            ctx, OpportunityCompetitor)).where(OpportunityCompetitor.opportunity == row.id)
            .order_by(OpportunityCompetitor.id))
        item["competitors"] = security.serialise(ctx, OpportunityCompetitor, rows)
    return item


def audit_change(ctx, row: Opportunity, before: dict | None, after: dict | None) -> None:
    from security import audit
    audit.record_change(ctx, row, before, after)


# ---------------------------------------------------------------------- references
def readable_account(ctx, account_id: int) -> Account:
    import security

    account = None
    if security.can(ctx, "read", "model/account"):
        account = (Account.select(Account.id, Account.division)
                   .where(security.scope(ctx, Account, "read") & (Account.id == account_id))
                   .first())
    if account is None:
        raise invalid({"account": "客户不存在或不可见 / no such account in your scope"})
    return account


def check_contact(contact_id: int | None, account_id: int) -> None:
    if contact_id is not None and not Contact.select(Contact.id).where(
            (Contact.id == contact_id) & (Contact.account == account_id)).exists():
        raise invalid({"contact": "联系人不属于该客户 / the contact is not one of the "
                                  "account's contacts"})


def check_owner(owner_id: int) -> None:
    active = User.select(User.id).where((User.id == owner_id) & (User.active == True))  # noqa: E712
    if not active.exists():
        raise invalid({"owner": "没有这个在职用户 / no such active user"})


def pipeline_and_stage(values: dict, division_id: int):
    """The pipeline (given, else the division's default) and the starting stage (given,
    else the first open one); a new deal starts in an open stage of its division."""
    if values.get("pipeline") is not None:
        pipeline = Pipeline.get_or_none((Pipeline.id == values["pipeline"])
                                        & (Pipeline.division == division_id)
                                        & (Pipeline.active == True))  # noqa: E712
        if pipeline is None:
            raise invalid({"pipeline": "该事业部没有这个销售流程 / no such pipeline in the "
                                       "account's division"})
    else:
        pipeline = default_pipeline(division_id)
    stages = stages_of(pipeline.id)
    if values.get("stage") is not None:
        stage = next((s for s in stages if s.id == values["stage"]), None)
        if stage is None or stage.kind != "open":
            raise invalid({"stage": "新商机需从该流程的进行中阶段开始 / a new deal starts in an "
                                    "open stage of its pipeline"})
    else:
        stage = first_open_stage(pipeline.id)
    return pipeline, stage, stages


# ---------------------------------------------------------------------- create / update
def create(ctx, data: dict) -> dict:
    """Create a deal (with optional `competitors`); the stage's gates — and those of every
    stage before it — must hold."""
    import security
    from security.crud import require_model

    require_model(ctx, Opportunity, "create")
    values = parse({k: v for k, v in data.items() if k != "competitors"}, CREATABLE,
                   currency_of(ctx), required=("name", "account"))
    security.check_write(ctx, Opportunity, values, op="create")
    competitors = _competitors(ctx, data.get("competitors"))
    account = readable_account(ctx, values["account"])
    check_contact(values.get("contact"), account.id)
    owner = values.get("owner") or ctx.user_id
    if owner is not None:
        check_owner(owner)
    pipeline, stage, stages = pipeline_and_stage(values, account.division_id)
    now = ctx.now()
    row = {**values, "division": account.division_id, "owner": owner, "pipeline": pipeline.id,
           "stage": stage.id, "stage_entered_at": now, "created_at": now, "updated_at": now,
           "created_by": ctx.user_id, "currency": values.get("currency", currency_of(ctx))}
    problems = unmet(ctx, DealFacts(values=row, competitor_count=len(competitors)),
                     stages_entered(None, stage, stages))
    if problems:
        raise gate_error(problems)
    with atomic():
        pk = Opportunity.insert(row).execute()
        for competitor in competitors:
            OpportunityCompetitor.create(opportunity=pk, created_at=now, **competitor)
        StageChange.create(opportunity=pk, from_stage=None, to_stage=stage.id,
                           user=ctx.user_id, at=now)
        if not in_write_scope(ctx, pk):
            raise out_of_scope()
        created = Opportunity.get_by_id(pk)
        audit_change(ctx, created, None, dict(created.__data__))
    return detail(ctx, pk)


def _competitors(ctx, items) -> list[dict]:
    import security

    if items in (None, []):
        return []
    if not isinstance(items, list):
        raise invalid({"competitors": "必须是列表 / must be a list"})
    security.require(ctx, "create", "model/opportunity_competitor")
    return [parse_competitor(item, f"competitors.{i}.") for i, item in enumerate(items)]


def update(ctx, opp_id, data: dict) -> dict:
    """Change a deal's fields (not its stage: see `moves.move`)."""
    import security
    from security.crud import require_model

    require_model(ctx, Opportunity, "update")
    staged = sorted(set(data) & MOVE_ONLY)
    if staged:
        raise invalid({key: "请通过 POST /api/v1/opportunities/<id>/move 或新建商机修改 / change "
                            "it with the move endpoint or a new deal" for key in staged})
    values = parse(data, EDITABLE, currency_of(ctx))
    security.check_write(ctx, Opportunity, values)
    with atomic():
        row = load(ctx, opp_id, "write", lock=True)
        if "contact" in values:
            check_contact(values["contact"], row.account_id)
        if values.get("owner") is not None and values["owner"] != row.owner_id:
            check_owner(values["owner"])
        if values:
            before = dict(row.__data__)
            Opportunity.update({**values, "updated_at": ctx.now()}).where(
                Opportunity.id == row.id).execute()
            if not in_write_scope(ctx, row.id):
                raise out_of_scope()
            audit_change(ctx, row, before, dict(Opportunity.get_by_id(row.id).__data__))
    return detail(ctx, row.id)


def delete(ctx, opp_id) -> None:
    """Delete a deal (the `delete` right, in the write scope); its history goes with it."""
    from security import crud

    with atomic():
        row = load(ctx, opp_id, "delete", lock=True)
        before = dict(row.__data__)
        crud.delete_scoped(ctx, Opportunity, row.id)
        audit_change(ctx, row, before, None)
