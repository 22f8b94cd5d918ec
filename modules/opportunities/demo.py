"""`huike demo` for opportunities: about 80 deals over the demo accounts (loaded by the contacts
module's demo before this one), spread across the default pipeline's stages with realistic
CNY amounts, stage histories, competitors, lost reasons and a first forecast snapshot.

Deterministic (a random generator seeded per deal) and keyed by external ids `demo_opportunity_<n>`,
so loading again creates nothing new and leaves later edits alone. The demo writes as the
system: it bypasses stage gates, as a data import would.
"""
from __future__ import annotations

import datetime as dt
import decimal
import random

from core.db import atomic, utcnow
from core.models import ExternalId
from modules.base.models import Division
from modules.contacts.models import Account, Contact
from modules.opportunities.models import Opportunity, OpportunityCompetitor, StageChange
from modules.opportunities.pipelines import default_pipeline, stages_of

COUNT = 80
MODULE = "opportunities"
PRODUCTS = {
    "IA": ["PLC 控制系统升级", "伺服驱动改造", "MES 系统实施", "工业机器人工作站", "变频器批量采购",
           "SCADA 远程监控", "产线自动化改造", "视觉检测系统"],
    "MD": ["彩色超声诊断系统", "多参数监护仪", "数字化 X 射线系统", "麻醉工作站", "内窥镜系统",
           "全自动生化分析仪", "手术室整体方案", "输注泵集中采购"],
}
COMPETITORS = {
    "IA": ["西门子", "施耐德电气", "罗克韦尔自动化", "汇川技术", "ABB", "三菱电机"],
    "MD": ["迈瑞医疗", "GE 医疗", "飞利浦", "联影医疗", "西门子医疗", "奥林巴斯"],
}
LOST_REASONS = ["价格偏高，客户选择了竞争对手", "项目预算取消", "客户需求变更，项目暂停",
                "技术方案不满足现场要求", "决策人更换，重新招标"]
STAGE_WEIGHTS = [18, 18, 14, 14, 20, 16]  # 初步接触 … 输单, in the template's order
CATEGORY_BY_STAGE = ["pipeline", "pipeline", "best_case", "commit"]


def _division_code(account: Account) -> str:
    return "MD" if account.division.code.upper().startswith("MD") else "IA"


def _amount(rng: random.Random) -> decimal.Decimal:
    return decimal.Decimal(rng.randrange(50, 3000) * 1000)


def _history(rng, opp_id: int, stages: list, reached: int, created: dt.datetime,
             end: dt.datetime, owner_id) -> dt.datetime:
    """Stage changes from the first stage up to stage index `reached` (a lost deal jumps
    from some open stage); returns when the deal entered its current stage."""
    open_path = [s for s in stages if s.kind == "open"]
    target = stages[reached]
    path = open_path[:reached + 1] if target.kind == "open" else (
        open_path + [target] if target.kind == "won"
        else open_path[:rng.randint(1, len(open_path))] + [target])
    times = sorted(created + (end - created) * rng.random() for _ in path[1:])
    entered, previous = created, None
    rows = []
    for stage, at in zip(path, [created, *times]):
        rows.append({"opportunity": opp_id, "from_stage": previous.id if previous else None,
                     "to_stage": stage.id, "user": owner_id, "at": at,
                     "seconds_in_from_stage": int((at - entered).total_seconds())
                     if previous else None})
        entered, previous = at, stage
    StageChange.insert_many(rows).execute()
    return entered


def _create(rng, number: int, account: Account, contacts: dict, now: dt.datetime) -> int:
    code = _division_code(account)
    pipeline = default_pipeline(account.division_id)
    stages = stages_of(pipeline.id)
    reached = rng.choices(range(len(stages)), weights=STAGE_WEIGHTS[:len(stages)])[0]
    stage = stages[reached]
    created = now - dt.timedelta(days=rng.randint(20, 200), hours=rng.randint(0, 23))
    closed = stage.kind != "open"
    end = now - dt.timedelta(days=rng.randint(1, 15)) if closed else now
    amount = _amount(rng)
    contact = contacts.get(account.id)
    expected = (end.date() if closed
                else now.date() + dt.timedelta(days=rng.randint(-5, 110)))
    values = {
        "name": f"{account.short_name or account.name} · {rng.choice(PRODUCTS[code])}",
        "account": account.id, "contact": contact, "division": account.division_id,
        "owner": account.owner_id, "pipeline": pipeline.id, "stage": stage.id,
        "amount": amount, "currency": "CNY", "expected_close": expected,
        "budget": amount * decimal.Decimal("1.1") if reached >= 2 else None,
        "forecast_category": CATEGORY_BY_STAGE[min(reached, 3)] if not closed else "pipeline",
        "created_at": created, "updated_at": end, "stage_entered_at": created,
        "created_by": account.owner_id,
        "description": "演示数据 / demo data",
    }
    if closed:
        values.update(closed_at=end, cycle_seconds=int((end - created).total_seconds()),
                      lost_reason=rng.choice(LOST_REASONS) if stage.kind == "lost" else None)
    pk = Opportunity.insert(values).execute()
    entered = _history(rng, pk, stages, reached, created, end, account.owner_id)
    Opportunity.update(stage_entered_at=entered).where(Opportunity.id == pk).execute()
    if reached >= 3:
        for name in rng.sample(COMPETITORS[code], rng.randint(1, 2)):
            OpportunityCompetitor.create(opportunity=pk, name=name, created_at=created,
                                         threat=rng.choice(["low", "medium", "high"]))
    ExternalId.create(module=MODULE, xml_id=f"demo_opportunity_{number}",
                      model=Opportunity._meta.table_name, res_id=pk, noupdate=True)
    return pk


def load_demo(registry) -> str:
    """Create the missing demo deals and a first forecast snapshot; one-line summary."""
    from security.context import system_context
    from modules.opportunities.snapshots import take_snapshot

    accounts = list(Account.select(Account, Division).join(Division)
                    .where(Account.owner.is_null(False)).order_by(Account.id))
    if not accounts:
        return "没有演示客户，未创建商机 / no demo accounts yet: no deals created"
    contacts = {}
    for contact in Contact.select(Contact.id, Contact.account).order_by(Contact.id):
        contacts.setdefault(contact.account_id, contact.id)
    done = {row.xml_id for row in ExternalId.select(ExternalId.xml_id).where(
        (ExternalId.module == MODULE) & ExternalId.xml_id.startswith("demo_opportunity_"))}
    now = utcnow()
    created = 0
    with atomic():
        for number in range(1, COUNT + 1):
            account = accounts[(number * 7) % len(accounts)]
            if f"demo_opportunity_{number}" in done:
                continue
            _create(random.Random(f"huike-demo-{number}"), number, account, contacts, now)
            created += 1
        rows = take_snapshot(system_context(registry, via="cli")) if created else 0
    return (f"{COUNT} 个演示商机（本次新建 {created} 个；预测快照 {rows} 行） / "
            f"{COUNT} demo opportunities ({created} created now; snapshot rows: {rows})")
