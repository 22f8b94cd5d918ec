"""Bulk-load mode (`importer.bulkload`): a large SQLite import drops the random-key indexes of
`leads_lead` and builds them again after — the result is exactly the indexed import's
(every policy, the worker process or inline), a lead or contact another connection adds
meanwhile is still found, and no way out of a run leaves the indexes dropped: the end, a
failure, or a killed run (the next run, the resume job)."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from core.db import database
from modules.leads.importer import bulkload, worker
from modules.leads.importer.batch import BatchProcessor
from modules.leads.importer.run import execute
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRowError, ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.leads.tests.test_import import run_import
from modules.leads.tests.test_import_ahead import elsewhere
from modules.leads.tests.test_import_cli import _killed_mid_file, _spawn, huike  # noqa: F401
from modules.leads.tests.test_import_worker import MIXED, outcome, setting_up, use_worker
from tests.support import TEST_PG_URL

pytestmark = pytest.mark.skipif(bool(TEST_PG_URL), reason="bulk-load mode is SQLite's")


def bulk_from(org, monkeypatch, rows: int) -> None:
    """`leads.import_bulk_rows` for this test (0: never bulk)."""
    monkeypatch.setitem(org.registry.settings.values["leads"], "import_bulk_rows", rows)


def watch_indexes(monkeypatch) -> list[list[str]]:
    """The deferred indexes missing while each batch is handled."""
    seen: list[list[str]] = []
    handle = BatchProcessor.handle

    def watched(self, batch):
        seen.append(bulkload.missing())
        return handle(self, batch)

    monkeypatch.setattr(BatchProcessor, "handle", watched)
    return seen


def bulk_batches(org, monkeypatch) -> list:
    """What both mid-load tests start from: `setting_up`, the worker process and bulk mode
    for any file, 10-row batches each committed alone (others commit between them); returns
    the run's ledgers, appended as `run._held_ledger` makes them."""
    from modules.leads.importer import run as run_module

    setting_up(org)
    use_worker(org, monkeypatch, 1)
    bulk_from(org, monkeypatch, 1)
    leads = org.registry.settings.values["leads"]
    monkeypatch.setitem(leads, "import_batch_rows", 10)
    monkeypatch.setitem(leads, "import_commit_rows", 10)
    ledgers: list = []
    held_ledger = run_module._held_ledger

    def kept(processor, bulk):
        held_ledger(processor, bulk)
        ledgers.append(processor.ledger)

    monkeypatch.setattr(run_module, "_held_ledger", kept)
    return ledgers


def before_batches(monkeypatch, actions: dict) -> None:
    """Run `actions[n](feed)` before the worker's batch `n` reaches the importer."""
    feed_batches = worker.Feed.__iter__

    def slow_importer(feed):
        for number, batch in enumerate(feed_batches(feed)):
            if number in actions:
                actions[number](feed)
            yield batch

    monkeypatch.setattr(worker.Feed, "__iter__", slow_importer)


@pytest.mark.parametrize("policy", ["skip", "merge", "create"])
@pytest.mark.parametrize("threshold, head", [(1, 0), (1, 2), (0, 0)])  # worker; head; inline
def test_bulk_and_indexed_imports_give_the_same_result(org, tmp_path, monkeypatch, policy,
                                                       threshold, head):
    path = write(tmp_path, "mixed.csv", csv_bytes(MIXED, encoding="gbk"))
    leads = org.registry.settings.values["leads"]
    monkeypatch.setitem(leads, "import_batch_rows", 10)
    monkeypatch.setitem(leads, "import_commit_rows", 20)  # others may commit between groups
    use_worker(org, monkeypatch, threshold, head)
    seen = watch_indexes(monkeypatch)
    results = []
    for bulk in (0, 1):
        setting_up(org)
        bulk_from(org, monkeypatch, bulk)
        seen.clear()
        run = run_import(org, path, policy=policy)
        assert bulkload.missing() == []  # built again at the end
        assert all(missing == (bulkload.index_names() if bulk else []) for missing in seen)
        results.append(outcome(run.id))
    indexed, bulked = results
    assert bulked == indexed
    assert indexed[2][0] == "done" and indexed[2][2] == len(MIXED)
    skipped = [e for e in indexed[1] if e[1] == "skipped"]  # duplicates found, not created
    if policy == "skip":  # of the existing lead, of earlier rows, of a customer's contact
        assert len(skipped) >= 4
    if policy == "merge":
        assert indexed[2][4] >= 3 and len(skipped) == 1  # merged; the contact's row skipped


