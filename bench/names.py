"""Realistic Chinese test data: people (surname + given name, weighted like the real surname
distribution), companies (city + brand + industry + legal suffix), titles, regions, lead sources,
mobiles and e-mails. Deterministic for a seed; cheap enough for a million rows."""
from __future__ import annotations

import random

# The most common surnames, with rough shares (per mille) of the population.
SURNAMES = (
    ("王", 72), ("李", 72), ("张", 68), ("刘", 54), ("陈", 46), ("杨", 32), ("黄", 24),
    ("赵", 23), ("吴", 21), ("周", 20), ("徐", 17), ("孙", 15), ("马", 15), ("朱", 14),
    ("胡", 13), ("郭", 13), ("何", 12), ("林", 12), ("高", 12), ("罗", 11), ("郑", 10),
    ("梁", 10), ("谢", 8), ("宋", 8), ("唐", 8), ("许", 7), ("韩", 7), ("冯", 7), ("邓", 7),
    ("曹", 7), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 6), ("董", 6), ("袁", 5), ("潘", 5),
    ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 5), ("叶", 5), ("程", 5), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 4),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("付", 3), ("方", 3), ("白", 3), ("邹", 3),
    ("孟", 3), ("熊", 3), ("秦", 3), ("邱", 3), ("江", 3), ("尹", 3), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2),
    ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2),
    ("欧阳", 1), ("司马", 1), ("上官", 1), ("诸葛", 1),
)
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强志明海燕"
         "鑫宇浩然子涵梓萱一诺欣怡晨曦俊杰思远雨桐博文嘉怡雅琪佳豪天佑晓东红梅玉兰丹丹"
         "文博佳琪宏伟春梅国强淑珍立新秀珍振华婷婷")
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "苏州", "南京", "无锡", "宁波", "成都",
          "重庆", "武汉", "长沙", "西安", "郑州", "济南", "青岛", "天津", "合肥", "福州",
          "厦门", "东莞", "佛山", "昆明", "沈阳", "大连", "哈尔滨", "长春", "石家庄", "太原",
          "南昌", "贵阳", "南宁", "常州", "温州", "嘉兴", "绍兴", "烟台", "潍坊", "珠海")
CITY_REGION = {  # city → sales region code (base module seeds the seven regions)
    **dict.fromkeys(("上海", "杭州", "苏州", "南京", "无锡", "宁波", "合肥", "福州", "厦门",
                     "济南", "青岛", "南昌", "常州", "温州", "嘉兴", "绍兴", "烟台", "潍坊"),
                    "east"),
    **dict.fromkeys(("广州", "深圳", "东莞", "佛山", "南宁", "珠海"), "south"),
    **dict.fromkeys(("北京", "天津", "石家庄", "太原"), "north"),
    **dict.fromkeys(("武汉", "长沙", "郑州"), "central"),
    **dict.fromkeys(("成都", "重庆", "昆明", "贵阳"), "southwest"),
    **dict.fromkeys(("西安",), "northwest"),
    **dict.fromkeys(("沈阳", "大连", "哈尔滨", "长春"), "northeast"),
}
BRAND_PARTS = "华瑞恒达鑫泰盛新宏远博创智联中天金源美康海信安科明德弘嘉诚通讯汇丰隆晟"
INDUSTRIES = (("精密机械", "机械制造"), ("自动化", "工业自动化"), ("电子科技", "电子"),
              ("医疗器械", "医疗"), ("生物科技", "生物医药"), ("制药", "生物医药"),
              ("新材料", "化工材料"), ("软件", "软件与信息服务"), ("信息技术", "软件与信息服务"),
              ("物流", "物流"), ("食品", "食品饮料"), ("环保科技", "环保"), ("能源", "能源"),
              ("汽车零部件", "汽车"), ("建设工程", "建筑"), ("贸易", "贸易"))
SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司", "科技有限公司")
TITLES = ("总经理", "副总经理", "采购经理", "采购专员", "技术总监", "工程师", "设备部经理",
          "财务总监", "IT经理", "生产厂长", "董事长助理", "项目经理")
DECISION_ROLES = ("decision_maker", "influencer", "user", "gatekeeper", "champion")
SOURCES = ("website", "sem", "seo", "douyin", "wechat_mp", "expo", "referral", "ads", "phone",
           "other")
SOURCE_WEIGHTS = (18, 14, 8, 10, 12, 12, 10, 6, 6, 4)
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                   "157", "158", "159", "176", "177", "180", "181", "186", "187", "188", "189")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "aliyun.com")
PRODUCTS = ("MES 系统", "PLC 控制柜", "伺服驱动器", "工业机器人", "彩超设备", "生化分析仪",
            "ERP 实施", "视觉检测线", "冷链物流方案", "年度维保合同", "产线改造", "数据中台")

_SURNAME_LIST = [s for s, _ in SURNAMES]
_SURNAME_CUM = []
_total = 0
for _, weight in SURNAMES:
    _total += weight
    _SURNAME_CUM.append(_total)


class Names:
    """A seeded generator of people, companies and contact details."""

    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)

    def person(self) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAME_LIST, cum_weights=_SURNAME_CUM)[0]
        given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(GIVEN) + rng.choice(GIVEN)
        return surname + given

    def company(self) -> tuple[str, str, str]:
        """(name, industry, city): e.g. 苏州恒瑞精密机械有限公司."""
        rng = self.rng
        city = rng.choice(CITIES)
        brand = rng.choice(BRAND_PARTS) + rng.choice(BRAND_PARTS)
        trade, industry = rng.choice(INDUSTRIES)
        return f"{city}{brand}{trade}{rng.choice(SUFFIXES)}", industry, city

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def email(self, serial: int) -> str:
        return f"u{serial}{self.rng.randrange(100):02d}@{self.rng.choice(EMAIL_DOMAINS)}"

    def source(self) -> str:
        return self.rng.choices(SOURCES, weights=SOURCE_WEIGHTS)[0]

    def title(self) -> str:
        return self.rng.choice(TITLES)

    def product(self) -> str:
        return self.rng.choice(PRODUCTS)
