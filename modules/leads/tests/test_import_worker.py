"""The import's worker process (`importer.worker`: reading, cleaning, encryption and scoring
in a spawned process) gives exactly the inline result — same leads (ciphertexts decrypt to
the same values), blind indexes, scores, owners, errors and counts, under every duplicate
policy and in a dry run — survives a SIGKILL of the importer (resume, no duplicate, the
worker exits with it), and is replaced by the inline path when it cannot start."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from modules.leads.importer import worker
from modules.leads.importer.run import execute, fed
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRowError, ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from modules.leads.tests.test_import import run_import
from modules.leads.tests.test_import_cli import huike  # noqa: F401

MIXED = [
    row("张伟", "+86 138-0013-8000", company="苏州精工", budget="50万"),
    row("张伟", "13800138000", email="zhang@szjg.cn", wechat="zw88"),  # in-file duplicate
    row("王芳", "139-0013-9000", email="wf@example.com", company="海天"),  # existing lead
    row("周先生", "137-0013-7000"),  # a customer's contact
    row("坏电话", "12-34"), row("坏邮箱", "13800138003", email="x@"),
    row("多列", "13800138005") + ["", "多出来"],
    row("百度", "13600136000", source="百度推广", budget="300000", title="经理"),
    *[row(f"客户{n}", f"1350013{n:04d}", email=f"c{n}@example.com" if n % 2 else "",
          company="甲公司" if n % 3 else "", budget=str(n * 100000) if n % 4 else "",
          region="华南" if n % 5 else "华东", need="报价" if n % 2 else "")
      for n in range(25)],
    row("客户3", "135 0013 0003", company="补充公司", title="总监"),  # duplicate, later batch
    row("客户4", "135 0013 0004", email="c4@fill.cn"),  # merge: fills 客户4's empty e-mail
    *[row(f"后来{n}", f"1340013{n:04d}") for n in range(10)],
    row("只有邮箱", email="c4@fill.cn"),  # a later batch: 客户4 under merge, new otherwise
]


def use_worker(org, monkeypatch, rows: int, head: int = 0) -> None:
    """`leads.import_worker_rows` for this test (1: always the worker; 0: never), and how
    many first batches the importer makes itself while the worker starts (`HEAD_BATCHES`;
    0 here unless a test says: these files are smaller than the default head)."""
    from modules.leads.importer import worker

    monkeypatch.setitem(org.registry.settings.values["leads"], "import_worker_rows", rows)
    monkeypatch.setattr(worker, "HEAD_BATCHES", head)


def setting_up(org) -> None:
    """What both runs find: a lead of the division, a customer's contact, a round-robin rule
    with its cursor at the start."""
    from modules.contacts.models import Account, Contact
    from modules.leads import services
    from modules.leads.automation_models import AssignmentCursor, AssignmentRule

    for model in (ImportRowError, ImportRun, Lead, AssignmentCursor, Contact, Account,
                  AssignmentRule):
        model.delete().execute()
    services.create_lead(org.ctx("rep1"), {"name": "王芳", "mobile": "13900139000"})
    account = Account.create(name="迈瑞医疗", name_key="迈瑞医疗", division=org.divisions["MD"])
    Contact.create(account=account, name="周工", phone="+86 137 0013 7000")
    AssignmentRule.create(name="轮转", division=org.divisions["IA"], strategy="round_robin",
                          team_users=[org.id("rep1"), org.id("rep2")])


def outcome(run_id: int) -> tuple:
    """Everything an import produced, decrypted and in file order (ids left out)."""
    leads = [(lead.import_key, lead.name, lead.company, lead.company_key, lead.title,
              lead.mobile, lead.email, lead.wechat, lead.mobile_bidx, lead.email_bidx,
              lead.wechat_bidx, lead.source, lead.campaign, lead.region_id, lead.industry,
              lead.budget, lead.need, lead.status, lead.owner_id, lead.score,
              lead.score_breakdown, lead.hot, lead.custom, lead.pool_entered_at is None,
              lead.first_response_due_at - lead.assigned_at if lead.assigned_at else None,
              lead.created_at == lead.updated_at == lead.status_changed_at)
             for lead in Lead.select().order_by(Lead.import_key, Lead.id)]
    errors = [(e.row, e.kind, e.message, e.raw)
              for e in ImportRowError.select().where(ImportRowError.run == run_id)
              .order_by(ImportRowError.row)]
    run = ImportRun.get_by_id(run_id)
    counts = (run.status, run.total, run.processed, run.created, run.merged, run.skipped,
              run.failed, run.message)
    return leads, errors, counts


@pytest.mark.parametrize("options", [{"policy": "skip"}, {"policy": "merge"},
                                     {"policy": "create"}, {"policy": "merge", "dry_run": True},
                                     {"policy": "merge", "commit_rows": 10}])
def test_worker_and_inline_imports_give_the_same_result(org, tmp_path, monkeypatch, options):
    """Also the worker's duplicate lookups (`importer.probes`), made before earlier batches
    were written: with one commit group (the default for a file this small) every lookup
    after the first batch is completed from the importer's memory; with a commit a batch,
    from whatever the snapshot missed."""
    options = dict(options)
    monkeypatch.setitem(org.registry.settings.values["leads"], "import_commit_rows",
                        options.pop("commit_rows", 20_000))
    path = write(tmp_path, "mixed.csv", csv_bytes(MIXED, encoding="gbk"))
    from modules.leads.importer import worker

    results, delivered = [], []
    feed_batches = worker.Feed.__iter__

    def counted(feed):
        for batch in feed_batches(feed):
            delivered.append(batch.first)
            yield batch

    monkeypatch.setattr(worker.Feed, "__iter__", counted)
    monkeypatch.setitem(org.registry.settings.values["leads"], "import_batch_rows", 10)
    for threshold, head in ((0, 0), (1, 0), (1, 2)):  # inline; the worker; 2 batches, then it
        setting_up(org)
        use_worker(org, monkeypatch, threshold, head)
        run = run_import(org, path, **options)
        results.append(outcome(run.id))
    inline, worked, mixed = results
    assert worked == inline and mixed == inline
    # the worker's batches (rows from 2): all of them, then those after a 2-batch head
    assert delivered == [2, 12, 22, 32, 42, 22, 32, 42]
    leads, errors, counts = inline
    assert counts[0] == "done" and counts[2] == len(MIXED)
    kinds = {"error"} if options["policy"] == "create" else {"error", "skipped"}
    assert {kind for _row, kind, _m, _r in errors} == kinds
    filled = [lead for lead in leads if lead[6] == "c4@fill.cn"]
    if options["policy"] == "merge" and not options.get("dry_run"):
        assert [lead[1] for lead in filled] == ["客户4"]  # the e-mail-only row merged into it
    if options["policy"] == "skip":
        assert [lead[1] for lead in filled] == ["只有邮箱"]
    if not options.get("dry_run"):
        assert {lead[18] for lead in leads if lead[0]} == {org.id("rep1"), org.id("rep2")}
        assert any(lead[20] and any(p["kind"] == "budget" for p in lead[20]) for lead in leads)


def test_worker_batches_resume_after_the_committed_ones(org, tmp_path, monkeypatch):
    """A run resumed at its cursor: the worker skips the rows already committed."""
    use_worker(org, monkeypatch, 1)
    rows = [row(f"客户{n}", f"1380013{n:04d}") for n in range(120)]
    path = write(tmp_path, "a.csv", csv_bytes(rows))
    ctx = org.ctx(None)
    from modules.leads.importer import service

    run, _ = service.start(ctx, path, path.name, {"policy": "skip"}, org.divisions["IA"].id)
    execute(ctx, run.id, batch_rows=40)
    assert Lead.select().count() == 120
    Lead.delete().where(Lead.name.in_([f"客户{n}" for n in range(80, 120)])).execute()
    ImportRun.update(status="failed", processed=80, created=80).where(
        ImportRun.id == run.id).execute()  # as if stopped after two batches
    done = execute(ctx, run.id, batch_rows=40)
    assert (done.status, done.processed, done.created) == ("done", 120, 120)
    assert sorted(lead.name for lead in Lead.select()) == sorted(r[0] for r in rows)


def test_worker_errors_cross_to_the_importer_as_they_are_or_as_text():
    from core.web.base import APIError

    error = APIError(422, "CSV 第 3 行无法解析", code="bad_file", fields={"file": "bad_file"})
    assert worker._failure(error) == ("api", (422, "CSV 第 3 行无法解析", "bad_file",
                                              {"file": "bad_file"}), None)
    assert isinstance(worker._failure(KeyError("x"))[1], KeyError)

    class Local(Exception):  # not importable by name: cannot be unpickled
        pass

    kind, sent, text = worker._failure(Local("boom"))
    assert sent is None and "Local: boom" in text


def test_a_worker_that_cannot_start_is_replaced_by_the_inline_path():
    class Dead:
        def __iter__(self):
            raise worker.WorkerFailed("could not start")
            yield  # pragma: no cover

    class DiesLater:
        def __iter__(self):
            yield "first"
            raise worker.WorkerFailed("ended unexpectedly")

    assert list(fed(Dead(), lambda: iter([["row"]]))) == [["row"]]
    with pytest.raises(worker.WorkerFailed):
        list(fed(DiesLater(), lambda: iter([["row"]])))


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_killed_import_with_a_worker_resumes_and_the_worker_exits(
        org, tmp_path, huike):  # noqa: F811
    from modules.leads.tests.test_import_cli import _killed_mid_file, _spawn

    total = worker.WORKER_ROWS + 4000  # big enough for the worker (default threshold)
    rows = [row(f"客户{n}", f"138{n:08d}", email=f"c{n}@example.com") for n in range(total)]
    path = write(tmp_path, "big.csv", csv_bytes(rows))
    proc = _spawn(org.data_dir, path)
    helpers: list[int] = []
    run_id = _killed_mid_file(proc, 100, lambda: helpers.extend(_children(proc.pid)))
    assert helpers  # the worker process (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 60
    while not all(_gone(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in helpers)  # no orphan left working
    run = ImportRun.get_by_id(run_id)
    assert run.status == "running" and 0 < run.processed < total
    assert run.processed % 25 == 0  # whole batches only
    assert Lead.select().count() == run.created == run.processed
    result = huike("import", "leads", str(path), "--division", "IA", "--batch-size", "25")
    assert result.exit_code == 0, result.output
    run = ImportRun.get_by_id(run_id)
    assert (run.status, run.processed, run.created, run.failed) == ("done", total, total, 0)
    assert Lead.select(Lead.import_key).distinct().count() == total == Lead.select().count()
    sample = Lead.get(Lead.name == f"客户{total - 1}")
    assert (sample.mobile, sample.email) == (f"138{total - 1:08d}", f"c{total - 1}@example.com")