def test_a_lead_and_a_contact_added_during_a_bulk_load_are_found(org, tmp_path, monkeypatch):
    """Another connection commits while the worker is three batches ahead: the importer
    adds the new lead from the change log (`HeldLedger.observe`) and looks the customers up
    itself for the batches probed before that commit."""
    from modules.contacts.models import Account, Contact

    ledgers = bulk_batches(org, monkeypatch)
    rows = [row(f"客户{n}", f"1360013{n:04d}") for n in range(60)]
    path = write(tmp_path, "a.csv", csv_bytes(rows))

    def added_meanwhile():
        account = Account.create(name="华为", name_key="华为", division=org.divisions["MD"])
        Contact.create(account=account, name="赵工", phone="136 0013 0025")  # row 27
        Lead.create(division=org.divisions["IA"], name="网单", mobile="13600130027")  # row 29

    def when_the_queue_is_full(feed):
        deadline = time.monotonic() + 30
        while not feed.queue.full() and time.monotonic() < deadline:
            time.sleep(0.01)
        elsewhere(added_meanwhile)

    before_batches(monkeypatch, {0: when_the_queue_is_full})
    run = run_import(org, path)
    skipped = {e.row for e in ImportRowError.select().where(ImportRowError.run == run.id)}
    assert skipped == {27, 29}
    assert (run.created, run.skipped) == (58, 2)
    assert isinstance(ledgers[0], bulkload.HeldLedger)
    assert (ledgers[0].reloads, ledgers[0].added) == (0, 1)  # the new lead, read by id
    assert bulkload.missing() == []


def test_a_failed_bulk_load_builds_the_indexes_again_and_resumes(org, tmp_path, monkeypatch):
    setting_up(org)
    use_worker(org, monkeypatch, 1)
    bulk_from(org, monkeypatch, 1)
    monkeypatch.setitem(org.registry.settings.values["leads"], "import_commit_rows", 10)
    rows = [row(f"客户{n}", f"1380013{n:04d}") for n in range(50)] + [row("重复", "13800130003")]
    path = write(tmp_path, "a.csv", csv_bytes(rows))
    handle, calls = BatchProcessor.handle, []

    def failing(self, batch):
        calls.append(bulkload.missing())
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return handle(self, batch)

    monkeypatch.setattr(BatchProcessor, "handle", failing)
    ctx = org.ctx(None)
    from modules.leads.importer import service

    run, _ = service.start(ctx, path, path.name, {"policy": "skip"}, org.divisions["IA"].id)
    with pytest.raises(RuntimeError):
        execute(ctx, run.id, batch_rows=10)
    assert calls[0] == bulkload.index_names() and bulkload.missing() == []
    assert ImportRun.get_by_id(run.id).processed == 20
    monkeypatch.setattr(BatchProcessor, "handle", handle)
    done = execute(ctx, run.id, batch_rows=10)
    assert (done.status, done.processed, done.created, done.skipped) == ("done", 51, 50, 1)
    assert Lead.select().where(Lead.name.startswith("客户")).count() == 50


def test_the_change_log_holds_what_others_do_to_existing_leads(org):
    """Updates that only add channels: `insert`; a channel removed or replaced, a merge, a
    division moved, a delete: `change`; a save that changes no channel, and any INSERT (new
    leads are found above the highest id seen): nothing."""
    division = org.divisions["IA"]
    with database.atomic():
        bulkload._watch()
    own = Lead.create(division=division, name="甲", mobile="13800000001")
    other = Lead.create(division=division, name="乙", mobile="13800000002")
    web = Lead.create(division=division, name="网单", mobile="13800000003")
    web.email = "w@example.com"
    web.save()  # a channel added
    web.name = "网单客户"
    web.save()  # no channel changed
    other.mobile = "13800000004"
    other.save()  # replaced
    Lead.update(merged_into=other.id).where(Lead.id == own.id).execute()
    Lead.update(division=org.divisions["MD"]).where(Lead.id == other.id).execute()
    web.delete_instance()
    log = database.execute_sql(f'SELECT "lead_id", "kind" FROM "{bulkload.CHANGES}" '
                               'ORDER BY "seq"').fetchall()
    assert log == [(web.id, "insert"), (other.id, "change"), (own.id, "change"),
                   (other.id, "change"), (web.id, "change")]
    assert bulkload.restore() == []  # the indexes are there; the log and triggers go
    assert not {bulkload.CHANGES, *bulkload.TRIGGERS} & bulkload._schema_names()


def test_a_rep_changing_a_leads_mobile_during_a_bulk_load_is_seen(org, tmp_path, monkeypatch):
    """王芳's mobile is changed to row 47's while the import runs: row 47 is her duplicate
    now, and the last row (her old mobile) a new lead; an unrelated commit reads nothing."""
    from modules.contacts.models import Account

    ledgers = bulk_batches(org, monkeypatch)
    rows = [row(f"客户{n}", f"1360013{n:04d}") for n in range(60)] + [row("旧号", "13900139000")]
    path = write(tmp_path, "a.csv", csv_bytes(rows))

    def changed_meanwhile():
        wang = Lead.get(Lead.name == "王芳")
        wang.mobile = "136 0013 0045"  # row 47
        wang.save()

    before_batches(monkeypatch, {
        1: lambda feed: elsewhere(lambda: Account.create(
            name="无关", name_key="无关", division=org.divisions["MD"])),  # no lead touched
        2: lambda feed: elsewhere(changed_meanwhile)})
    run = run_import(org, path)
    skipped = {e.row for e in ImportRowError.select().where(ImportRowError.run == run.id)}
    assert skipped == {47}
    assert Lead.select().where(Lead.name == "旧号").exists()
    assert (ledgers[0].reloads, ledgers[0].added) == (1, 0)


