"""离职交接: preview counts, who may, round-robin that keeps an account's records together,
exactly the right records moved, one audit entry per moved record, the user disabled, all or
nothing; and the `huike handover` command."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import build_cli
from core.db import database
from core.web.base import APIError
from modules.base.models import User
from modules.contacts import accounts, handover, people, tasks
from modules.contacts.models import Account, Contact, Task
from security.audit import AuditEntry, verify
from security.context import system_context


@pytest.fixture
def estate(org):
    """rep1 owns 3 accounts (one with a contact and an open task on it), 1 open task without
    account, 1 done task; rep2 owns 1 account and 1 task."""
    rep1, rep2 = org.ctx("rep1"), org.ctx("rep2")
    ids = [accounts.create_account(rep1, {"name": f"甲{i}"})[0]["id"] for i in range(3)]
    other = accounts.create_account(rep2, {"name": "乙"})[0]["id"]
    people.create_contact(rep1, {"account": ids[0], "name": "张总"})
    on_account = tasks.create_task(rep1, {"title": "跟进甲0", "res_model": "account",
                                          "res_id": ids[0]})["id"]
    loose = tasks.create_task(rep1, {"title": "整理名片"})["id"]
    done = tasks.create_task(rep1, {"title": "已完成"})["id"]
    tasks.complete_task(rep1, done)
    theirs = tasks.create_task(rep2, {"title": "乙的事"})["id"]
    return {"accounts": ids, "other": other, "on_account": on_account, "loose": loose,
            "done": done, "theirs": theirs}


def counts(result):
    return {item["label"]: item["count"] for item in result["counts"]}


def test_preview_counts_and_changes_nothing(org, estate):
    result = handover.preview(org.ctx("mgr"), "rep1", ["rep2"])
    assert counts(result) == {"accounts": 3, "tasks": 2} and result["total"] == 5
    assert [u["login"] for u in result["to"]] == ["rep2"]
    assert Account.select().where(Account.owner == org.id("rep1")).count() == 3
    assert User.get_by_id(org.id("rep1")).active


def test_only_admins_and_managers_above_may_hand_over(org, estate):
    for login in ("rep2", "fin"):  # no right at all
        with pytest.raises(APIError) as err:
            handover.preview(org.ctx(login), "rep1", ["rep2"])
        assert err.value.status_code == 403
    with pytest.raises(APIError) as err:  # a manager, but not rep1's
        handover.execute(org.ctx("other_mgr"), "rep1", ["other_mgr"])
    assert err.value.status_code == 403
    with pytest.raises(APIError) as err:  # rep1's manager, but other_mgr is not in his team
        handover.execute(org.ctx("mgr"), "rep1", ["other_mgr"])
    assert err.value.status_code == 403 and err.value.fields == {"to": "other_mgr"}
    with pytest.raises(APIError) as err:  # not oneself
        handover.preview(org.ctx("mgr"), "mgr", ["rep2"])
    assert err.value.status_code == 422 and "from" in err.value.fields
    admin = org.ctx("admin")
    assert handover.preview(admin, "rep1", ["other_mgr"])["total"] == 5
    for to, field in ((["rep1"], "to"), ([], "to"), (["nobody"], "to")):
        with pytest.raises(APIError) as err:
            handover.preview(admin, "rep1", to)
        assert err.value.status_code == 422 and field in err.value.fields
    assert Account.select().where(Account.owner == org.id("rep1")).count() == 3


def test_handover_moves_exactly_the_right_records_and_audits_each(org, estate):
    before = AuditEntry.select().count()
    result = handover.execute(org.ctx("mgr"), "rep1", ["rep2", "mgr"])
    assert counts(result) == {"accounts": 3, "tasks": 2} and result["total"] == 5
    ids = estate["accounts"]
    owners = {a.id: a.owner_id for a in Account.select()}
    # round-robin over the accounts; the task on 甲0 follows 甲0's new owner
    assert [owners[i] for i in ids] == [org.id("rep2"), org.id("mgr"), org.id("rep2")]
    assert owners[estate["other"]] == org.id("rep2")  # untouched
    assignee = {t.id: t.assignee_id for t in Task.select()}
    assert assignee[estate["on_account"]] == owners[ids[0]]
    assert assignee[estate["loose"]] == org.id("mgr")  # next in turn
    assert assignee[estate["done"]] == org.id("rep1")  # history stays
    assert assignee[estate["theirs"]] == org.id("rep2")
    assert result["per_receiver"] == {"rep2": 3, "mgr": 2}
    assert not User.get_by_id(org.id("rep1")).active
    # the contact follows its account: rep2 now sees it, rep1 is gone
    assert Contact.get(Contact.name == "张总").account_id == ids[0]
    entries = list(AuditEntry.select().where(AuditEntry.seq > before).order_by(AuditEntry.seq))
    moved = [e for e in entries if e.action == "handover"]
    assert sorted((e.model, e.res_id) for e in moved) == sorted(
        [("contacts_account", i) for i in ids]
        + [("contacts_task", estate["on_account"]), ("contacts_task", estate["loose"])])
    for entry in moved:
        assert entry.details["from"] == org.id("rep1") and entry.actor_login == "mgr"
        owner = owners.get(entry.res_id) if entry.model == "contacts_account" \
            else assignee[entry.res_id]
        assert entry.details["to"] == owner
    disabled = [e for e in entries if e.model == "base_user"]
    assert len(disabled) == 1 and disabled[0].details["reason"] == "handover"
    assert verify().ok
    # nothing left to move
    assert handover.preview(org.ctx("admin"), "rep1", ["rep2"])["total"] == 0


class Exploding:
    label = "exploding"

    def count(self, ctx, from_user):
        return 1

    def move(self, ctx, from_user, assign):
        raise RuntimeError("provider failed")


def test_a_failing_provider_rolls_everything_back(org, estate):
    found = handover.providers(org.registry)
    found.append(Exploding())  # a real provider object, as another module would register
    try:
        with pytest.raises(RuntimeError):
            handover.execute(org.ctx("admin"), "rep1", ["rep2"])
    finally:
        found.pop()
    assert Account.select().where(Account.owner == org.id("rep1")).count() == 3
    assert User.get_by_id(org.id("rep1")).active
    assert not AuditEntry.select().where(AuditEntry.action == "handover").exists()


@pytest.fixture
def run(install):
    cli = build_cli()

    def invoke(*args):
        database.close()
        try:
            return CliRunner().invoke(cli, [*args, "--data-dir", str(install.data_dir)],
                                      catch_exceptions=False)
        finally:
            database.connect(reuse_if_open=True)
    return invoke


def test_cli_dry_run_then_handover(org, estate, run):
    result = run("handover", "rep1", "rep2,mgr", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "accounts: 3" in result.output and "tasks: 2" in result.output
    assert Account.select().where(Account.owner == org.id("rep1")).count() == 3
    result = run("handover", "rep1", "rep2,mgr")
    assert result.exit_code == 0, result.output
    assert "total: 5" in result.output and "已停用" in result.output
    assert Account.select().where(Account.owner == org.id("rep1")).count() == 0
    assert not User.get_by_id(org.id("rep1")).active
    entries = AuditEntry.select().where(AuditEntry.action == "handover")
    assert entries.count() == 5 and {e.via for e in entries} == {"cli"}
    result = run("handover", "rep1", "ghost")
    assert result.exit_code == 2 and "no user" in result.output


def test_system_context_may_hand_over(org, estate):
    result = handover.execute(system_context(org.registry), "rep1", ["rep2"])
    assert result["total"] == 5
