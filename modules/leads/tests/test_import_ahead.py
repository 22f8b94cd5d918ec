"""Duplicate lookups made ahead by the import's worker process (`importer.probes`): a snapshot
older than the batch's write is completed with what the import wrote since (`Ledger`), and
refused when another connection committed in between — a contact or lead added by someone
else while the worker was ahead is still found. SQLite only (PostgreSQL imports look up in
the importer)."""
from __future__ import annotations

import threading
import time

import pytest

from core.db import atomic, connection
from modules.leads.importer import probes, worker
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRowError
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.leads.tests.test_import import run_import
from modules.leads.tests.test_import_worker import setting_up, use_worker
from tests.support import TEST_PG_URL

pytestmark = pytest.mark.skipif(bool(TEST_PG_URL), reason="SQLite imports only")


def elsewhere(work) -> None:
    """Run `work` on another thread — its own connection — and wait for its commit."""
    failures: list[BaseException] = []

    def target():
        try:
            with connection(), atomic():
                work()
        except BaseException as exc:  # noqa: BLE001 — re-raised in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and not failures, failures


def test_a_snapshot_is_completed_with_the_imports_own_writes_after_it(org):
    ledger = probes.Ledger()
    wanted = {"mobile_bidx": {"m1", "m2", "m3"}, "email_bidx": set()}
    ledger.remember(10, [("m1", 50), ("m2", 51)])  # batch 1: rows up to cursor 10
    ledger.remember(20, [("m3", 60), ("m1", 70)])  # batch 2 (m1 also on a later lead)
    existing, customers = ledger.found((0, {"m2": 40}, {"c"}), wanted)
    assert existing == {"m1": 50, "m2": 40, "m3": 60}  # the oldest lead per index, as SQL's
    assert customers == {"c"}
    assert ledger.found((10, {}, set()), wanted)[0] == {"m3": 60}  # batch 1 is in the snapshot
    assert ledger.found((20, {}, set()), wanted)[0] == {}
    assert ledger.recent == {} and not ledger.batches  # forgotten once every snapshot has it
    assert (ledger.used, ledger.refused) == (3, 0)
    assert ledger.found(None, wanted) is None  # nothing looked up ahead: the importer looks


def test_another_connections_commit_refuses_the_snapshots_before_it(org):
    ledger = probes.Ledger()
    wanted = {"mobile_bidx": {"m1"}}
    ledger.observe(0)
    assert ledger.found((0, {}, set()), wanted) is not None
    elsewhere(lambda: Lead.create(division=org.divisions["IA"], name="别人", mobile="13700137000"))
    ledger.observe(30)  # the next batch starts at cursor 30: someone committed before it
    assert ledger.foreign_at == 30
    assert ledger.found((30, {}, set()), wanted) is None  # may predate that commit
    assert ledger.found((20, {}, set()), wanted) is None
    assert ledger.found((40, {}, set()), wanted) is not None  # taken after it
    ledger.observe(40)  # nobody since
    assert ledger.foreign_at == 30


def test_a_contact_and_a_lead_added_while_the_worker_is_ahead_are_found(org, tmp_path,
                                                                        monkeypatch):
    """The worker has looked up batches 2–4 (the queue is full) when another connection adds
    a customer's contact and a lead holding mobiles of batch 3; the import skips both rows."""
    from modules.contacts.models import Account, Contact

    setting_up(org)
    use_worker(org, monkeypatch, 1)
    leads = org.registry.settings.values["leads"]
    monkeypatch.setitem(leads, "import_batch_rows", 10)
    monkeypatch.setitem(leads, "import_commit_rows", 10)  # a gap for others after each batch
    rows = [row(f"客户{n}", f"1360013{n:04d}") for n in range(60)]
    path = write(tmp_path, "a.csv", csv_bytes(rows))
    feed_batches = worker.Feed.__iter__
    firsts: list[int] = []

    def added_meanwhile():
        account = Account.create(name="华为", name_key="华为", division=org.divisions["MD"])
        Contact.create(account=account, name="赵工", phone="136 0013 0025")  # row 27
        Lead.create(division=org.divisions["IA"], name="网单", mobile="13600130027")  # row 29

    def slow_importer(feed):
        for batch in feed_batches(feed):
            if not firsts:  # the importer holds no lock between batches (a commit a batch)
                deadline = time.monotonic() + 30
                while not feed.queue.full() and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert feed.queue.full()  # batches 2, 3, 4: looked up before the commit
                elsewhere(added_meanwhile)
            firsts.append(batch.first)
            yield batch

    monkeypatch.setattr(worker.Feed, "__iter__", slow_importer)
    run = run_import(org, path)
    assert firsts[:4] == [2, 12, 22, 32]
    skipped = {e.row: e.message for e in ImportRowError.select().where(
        ImportRowError.run == run.id)}
    assert set(skipped) == {27, 29}
    assert "客户" in skipped[27] and "线索" in skipped[29]
    assert (run.created, run.skipped) == (58, 2)
    assert not Lead.select().where(Lead.name.in_(["客户25", "客户27"])).exists()
