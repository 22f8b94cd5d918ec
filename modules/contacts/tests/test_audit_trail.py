"""Every write of the contacts module lands in the hash-chained audit log, in the same
transaction, with contact channels stored only as hashes; refused writes leave no entry."""
from __future__ import annotations

import pytest

from core.web.base import APIError
from modules.contacts import accounts, activities, people, pool, tasks
from security.audit import AuditEntry, verify


def entries(model):
    return [(e.action, e.res_id, e.actor_login) for e in
            AuditEntry.select().where(AuditEntry.model == model).order_by(AuditEntry.seq)]


def test_account_and_contact_writes_are_audited(org):
    rep1 = org.ctx("rep1")
    account = accounts.create_account(rep1, {"name": "甲一"})[0]["id"]
    accounts.update_account(rep1, account, {"lifecycle": "customer"})
    contact = people.create_contact(rep1, {"account": account, "name": "张总",
                                           "mobile": "13812345678"})["id"]
    people.update_contact(rep1, contact, {"mobile": "13900001111"})
    people.delete_contact(rep1, contact)
    pool.release(rep1, account)
    pool.claim(org.ctx("rep2"), account)
    assert entries("contacts_account") == [
        ("create", account, "rep1"), ("update", account, "rep1"),
        ("release", account, "rep1"), ("claim", account, "rep2")]
    assert entries("contacts_contact") == [
        ("create", contact, "rep1"), ("update", contact, "rep1"), ("delete", contact, "rep1")]
    update = AuditEntry.get((AuditEntry.model == "contacts_account")
                            & (AuditEntry.action == "update"))
    assert update.details["changes"]["lifecycle"] == {"old": "lead", "new": "customer"}
    text = str([e.details for e in AuditEntry.select()])
    assert "13812345678" not in text and "13900001111" not in text
    changed = AuditEntry.get((AuditEntry.model == "contacts_contact")
                             & (AuditEntry.action == "update")).details["changes"]["mobile"]
    assert changed["old"].startswith("hmac-sha256:") and changed["new"].startswith("hmac-sha256:")
    assert verify().ok


def test_activity_and_task_writes_are_audited_and_refusals_are_not(org):
    rep1 = org.ctx("rep1")
    account = accounts.create_account(rep1, {"name": "甲一"})[0]["id"]
    activity = activities.log_activity(rep1, {"res_model": "account", "res_id": account,
                                              "kind": "note", "subject": "备注"})["id"]
    task = tasks.create_task(rep1, {"title": "回访"})["id"]
    tasks.complete_task(rep1, task)
    before = AuditEntry.select().count()
    for call in (lambda: tasks.delete_task(org.ctx("rep2"), task),
                 lambda: activities.delete_activity(org.ctx("rep2"), activity),
                 lambda: accounts.update_account(org.ctx("rep2"), account, {"name": "x"})):
        with pytest.raises(APIError):
            call()
    assert AuditEntry.select().count() == before
    tasks.delete_task(rep1, task)
    activities.delete_activity(rep1, activity)
    assert [a for a, _, _ in entries("contacts_task")] == ["create", "update", "delete"]
    assert [a for a, _, _ in entries("contacts_activity")] == ["create", "delete"]
