"""Demo leads (`huike demo`): fresh enquiries from every channel for the two demo divisions,
a web form per division, and a saved import mapping — so capture, dedupe and conversion can
be tried at once. Some leads are deliberately duplicates (same mobile written differently, an
existing customer's company) to show the duplicate check; ownerless ones go through the
assignment rules like any new lead. Idempotent: leads are keyed by a demo import key."""
from __future__ import annotations

import hashlib

from core.db import atomic, utcnow
from modules.base.models import Division, Region, User
from modules.leads import pipeline
from modules.leads.models import Lead
from modules.leads.models_capture import ImportMapping, LeadForm
from modules.leads.normalise import company_key, phone_display
from security.context import system_context

# (division, name, company, title, mobile, email, source, campaign, region, industry, budget,
#  need, owner login or None)
LEADS = [
    ("IA", "张伟", "苏州精工机械有限公司", "设备部经理", "+86 138-0013-8001", "zhang.wei@szjg.cn",
     "expo", "2026 工博会", "east", "装备制造", "800000", "产线 PLC 改造，20 台", "li.na"),
    ("IA", "张伟", "苏州精工机械有限公司", "设备部经理", "138 0013 8001", None, "website", None,
     "east", "装备制造", None, "官网留言：想了解伺服选型", None),
    ("IA", "刘芳", "宁波海天塑机集团有限公司", "采购总监", "13900139002", "liu.fang@haitian.example",
     "sem", "伺服关键词", "east", "塑料机械", "1200000", "注塑机伺服替换", None),
    ("IA", "陈磊", "上海振华重工（集团）股份有限公司", "电气工程师", "13700137003", None,
     "referral", None, "east", "装备制造", None, "岸桥变频器备件", "li.na"),
    ("IA", "赵静", "东莞市长盈精密技术有限公司", "厂长", "13600136004", "zhao.jing@cy.example",
     "douyin", "抖音直播 3 月", "south", "精密制造", "300000", "视觉检测方案", None),
    ("IA", "孙强", "成都数控机床有限公司", "总经理", "+86 135 0013 5005", None, "phone", None,
     "southwest", "数控系统", "500000", "数控系统升级", "zhou.jie"),
    ("MD", "周敏", "江苏省人民医院", "设备科科长", "13400134006", "zhou.min@jsph.example",
     "wechat_mp", "公众号白皮书下载", "east", "三甲医院", "2000000", "监护仪集中采购", None),
    ("MD", "吴昊", "广东省人民医院", "信息科主任", "13300133007", None, "expo", "CMEF 2026",
     "south", "三甲医院", "1500000", "设备联网与数据平台", "gao.feng"),
    ("MD", "郑洁", "华润医药商业集团有限公司", "采购经理", "13200132008", "zheng.jie@crpharm.example",
     "ads", None, "north", "医药流通", None, "代理合作", None),
]
FORMS = [("IA", "官网联系我们", "website", None), ("MD", "公众号白皮书", "wechat_mp", "白皮书下载")]


def _key(row: tuple) -> str:
    return hashlib.sha256(("demo:" + "|".join(str(v) for v in row)).encode()).hexdigest()


def _lead(row, divisions, regions, users, now) -> dict:
    div, name, company, title, mobile, email, source, campaign, region, industry, budget, \
        need, owner = row
    return {"division": divisions[div].id, "name": name, "company": company,
            "company_key": company_key(company), "title": title,
            "mobile": phone_display(mobile), "email": email, "source": source,
            "campaign": campaign, "region": regions.get(region), "industry": industry,
            "budget": budget, "need": need, "owner": users.get(owner), "status": "new",
            "status_changed_at": now, "created_at": now, "updated_at": now,
            "import_key": _key(row)}


def load_demo(registry) -> str:
    divisions = {d.code: d for d in Division.select()}
    if not {"IA", "MD"} <= set(divisions):
        return "跳过：需要 base 演示组织 / skipped: the base demo organisation is missing"
    regions = {r.code: r.id for r in Region.select()}
    users = {u.login: u.id for u in User.select(User.id, User.login)}
    now = utcnow().replace(microsecond=0)
    ctx = system_context(registry, via="system")
    with atomic():
        existing = {k for (k,) in Lead.select(Lead.import_key)
                    .where(Lead.import_key.in_([_key(r) for r in LEADS])).tuples()}
        new = [_lead(r, divisions, regions, users, now) for r in LEADS if _key(r) not in existing]
        ids = [Lead.insert(row).execute() for row in new]
        pipeline.after_create(ctx, ids)
        for code, name, source, campaign in FORMS:
            if not LeadForm.select().where((LeadForm.division == divisions[code])
                                           & (LeadForm.name == name)).exists():
                LeadForm.create(key=f"demo-{code.lower()}-{source}", name=name,
                                division=divisions[code], source=source, campaign=campaign,
                                allowed_origins=["https://www.example.com"])
        for division in divisions.values():
            if not ImportMapping.select().where((ImportMapping.division == division)
                                                & (ImportMapping.name == "展会名单")).exists():
                ImportMapping.create(name="展会名单", division=division, columns={
                    "客户姓名": "name", "单位": "company", "手机号码": "mobile",
                    "展位留言": "need"})
    return (f"{len(LEADS)} 条演示线索（本次新建 {len(ids)} 条，含重复示例），{len(FORMS)} 个网页表单，"
            f"列映射「展会名单」/ {len(LEADS)} demo leads ({len(ids)} new, duplicates included), "
            f"{len(FORMS)} web forms, saved mapping 展会名单")