def test_indexes_a_killed_bulk_load_left_dropped_are_built_again(org, tmp_path, monkeypatch):
    """A SIGKILL in bulk mode leaves the indexes dropped and the triggers in place (nothing
    runs after it): the resume job restores both when no run is being executed; the next run
    of any size does too."""
    from modules.leads.importer.run import _ACTIVE

    names = bulkload.index_names()
    with database.atomic():
        for name in names[:2]:
            database.execute_sql(f'DROP INDEX "{name}"')
        bulkload._watch()
    assert bulkload.missing() == names[:2]
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    live = ImportRun.create(division=org.divisions["IA"], file_name="x.csv", file_path="x",
                            file_sha256="0" * 64, file_size=1, file_type="csv", headers=[],
                            mapping={}, policy="skip", total=1, status="running",
                            worker="here:1:live", heartbeat_at=now, created_at=now,
                            updated_at=now)
    _ACTIVE.add("here:1:live")
    try:
        assert bulkload.others_executing()  # maybe a live bulk load: the job leaves it be
        assert not bulkload.others_executing(live.id)
    finally:
        _ACTIVE.discard("here:1:live")
    ImportRun.update(status="failed").where(ImportRun.id == live.id).execute()
    assert not bulkload.others_executing()
    assert bulkload.restore() == names[:2] and bulkload.missing() == []
    assert not {bulkload.CHANGES, *bulkload.TRIGGERS} & bulkload._schema_names()
    database.execute_sql(f'DROP INDEX "{names[3]}"')
    setting_up(org)
    run_import(org, write(tmp_path, "b.csv", csv_bytes([row("小文件", "13900139001")])))
    assert bulkload.missing() == []  # a run too small for bulk mode builds them first


def test_a_killed_bulk_load_resumes_and_leaves_no_index_dropped(org, tmp_path, monkeypatch,
                                                                huike):  # noqa: F811
    """`huike import leads` in bulk mode, frozen and SIGKILLed mid-file: the indexes stay
    dropped and the triggers in place; running the command again resumes the run (too few
    rows left for bulk mode now: it restores both first) without a duplicate."""
    total = 3000
    rows = [row(f"客户{n}", f"1380013{n:04d}", email=f"c{n}@example.com") for n in range(total)]
    path = write(tmp_path, "big.csv", csv_bytes(rows))
    monkeypatch.setenv("HUIKE_LEADS_IMPORT_BULK_ROWS", "1")
    run_id = _killed_mid_file(_spawn(org.data_dir, path), 100)
    monkeypatch.delenv("HUIKE_LEADS_IMPORT_BULK_ROWS")
    run = ImportRun.get_by_id(run_id)
    assert run.status == "running" and 0 < run.processed < total
    assert bulkload.missing() == bulkload.index_names()  # killed mid-load
    assert set(bulkload.TRIGGERS) <= bulkload._schema_names()
    result = huike("import", "leads", str(path), "--division", "IA", "--batch-size", "25")
    assert result.exit_code == 0, result.output
    run = ImportRun.get_by_id(run_id)
    assert (run.status, run.processed, run.created) == ("done", total, total)
    assert Lead.select(Lead.import_key).distinct().count() == total == Lead.select().count()
    assert bulkload.missing() == []
    assert not {bulkload.CHANGES, *bulkload.TRIGGERS} & bulkload._schema_names()


def test_bulk_mode_is_for_large_real_runs_that_at_least_double_the_table(org, monkeypatch):
    from types import SimpleNamespace

    setting_up(org)  # one lead in the table
    settings = org.registry.settings
    bulk_from(org, monkeypatch, 100)
    run = SimpleNamespace(id=1, dry_run=False)
    assert bulkload.wanted(settings, run, 100)
    assert not bulkload.wanted(settings, run, 99)  # below the setting
    assert not bulkload.wanted(settings, SimpleNamespace(id=1, dry_run=True), 100)
    bulk_from(org, monkeypatch, 1)
    assert bulkload.wanted(settings, run, 1)
    Lead.create(division=org.divisions["IA"], name="又一个")
    assert not bulkload.wanted(settings, run, 1)  # two leads, one row: rebuild too dear
    bulk_from(org, monkeypatch, 0)
    assert not bulkload.wanted(settings, run, 10 ** 6)  # 0: never
