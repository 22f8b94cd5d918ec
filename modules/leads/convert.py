"""Conversion (转化): lead → account + contact + optional opportunity, in ONE transaction.

    convert(ctx, lead_id, {"account_id": 5})                      # into an existing account
    convert(ctx, lead_id, {"create_account": true,
                           "opportunity": {"name": "…", "amount": "200000"}})

- Needs `action/lead.convert` and the lead in the caller's write scope (404/403). A
  converted lead answers 409 (`converted`); two converts racing: the conditional status
  update lets exactly one through, the other gets 409. The status SOP (`sop.check_move`)
  decides from which statuses a lead may be converted (422 otherwise).
- Account: the given `account_id` (must be readable, 422 otherwise); else, unless
  `create_account` is true, the account found by dedup — same `name_key` as the lead's
  company, in the lead's division and the caller's read scope. A matching account the
  caller may NOT read (another team's customer) is refused with 409 `account_exists`
  instead of silently creating a duplicate (撞单); `create_account: true` overrides.
  A new account is created through contacts' service (field rules, scope, audit).
- Contact: an existing contact of that account with the same mobile or e-mail (blind
  index), else a new one with the lead's name, title and channels.
- Opportunity (optional, `opportunity` or `create_opportunity`): through the opportunities
  service, in the division's default pipeline unless the body names one; any error there
  (422 etc.) rolls everything back — account, contact, the lead's status, audit entries.
- The lead becomes `converted` with `converted_at` and the three links; audited, and the
  `lead_converted` event is published after commit.
"""
from __future__ import annotations

from core.db import atomic
from core.events import EventBus
from core.web.base import APIError
from modules.contacts.common import as_pk, unprocessable
from modules.contacts.models import Account, Contact
from modules.leads import sop
from modules.leads.models import Lead
from modules.leads.services import frozen, get_lead
from security.crud import get_or_404, require_model

CONVERT_ACTION = "action/lead.convert"


def _options(data) -> tuple[int | None, bool, dict | None]:
    if not isinstance(data, dict):
        raise APIError(400, "请求体必须是对象 / body must be an object")
    problems = {}
    account_id = None
    if data.get("account_id") is not None:
        account_id = as_pk(data["account_id"])
        if account_id is None:
            problems["account_id"] = "必须是客户编号 / must be an account id"
    create = data.get("create_account", False)
    if not isinstance(create, bool):
        problems["create_account"] = "必须是 true/false / must be true or false"
    if account_id is not None and create:
        problems["create_account"] = "不能与 account_id 同时使用 / not together with account_id"
    opportunity = data.get("opportunity", data.get("create_opportunity"))
    if opportunity is not None and not isinstance(opportunity, dict):
        problems["opportunity"] = "必须是对象 / must be an object"
    if problems:
        raise unprocessable(problems)
    return account_id, create, opportunity


def _existing_account(ctx, lead: Lead, account_id: int | None, create: bool) -> int | None:
    """The account to convert into, or None to create one."""
    import security
    from modules.contacts.pool import readable

    if account_id is not None:
        found = Account.select(Account.id).where((Account.id == account_id)
                                                 & readable(ctx)).exists()
        if not found or not security.can(ctx, "read", "model/account"):
            raise unprocessable({"account_id": "客户不存在或不可见 / no such account in your "
                                               "scope"})
        return account_id
    if create or not lead.company_key:
        return None
    same = (Account.select(Account.id).where((Account.name_key == lead.company_key)
                                             & (Account.division == lead.division_id))
            .order_by(Account.id))
    mine = same.where(security.scope(ctx, Account, "read")).first()
    if mine is not None:
        return mine.id
    if same.exists():
        raise APIError(409, "已存在同名客户（归属他人）；如确需新建请设 create_account / an account "
                       "with this name exists (owned by someone else); set create_account to "
                       "create another", code="account_exists", fields={"account_id": "exists"})
    return None


def _account(ctx, lead: Lead, account_id: int | None) -> int:
    from modules.contacts.accounts import create_account

    if account_id is not None:
        return account_id
    body = {"name": lead.company or lead.name}
    for name in ("industry", "region"):
        value = getattr(lead, f"{name}_id" if name == "region" else name)
        if value is not None:
            body[name] = value
    if lead.owner_id and lead.owner_id != ctx.user_id:
        body["owner"] = lead.owner_id
    created, _warnings = create_account(ctx, body, division=lead.division_id)
    return created["id"]


def _contact(ctx, lead: Lead, account_id: int) -> int:
    from modules.contacts.people import create_contact

    matches = [getattr(Contact, f"{n}_bidx") == getattr(lead, f"{n}_bidx")
               for n in ("mobile", "email") if getattr(lead, f"{n}_bidx")]
    if matches:
        same = Contact.select(Contact.id).where(
            (Contact.account == account_id) & (matches[0] if len(matches) == 1
                                               else matches[0] | matches[1])).first()
        if same is not None:
            return same.id
    body = {"account": account_id, "name": lead.name}
    for name in ("title", "mobile", "email", "wechat"):
        if getattr(lead, name):
            body[name] = getattr(lead, name)
    return create_contact(ctx, body)["id"]


def _opportunity(ctx, lead: Lead, account_id: int, contact_id: int, data: dict) -> int:
    from modules.opportunities import services as opportunities

    body = {"name": f"{lead.company or lead.name} 商机", "account": account_id,
            "contact": contact_id}
    if lead.budget is not None:
        body["budget"] = str(lead.budget)
    if lead.owner_id and lead.owner_id != ctx.user_id:
        body["owner"] = lead.owner_id
    body.update(data)
    return opportunities.create(ctx, body)["id"]


def _mark(ctx, lead: Lead, links: dict) -> None:
    """The conditional update that makes exactly one convert win."""
    now = ctx.now()
    changed = (Lead.update(status="converted", converted_at=now, status_changed_at=now,
                           updated_at=now, **links)
               .where((Lead.id == lead.id) & (Lead.status != "converted")
                      & Lead.merged_into.is_null()).execute())
    if not changed:
        raise APIError(409, "线索已转化 / the lead is already converted", code="converted")


def convert(ctx, lead_id, data: dict) -> dict:
    """Convert a lead; returns `{"lead", "account_id", "contact_id", "opportunity_id"}`."""
    import security
    from security import audit

    require_model(ctx, Lead, "update")
    security.require(ctx, "execute", CONVERT_ACTION)
    account_id, create, opportunity = _options(data)
    pk = get_or_404(ctx, Lead, lead_id, "write").id
    with atomic():
        lead = Lead.get_by_id(pk)  # every column: the contact takes the lead's channels
        refusal = frozen(lead)
        if refusal is not None:
            raise refusal
        sop.check_move(lead, "converted", {})  # the status SOP decides from which statuses
        _mark(ctx, lead, {})  # first: a concurrent convert waits here, then gets 409
        account = _account(ctx, lead, _existing_account(ctx, lead, account_id, create))
        contact = _contact(ctx, lead, account)
        deal = _opportunity(ctx, lead, account, contact, opportunity) \
            if opportunity is not None else None
        links = {"account_id": account, "contact_id": contact, "opportunity_id": deal}
        Lead.update(**links).where(Lead.id == pk).execute()
        audit.record(ctx, "convert", model=Lead._meta.table_name, res_id=pk,
                     details=links, division_id=lead.division_id)
        EventBus.from_registry(ctx.registry).publish(
            "lead_converted", {"lead_id": pk, **links, "division_id": lead.division_id}, ctx)
    return {"lead": get_lead(ctx, pk), **links}
