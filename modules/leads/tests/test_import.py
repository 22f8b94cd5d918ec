"""Lead import at the service level: encodings and formats, messy phones merging to one,
duplicate policies, malformed rows reported without aborting the good ones, dry runs,
idempotent re-import, the error report, saved mappings, owners and the post-create pipeline."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

import pytest

from core.web.base import APIError
from modules.leads.importer import service
from modules.leads.importer.report import lines
from modules.leads.importer.run import execute
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRowError, ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403


def run_import(org, path, login_=None, division="IA", **options):
    """Create and execute a run (as the system unless a login is given); the finished run."""
    ctx = org.ctx(login_, division if login_ else None)
    run, _ = service.start(ctx, path, path.name, {"policy": "skip", **options},
                           org.divisions[division].id if login_ is None else None)
    return execute(org.ctx(None), run.id) or ImportRun.get_by_id(run.id)


def names() -> list[str]:
    return sorted(lead.name for lead in Lead.select(Lead.name))


def test_gbk_utf8_and_xlsx_files(org, tmp_path):
    gbk = write(tmp_path, "展会名单.csv", csv_bytes([row("王芳", "13800138001", region="华南"),
                                                  row("李雷", "13800138002")], encoding="gbk"))
    utf8 = write(tmp_path, "官网.csv", csv_bytes([row("赵敏", "13800138003")],
                                               encoding="utf-8-sig"))
    xlsx = write(tmp_path, "leads.xlsx", xlsx_bytes(
        [["韩梅梅", "苏州精工", "经理", 13800138004, "HAN@x.com", "", "Trade show", "",
          "East China", "装备", 500000, "需求"]], headers=HEADERS_EN))
    runs = [run_import(org, path) for path in (gbk, utf8, xlsx)]
    assert [(r.encoding, r.file_type, r.created, r.failed) for r in runs] == [
        ("gb18030", "csv", 2, 0), ("utf-8", "csv", 1, 0), (None, "xlsx", 1, 0)]
    assert names() == sorted(["王芳", "李雷", "赵敏", "韩梅梅"])
    han = Lead.get(Lead.name == "韩梅梅")
    assert (han.mobile, han.email, han.source, han.budget) == (
        "13800138004", "han@x.com", "expo", decimal.Decimal("500000"))
    assert Lead.get(Lead.name == "王芳").region.name == "华南"


def test_messy_phones_merge_into_one_lead(org, tmp_path):
    rows = [row("张伟", "+86 138-0013-8000", company="苏州精工"),
            row("张伟", "13800138000", email="zhang@szjg.cn"),
            row("张伟", "138 0013 8000", budget="50万", wechat="zw88"),
            row("张伟", "0086 13800138000", company="别的公司")]
    path = write(tmp_path, "dups.csv", csv_bytes(rows))
    run = run_import(org, path, policy="merge")
    assert (run.created, run.merged, run.skipped, run.failed) == (1, 3, 0, 0)
    lead = Lead.get()
    assert (lead.mobile, lead.email, lead.wechat, lead.budget, lead.company) == (
        "13800138000", "zhang@szjg.cn", "zw88", decimal.Decimal("500000"),
        "苏州精工")  # empty fields filled, the company not overwritten
    assert Lead.select().where(Lead.email_bidx.is_null(False)).count() == 1


def test_duplicate_policies_against_existing_leads(org, tmp_path):
    from modules.leads import services

    existing = services.create_lead(org.ctx("rep1"), {"name": "王芳", "mobile": "13900139000"})
    rows = [row("王芳", "139-0013-9000", email="wf@example.com", company="海天"),
            row("新人", "13700137000"), row("新人", "137 0013 7000")]
    skip = run_import(org, write(tmp_path, "a.csv", csv_bytes(rows)))
    assert (skip.created, skip.skipped, skip.merged) == (1, 2, 0)
    assert ImportRowError.select().where((ImportRowError.run == skip.id)
                                         & (ImportRowError.kind == "skipped")).count() == 2
    merged = run_import(org, write(tmp_path, "b.csv", csv_bytes(rows + [row("补充", "")])),
                        policy="merge")
    assert (merged.created, merged.merged, merged.skipped) == (1, 3, 0)
    again = Lead.get_by_id(existing["lead"]["id"])
    assert (again.email, again.company, again.company_key) == ("wf@example.com", "海天", "海天")
    created = run_import(org, write(tmp_path, "c.csv", csv_bytes(rows + [row("再来", "")])),
                         policy="create")
    assert (created.created, created.skipped) == (4, 0)


def test_rows_matching_a_customers_encrypted_contact_are_not_imported(org, tmp_path):
    from core.db import database
    from modules.contacts.models import Account, Contact

    account = Account.create(name="迈瑞医疗", name_key="迈瑞医疗",
                             division=org.divisions["MD"])  # another team's
    Contact.create(account=account, name="周工", phone="+86 139 0013 9000",
                   email="Zhou@Mindray.cn")
    Contact.create(account=account, name="吴工", wechat="wu_eng")
    raw = database.execute_sql("SELECT phone, email, wechat FROM contacts_contact").fetchall()
    assert all(v is None or (v.startswith("v") and "@" not in v and "139" not in v)
               for r in raw for v in r)  # stored encrypted: matched through blind indexes only
    rows = [row("周先生", "139-0013-9000"), row("周", "", email="zhou@mindray.CN"),
            row("吴", "", wechat="wu_eng"), row("新客户", "13700137000")]
    skipped = run_import(org, write(tmp_path, "a.csv", csv_bytes(rows)))
    assert (skipped.created, skipped.skipped) == (1, 3)
    problems = list(ImportRowError.select().where(ImportRowError.run == skipped.id)
                    .order_by(ImportRowError.row))
    assert [(p.row, p.kind) for p in problems] == [(2, "skipped"), (3, "skipped"),
                                                   (4, "skipped")]  # row 1: the header
    assert all("客户联系人" in p.message and "周工" not in p.message for p in problems)
    assert names() == ["新客户"]
    merged = run_import(org, write(tmp_path, "b.csv", csv_bytes(rows + [row("x", "")])),
                        policy="merge")
    assert (merged.created, merged.merged, merged.skipped) == (1, 1, 3)  # x new, 新客户 known
    forced = run_import(org, write(tmp_path, "c.csv", csv_bytes(rows[:3])), policy="create")
    assert forced.created == 3


def test_malformed_rows_are_reported_and_good_rows_kept(org, tmp_path):
    rows = [row("好一", "13800138001"), row("", "13800138002"), row("坏电话", "12-34"),
            row("坏邮箱", "13800138003", email="x@"), row("好二", "", email="ok@example.com"),
            row("坏预算", "13800138004", budget="很多", region="火星"),
            row("多列", "13800138005") + ["", "多出来"], row("好三", "13800138006")]
    run = run_import(org, write(tmp_path, "mixed.csv", csv_bytes(rows, encoding="gbk")))
    assert (run.status, run.total, run.processed, run.created, run.failed) == (
        "done", 8, 8, 3, 5)
    assert names() == ["好一", "好三", "好二"]
    report = "".join(lines(run))
    assert report.startswith("\ufeff行号 / row,")
    records = list(csv.reader(io.StringIO(report.lstrip("\ufeff"))))
    by_row = {int(r[0]): r for r in records[1:]}
    assert sorted(by_row) == [3, 4, 5, 7, 8]  # spreadsheet rows: the header is row 1
    assert "name" in by_row[3][2] and "mobile" in by_row[4][2] and "email" in by_row[5][2]
    assert "budget" in by_row[7][2] and "region" in by_row[7][2]
    assert "header" in by_row[8][2] and by_row[8][-1] == "#14=多出来"
    assert by_row[4][3] == "坏电话" and by_row[4][6] == "12-34"  # original cells kept
    assert run.error_report and open(run.error_report, encoding="utf-8",
                                                newline="").read() == report


def test_dry_run_writes_nothing_and_reimport_is_idempotent(org, tmp_path):
    rows = [row(f"客户{n}", f"1380013{n:04d}") for n in range(120)] + [row("坏", "1")]
    rows.append(row("重复", "13800130007"))
    path = write(tmp_path, "big.csv", csv_bytes(rows))
    dry = run_import(org, path, dry_run=True)
    assert (dry.dry_run, dry.created, dry.skipped, dry.failed) == (True, 120, 1, 1)
    assert Lead.select().count() == 0
    first = run_import(org, path)
    assert (first.created, first.skipped, first.failed) == (120, 1, 1)
    ids = sorted(lead.id for lead in Lead.select(Lead.id))
    second = run_import(org, path)
    assert second.id != first.id and second.status == "done"
    assert (second.created, second.merged, second.skipped) == (0, 0, 121)
    merged = run_import(org, path, policy="merge")
    assert merged.created == 0
    assert sorted(lead.id for lead in Lead.select(Lead.id)) == ids


def test_saved_mappings_and_header_problems(org, tmp_path):
    from modules.leads.importer import mapping

    mapping.save(org.ctx("mgr", "IA"), "展会模板", {"客户": "name", "联系电话1": "mobile",
                                                   "展位留言": "need"})
    path = write(tmp_path, "expo.csv", csv_bytes([["陈静", "13800138000", "要样品"]],
                                                  headers=["客户", "联系电话1", "展位留言"]))
    run = run_import(org, path, mapping="展会模板")
    assert run.created == 1 and run.mapping_name == "展会模板"
    assert (Lead.get().name, Lead.get().need) == ("陈静", "要样品")
    with pytest.raises(APIError) as unknown:
        run_import(org, path, mapping="没有这个")
    assert unknown.value.status_code == 422
    nameless = write(tmp_path, "x.csv", csv_bytes([["13800138000"]], headers=["电话"]))
    with pytest.raises(APIError) as err:
        run_import(org, nameless)
    assert err.value.code == "no_name_column"
    with pytest.raises(APIError) as bad_field:
        mapping.save(org.ctx("mgr", "IA"), "坏", {"客户": "password"})
    assert bad_field.value.status_code == 422
    legacy = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(APIError) as xls:
        run_import(org, legacy)
    assert xls.value.code == "unsupported_type"


def test_rights_owner_option_and_pipeline(org, tmp_path):
    from modules.leads.automation_models import AssignmentRule

    path = write(tmp_path, "team.csv", csv_bytes([row("甲", "13800138001", company="甲公司"),
                                                   row("乙", "13800138002")]))
    with pytest.raises(APIError) as rep:
        run_import(org, path, "rep1")
    assert rep.value.status_code == 403
    with pytest.raises(APIError) as foreign:
        run_import(org, path, "mgr", owner=org.id("rep3"))  # another team's rep
    assert foreign.value.code == "out_of_scope"
    owned = run_import(org, path, "mgr", owner=org.id("rep1"))
    assert owned.created == 2 and owned.created_by_id == org.id("mgr")
    assert {lead.owner_id for lead in Lead.select()} == {org.id("rep1")}
    assert all(lead.score_breakdown for lead in Lead.select())  # scored on the way in
    AssignmentRule.create(name="轮转", division=org.divisions["IA"], strategy="round_robin",
                          team_users=[org.id("rep1"), org.id("rep2")])
    pooled = run_import(org, write(tmp_path, "pool.csv", csv_bytes(
        [row(f"新{n}", f"1390013900{n}") for n in range(4)])), "mkt")
    owners = [lead.owner_id for lead in Lead.select().where(Lead.name.startswith("新"))]
    assert pooled.created == 4 and sorted(owners) == sorted([org.id("rep1"), org.id("rep2")] * 2)


def test_interrupted_runs_resume_from_the_periodic_job_and_live_ones_are_left(org, tmp_path):
    import datetime as dt

    from core.db import utcnow
    from core.jobs import build_huey
    from modules.leads.importer.jobs import interrupted

    ctx = org.ctx(None)
    stale, _ = service.start(ctx, write(tmp_path, "a.csv", csv_bytes(
        [row(f"甲{n}", f"1380013800{n}") for n in range(6)])), "a.csv", {},
        org.divisions["IA"].id)
    busy, _ = service.start(ctx, write(tmp_path, "b.csv", csv_bytes([row("乙", "13900139000")])),
                            "b.csv", {}, org.divisions["IA"].id)
    fresh, _ = service.start(ctx, write(tmp_path, "c.csv", csv_bytes([row("丙", "")])), "c.csv",
                             {}, org.divisions["IA"].id)
    now = utcnow()
    ImportRun.update(status="running", worker="elsewhere:4242:dead",
                     heartbeat_at=now - dt.timedelta(minutes=30)).where(
        ImportRun.id == stale.id).execute()
    ImportRun.update(status="running", worker="elsewhere:4242:live", heartbeat_at=now).where(
        ImportRun.id == busy.id).execute()
    assert interrupted(now) == [stale.id]  # the fresh pending one is still being enqueued
    assert execute(ctx, busy.id) is None  # another live worker holds it: hands off
    task = build_huey(org.registry).huike_tasks["leads.leads.resume_imports"]
    assert task.call_local() == [stale.id]
    assert ImportRun.get_by_id(stale.id).status == "done"
    assert ImportRun.get_by_id(busy.id).processed == 0
    assert names() == [f"甲{n}" for n in range(6)]


def test_bulk_insert_skips_keys_another_worker_inserted_meanwhile(org):
    from core.db import atomic, utcnow
    from modules.leads.importer.sql import InsertPlan

    plan = InsertPlan()
    now = utcnow()
    template = plan.template({"division": org.divisions["IA"].id, "status": "new",
                              "source": "other", "created_at": now, "updated_at": now})

    def lead_row(key: str, name: str) -> list:
        values = template.copy()
        values[plan.position["name"]] = name
        values[plan.position["need"]] = "带\t制表符\n和换行\\反斜杠"  # COPY escaping
        values[plan.position["import_key"]] = key
        return values

    with atomic():
        plan.insert([lead_row("k:1", "甲"), lead_row("k:2", "乙")])
    with atomic():  # PostgreSQL: COPY fails on k:2, the batch falls back to ON CONFLICT
        plan.insert([lead_row("k:2", "乙2"), lead_row("k:3", "丙")])
    assert names() == ["丙", "乙", "甲"]
    assert {lead.need for lead in Lead.select()} == {"带\t制表符\n和换行\\反斜杠"}
    # rows built as they are sent (a generator), several COPY chunks, the known key late in
    # the stream: the fallback inserts the rows sent and the rows not yet built alike
    later = [f"k:{n:04d}" for n in range(4, 900)]
    with atomic():
        plan.insert(lead_row(key, "丁") for key in later[:700] + ["k:1"] + later[700:])
    keys = [lead.import_key for lead in Lead.select().order_by(Lead.import_key)]
    assert keys == sorted(["k:1", "k:2", "k:3"] + later)


def test_copy_stream_reads_rows_in_chunks_and_keeps_them():
    from modules.leads.importer.sql import CopyStream, _copy_text

    rows = [[n, f"名{n}", None, "a\tb"] for n in range(1000)]
    stream = CopyStream(iter(rows))
    chunks = []
    while chunk := stream.read(4096):
        chunks.append(chunk)
        assert chunk.endswith("\n")  # whole rows only
        if len(chunks) == 3:
            break
    assert len(chunks) == 3 and all(len(c) >= 4096 for c in chunks)
    assert stream.rows() == rows  # those read, then the rest, in order
    text = "".join(chunks)
    sent = text.count("\n")
    assert text == "".join("\t".join(map(_copy_text, r)) + "\n" for r in rows[:sent])


def test_import_batches_are_scored_assigned_and_announced_by_the_insert(org, tmp_path):
    """The bulk path (`pipeline.before_insert` / `after_insert`): scores, owners and clocks are
    written by the batch's INSERT; each owner gets one digest note and one outbox event per
    batch when given more than `assignment.DIGEST_AFTER` leads; without a rule, the pool."""
    from core.models import OutboxMessage
    from modules.leads import assignment, scoring
    from modules.leads.automation_models import AssignmentRule, Notification

    pooled = run_import(org, write(tmp_path, "pool.csv", csv_bytes(
        [row(f"池{n}", f"1370013{n:04d}") for n in range(3)])))
    assert pooled.created == 3
    assert all(lead.owner_id is None and lead.pool_entered_at is not None
               and lead.assigned_at is None for lead in Lead.select())
    AssignmentRule.create(name="轮转", division=org.divisions["IA"], strategy="round_robin",
                          team_users=[org.id("rep1"), org.id("rep2")])
    count = 2 * (assignment.DIGEST_AFTER + 5)
    run = run_import(org, write(tmp_path, "team.csv", csv_bytes(
        [row(f"客户{n}", f"1390013{n:04d}", company="甲公司" if n % 2 else "",
             budget="300000" if n % 3 else "") for n in range(count)])))
    assert run.created == count
    leads = list(Lead.select().where(Lead.name.startswith("客户")))
    rules = scoring.rules_by_division([org.divisions["IA"].id])[org.divisions["IA"].id]
    for lead in leads:
        assert lead.pool_entered_at is None and lead.escalation_level == 0
        assert lead.first_response_due_at - lead.assigned_at == dt.timedelta(minutes=5)
        assert (lead.score, lead.score_breakdown) == scoring.evaluate(
            lead, rules, [], lead.created_at)
    by_owner = {org.id(r): [x.id for x in leads if x.owner_id == org.id(r)]
                for r in ("rep1", "rep2")}
    assert sorted(len(ids) for ids in by_owner.values()) == [count // 2] * 2
    for owner, ids in by_owner.items():
        note = Notification.get(Notification.user == owner)  # exactly one: the digest
        assert (note.kind, note.res_id) == ("lead_assigned", None) and str(len(ids)) in note.title
    events = [m.payload for m in OutboxMessage.select().where(
        OutboxMessage.topic == "notify.lead_assigned")]
    assert sorted((e["user_id"], e["count"], tuple(e["lead_ids"])) for e in events) == sorted(
        (owner, len(ids), tuple(sorted(ids))) for owner, ids in by_owner.items())
