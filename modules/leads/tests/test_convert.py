"""Conversion: lead → account (found by dedup, given, or new) + contact + optional opportunity
in one transaction; converted once only; an error half-way leaves nothing behind."""
from __future__ import annotations

import decimal

from modules.contacts.models import Account, Contact
from modules.leads import services
from modules.leads.models import Lead
from modules.leads.normalise import company_key
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.opportunities.models import Opportunity
from security.audit import AuditEntry


def qualified(org, login_="rep1", **values) -> int:
    """A lead that went through the SOP to 意向明确 (qualified): conversion's starting point."""
    body = {"name": "张伟", "company": "苏州精工机械有限公司", "title": "设备部经理",
            "mobile": "+86 138-0013-8000", "email": "zhang@szjg.cn", "wechat": "zw88",
            "budget": "80万", **values}
    pk = services.create_lead(org.ctx(login_), body)["lead"]["id"]
    Lead.update(status="qualified").where(Lead.id == pk).execute()
    return pk


def account(org, name: str, owner: str) -> Account:
    return Account.create(name=name, name_key=company_key(name), division=org.divisions["IA"],
                          owner=org.users[owner])


def counts() -> tuple[int, int, int]:
    return Account.select().count(), Contact.select().count(), Opportunity.select().count()


def test_convert_creates_account_contact_and_opportunity(clients, org):
    pk = qualified(org)
    response = clients("rep1").post(f"/api/v1/leads/{pk}/convert", json={
        "create_account": True, "opportunity": {"name": "产线改造", "amount": "650000"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lead"]["status"] == "converted" and body["lead"]["converted_at"]
    acct = Account.get_by_id(body["account_id"])
    assert (acct.name, acct.owner_id, acct.division_id) == (
        "苏州精工机械有限公司", org.id("rep1"), org.divisions["IA"].id)
    person = Contact.get_by_id(body["contact_id"])
    assert (person.account_id, person.name, person.title, person.mobile, person.email,
            person.wechat) == (acct.id, "张伟", "设备部经理", "13800138000", "zhang@szjg.cn",
                               "zw88")
    deal = Opportunity.get_by_id(body["opportunity_id"])
    assert (deal.account_id, deal.contact_id, deal.owner_id, deal.amount) == (
        acct.id, person.id, org.id("rep1"), decimal.Decimal("650000"))
    assert deal.pipeline.division_id == org.divisions["IA"].id  # the division's default
    stored = Lead.get_by_id(pk)
    assert (stored.account_id, stored.contact_id, stored.opportunity_id) == (
        acct.id, person.id, deal.id)
    twice = clients("rep1").post(f"/api/v1/leads/{pk}/convert", json={"create_account": True})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "converted"
    assert counts() == (1, 1, 1)
    assert clients("rep1").patch(f"/api/v1/leads/{pk}", json={"need": "x"}).status_code == 409
    assert AuditEntry.select().where(AuditEntry.action == "convert").count() == 1


def test_dedup_finds_the_account_and_contact(clients, org):
    mine = account(org, "苏州精工机械股份有限公司", "rep1")
    existing = Contact.create(account=mine, name="张工", mobile="138 0013 8000")
    pk = qualified(org)
    body = clients("rep1").post(f"/api/v1/leads/{pk}/convert", json={}).json()
    assert (body["account_id"], body["contact_id"], body["opportunity_id"]) == (
        mine.id, existing.id, None)
    assert counts() == (1, 1, 0)


def test_anothers_customer_is_not_duplicated_silently(clients, org):
    theirs = account(org, "苏州精工机械有限公司", "rep3")
    pk = qualified(org)
    rep1 = clients("rep1")
    refused = rep1.post(f"/api/v1/leads/{pk}/convert", json={})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "account_exists"
    assert refused.json()["error"]["fields"] == {"account_id": "exists"}
    assert "孙丽" not in refused.text  # the owner is not named
    hidden = rep1.post(f"/api/v1/leads/{pk}/convert", json={"account_id": theirs.id})
    assert hidden.status_code == 422 and "account_id" in hidden.json()["error"]["fields"]
    forced = rep1.post(f"/api/v1/leads/{pk}/convert", json={"create_account": True})
    assert forced.status_code == 200 and forced.json()["account_id"] != theirs.id


def test_a_failure_half_way_leaves_nothing_behind(clients, org):
    pk = qualified(org)
    rep1 = clients("rep1")  # signs in (an audited login) before the baseline
    writes = AuditEntry.select().where(AuditEntry.action != "read_sensitive")
    before_audit = writes.count()
    response = rep1.post(f"/api/v1/leads/{pk}/convert", json={
        "create_account": True, "opportunity": {"name": "坏商机", "amount": "很多钱"}})
    assert response.status_code == 422 and "amount" in response.json()["error"]["fields"]
    assert counts() == (0, 0, 0)  # the account and contact made before the failure are gone
    stored = Lead.get_by_id(pk)
    assert (stored.status, stored.account_id, stored.converted_at) == ("qualified", None, None)
    assert writes.count() == before_audit  # no create/convert entry survived the rollback
    assert clients("rep1").post(f"/api/v1/leads/{pk}/convert",
                                json={"create_account": True}).status_code == 200


def test_conversion_rights_scopes_and_sop(clients, org):
    pk = qualified(org)
    assert clients("rep2").post(f"/api/v1/leads/{pk}/convert", json={}).status_code == 404
    assert clients("mkt").post(f"/api/v1/leads/{pk}/convert", json={}).status_code == 403
    fresh = services.create_lead(org.ctx("rep1"), {"name": "新"})["lead"]["id"]
    early = clients("rep1").post(f"/api/v1/leads/{fresh}/convert", json={})
    assert early.status_code == 422 and "status" in early.json()["error"]["fields"]
    bad = clients("rep1").post(f"/api/v1/leads/{pk}/convert", json={
        "account_id": "x", "create_account": "yes", "opportunity": []})
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"account_id", "create_account", "opportunity"}
    by_manager = clients("mgr").post(f"/api/v1/leads/{pk}/convert", json={
        "create_account": True, "opportunity": {}})
    assert by_manager.status_code == 200, by_manager.text
    body = by_manager.json()
    assert Account.get_by_id(body["account_id"]).owner_id == org.id("rep1")
    assert Opportunity.get_by_id(body["opportunity_id"]).owner_id == org.id("rep1")
    assert counts() == (1, 1, 1)
