"""The demo customers of 汇客示例集团 (see `demo.py`): manufacturers for 工业自动化事业部 (IA),
hospitals and distributors for 医疗器械事业部 (MD), owned by the demo reps of `modules/base/demo.py`
(owner None: in the division's pool). Credit codes are synthetic but valid (check character
computed), prefixed 91 for companies and 12 for public institutions (事业单位)."""
from __future__ import annotations

# (division, name, short name, industry, region, admin-division code, owner login, tier,
#  lifecycle, authority+type)
ACCOUNTS = [
    ("IA", "上海振华重工（集团）股份有限公司", "振华重工", "装备制造", "east", "310000", "li.na", "A", "customer", "91"),
    ("IA", "上海电气集团股份有限公司", "上海电气", "装备制造", "east", "310000", "li.na", "A", "sql", "91"),
    ("IA", "浙江中控技术股份有限公司", "中控技术", "工业软件", "east", "330100", "liu.yang", "B", "mql", "91"),
    ("IA", "杭州海康威视数字技术股份有限公司", "海康威视", "安防电子", "east", "330100", "liu.yang", "A", "customer", "91"),
    ("IA", "博世汽车部件（苏州）有限公司", "博世苏州", "汽车零部件", "east", "320500", "chen.jing", "B", "customer", "91"),
    ("IA", "徐工集团工程机械股份有限公司", "徐工机械", "工程机械", "east", "320300", "chen.jing", "A", "sql", "91"),
    ("IA", "宁德时代新能源科技股份有限公司", "宁德时代", "新能源", "east", "350900", "wang.fang", "A", "sql", "91"),
    ("IA", "潍柴动力股份有限公司", "潍柴动力", "动力总成", "east", "370700", "li.na", "B", "lead", "91"),
    ("IA", "海尔智家股份有限公司", "海尔智家", "家电", "east", "370200", None, "B", "lead", "91"),
    ("IA", "深圳市汇川技术股份有限公司", "汇川技术", "工业自动化", "south", "440300", "zhao.min", "A", "customer", "91"),
    ("IA", "比亚迪股份有限公司", "比亚迪", "汽车", "south", "440300", "zhao.min", "A", "sql", "91"),
    ("IA", "美的集团股份有限公司", "美的", "家电", "south", "440600", "huang.yong", "A", "customer", "91"),
    ("IA", "珠海格力电器股份有限公司", "格力电器", "家电", "south", "440400", "huang.yong", "B", "mql", "91"),
    ("IA", "大族激光科技产业集团股份有限公司", "大族激光", "激光设备", "south", "440300", "yang.lei", "B", "churned", "91"),
    ("IA", "广州数控设备有限公司", "广州数控", "数控系统", "south", "440100", None, "C", "lead", "91"),
    ("IA", "北京北方华创微电子装备有限公司", "北方华创", "半导体装备", "north", "110000", "wu.ting", "A", "sql", "91"),
    ("IA", "天津港（集团）有限公司", "天津港", "港口物流", "north", "120000", "wu.ting", "B", "customer", "91"),
    ("IA", "鞍钢股份有限公司", "鞍钢", "钢铁", "northeast", "210300", "zhou.jie", "A", "mql", "91"),
    ("IA", "三一重工股份有限公司", "三一重工", "工程机械", "central", "430100", "xu.qiang", "A", "customer", "91"),
    ("IA", "中联重科股份有限公司", "中联重科", "工程机械", "central", "430100", "xu.qiang", "B", "sql", "91"),
    ("IA", "武汉华工激光工程有限责任公司", "华工激光", "激光设备", "central", "420100", "xu.qiang", "C", "lead", "91"),
    ("IA", "中车株洲电力机车有限公司", "株机", "轨道交通", "central", "430200", None, "B", "lead", "91"),
    ("IA", "重庆长安汽车股份有限公司", "长安汽车", "汽车", "southwest", "500000", "zhou.jie", "A", "mql", "91"),
    ("IA", "隆基绿能科技股份有限公司", "隆基绿能", "光伏", "northwest", "610100", "wu.ting", "B", "lead", "91"),
    ("MD", "中国医学科学院北京协和医院", "协和医院", "三甲医院", "north", "110000", "gao.feng", "A", "customer", "12"),
    ("MD", "首都医科大学附属北京天坛医院", "天坛医院", "三甲医院", "north", "110000", "gao.feng", "A", "sql", "12"),
    ("MD", "天津医科大学总医院", "天医总院", "三甲医院", "north", "120000", "song.jia", "B", "mql", "12"),
    ("MD", "华润医药商业集团有限公司", "华润医药商业", "医药流通", "north", "110000", "song.jia", "A", "customer", "91"),
    ("MD", "中国医科大学附属第一医院", "中国医大一院", "三甲医院", "northeast", "210100", "lin.xiao", "A",
     "customer", "12"),
    ("MD", "哈尔滨医科大学附属第一医院", "哈医大一院", "三甲医院", "northeast", "230100", "lin.xiao", "B", "sql", "12"),
    ("MD", "吉林大学白求恩第一医院", "吉大一院", "三甲医院", "northeast", "220100", None, "B", "lead", "12"),
    ("MD", "四川大学华西医院", "华西医院", "三甲医院", "southwest", "510100", "zheng.hong", "A", "customer", "12"),
    ("MD", "重庆医科大学附属第一医院", "重医附一院", "三甲医院", "southwest", "500000", "zheng.hong", "A", "sql", "12"),
    ("MD", "成都市第三人民医院", "成都三院", "三级医院", "southwest", "510100", "luo.jun", "C", "mql", "12"),
    ("MD", "西安交通大学第一附属医院", "西安交大一附院", "三甲医院", "northwest", "610100", "liang.hao", "A",
     "customer", "12"),
    ("MD", "兰州大学第一医院", "兰大一院", "三甲医院", "northwest", "620100", "liang.hao", "B", "lead", "12"),
    ("MD", "新疆医科大学第一附属医院", "新医大一附院", "三甲医院", "northwest", "650100", None, "B", "lead", "12"),
    ("MD", "国药控股股份有限公司", "国药控股", "医药流通", "east", "310000", "xie.juan", "A", "customer", "91"),
    ("MD", "上药控股有限公司", "上药控股", "医药流通", "east", "310000", "song.jia", "B", "sql", "91"),
    ("MD", "九州通医药集团股份有限公司", "九州通", "医药流通", "central", "420100", "he.jing", "B", "mql", "91"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = ["建国", "海燕", "志强", "丽华", "文博", "晓东", "雪梅", "国平", "子涵", "明辉",
         "春燕", "立新", "思远", "桂英", "永刚", "佳怡", "振宇", "秀兰", "俊杰", "慧敏"]
COMPANY_TITLES = [("副总经理", "decision_maker", "总经办"), ("采购经理", "gatekeeper", "采购部"),
                  ("设备部部长", "influencer", "设备部"), ("总工程师", "champion", "技术中心"),
                  ("自动化工程师", "user", "生产部")]
HOSPITAL_TITLES = [("副院长", "decision_maker", "院办"), ("设备科科长", "gatekeeper", "设备科"),
                   ("放射科主任", "influencer", "放射科"), ("检验科主任", "champion", "检验科"),
                   ("护士长", "user", "重症医学科")]
MOBILE_PREFIXES = ["138", "139", "137", "136", "135", "186", "158", "188", "177", "150"]

ACTIVITIES = [
    ("call", "电话了解年度采购计划", "客户确认二季度有扩产计划，约下周面谈。"),
    ("visit", "上门拜访，演示方案", "演示了产线改造方案，对节拍提升很感兴趣。"),
    ("meeting", "技术交流会", "与技术中心交流接口与通讯协议要求，需补充测试报告。"),
    ("email", "发送报价单及技术规格书", "已按客户格式发送，等待采购回复。"),
    ("note", "竞争情况备注", "竞争对手报价低约 8%，我方交付周期占优。"),
]
TASKS = [("准备技术方案 V2", 3, "high"), ("跟进报价反馈", -2, "normal"),
         ("安排样机测试", 10, "normal"), ("节前拜访关键人", 20, "low")]
