"""`huike demo` for the base module: a realistic Chinese sales organisation.

汇客示例集团 with two divisions (工业自动化事业部 IA, 医疗器械事业部 MD), each with a sales centre
(销售一部/二部 by region, 大客户部, 渠道部) plus 市场部, 客服部 and 财务部, and ~30 people in
director → manager → rep chains, with regions and catalogue roles. Every demo user signs in with
`DEMO_PASSWORD`. Records are keyed by division code, department code and login, so loading the
demo again creates nothing new and leaves later edits alone.
"""
from __future__ import annotations

from core.db import atomic
from modules.base import services
from modules.base.models import Department, Division, Region, Tag, User, UserRegion
from security.passwords import hash_password

DEMO_PASSWORD = "Huike-demo-2026"
EMAIL_DOMAIN = "huike-demo.example"
COMPANY = "汇客示例集团"

DIVISIONS = [("IA", "工业自动化事业部"), ("MD", "医疗器械事业部")]

# (division, code, name, parent code)
DEPARTMENTS = [
    ("IA", "IA-SC", "销售中心", None),
    ("IA", "IA-S1", "销售一部（华东）", "IA-SC"),
    ("IA", "IA-S2", "销售二部（华南）", "IA-SC"),
    ("IA", "IA-KA", "大客户部", "IA-SC"),
    ("IA", "IA-CH", "渠道部", "IA-SC"),
    ("IA", "IA-MKT", "市场部", None),
    ("IA", "IA-CS", "客服部", None),
    ("IA", "IA-FIN", "财务部", None),
    ("MD", "MD-SC", "销售中心", None),
    ("MD", "MD-S1", "销售一部（华北）", "MD-SC"),
    ("MD", "MD-S2", "销售二部（西南）", "MD-SC"),
    ("MD", "MD-KA", "大客户部", "MD-SC"),
    ("MD", "MD-CH", "渠道部", "MD-SC"),
    ("MD", "MD-MKT", "市场部", None),
    ("MD", "MD-CS", "客服部", None),
    ("MD", "MD-FIN", "财务部", None),
]

# (login, name, department code, manager login, region codes, role codes). Managers come
# before their reports. Department None: a company-wide function.
USERS = [
    ("zhang.wei", "张伟", "IA-SC", None, ["east", "south", "north", "central"], ["sales_manager"]),
    ("wang.fang", "王芳", "IA-S1", "zhang.wei", ["east"], ["sales_manager"]),
    ("li.na", "李娜", "IA-S1", "wang.fang", ["east"], ["sales_rep"]),
    ("liu.yang", "刘洋", "IA-S1", "wang.fang", ["east"], ["sales_rep"]),
    ("chen.jing", "陈静", "IA-S1", "wang.fang", ["east"], ["sales_rep"]),
    ("yang.lei", "杨磊", "IA-S2", "zhang.wei", ["south"], ["sales_manager"]),
    ("zhao.min", "赵敏", "IA-S2", "yang.lei", ["south"], ["sales_rep"]),
    ("huang.yong", "黄勇", "IA-S2", "yang.lei", ["south"], ["sales_rep"]),
    ("zhou.jie", "周杰", "IA-KA", "zhang.wei", ["north", "central"], ["sales_manager"]),
    ("wu.ting", "吴婷", "IA-KA", "zhou.jie", ["north"], ["sales_rep"]),
    ("xu.qiang", "徐强", "IA-KA", "zhou.jie", ["central"], ["sales_rep"]),
    ("sun.li", "孙丽", "IA-CH", "zhang.wei", ["east", "south"], ["sales_manager"]),
    ("qian.jin", "钱进", "IA-CH", "sun.li", ["east"], ["dealer"]),
    ("ma.chao", "马超", "IA-MKT", "zhang.wei", [], ["sales_rep"]),
    ("zhu.lin", "朱琳", "IA-CS", "zhang.wei", [], ["sales_rep"]),
    ("hu.bin", "胡斌", "IA-FIN", None, [], ["finance"]),
    ("guo.tao", "郭涛", "MD-SC", None, ["north", "northeast", "southwest", "northwest"],
     ["sales_manager"]),
    ("he.jing", "何静", "MD-S1", "guo.tao", ["north", "northeast"], ["sales_manager"]),
    ("gao.feng", "高峰", "MD-S1", "he.jing", ["north"], ["sales_rep"]),
    ("lin.xiao", "林晓", "MD-S1", "he.jing", ["northeast"], ["sales_rep"]),
    ("luo.jun", "罗军", "MD-S2", "guo.tao", ["southwest", "northwest"], ["sales_manager"]),
    ("zheng.hong", "郑红", "MD-S2", "luo.jun", ["southwest"], ["sales_rep"]),
    ("liang.hao", "梁浩", "MD-S2", "luo.jun", ["northwest"], ["sales_rep"]),
    ("xie.juan", "谢娟", "MD-KA", "guo.tao", ["north", "southwest"], ["sales_manager"]),
    ("song.jia", "宋佳", "MD-KA", "xie.juan", ["north"], ["sales_rep"]),
    ("tang.liang", "唐亮", "MD-CH", "guo.tao", ["north", "southwest"], ["sales_manager"]),
    ("han.xue", "韩雪", "MD-CH", "tang.liang", ["southwest"], ["dealer"]),
    ("xu.wen", "许文", "MD-MKT", "guo.tao", [], ["sales_rep"]),
    ("feng.gang", "冯刚", "MD-CS", "guo.tao", [], ["sales_rep"]),
    ("cao.yang", "曹阳", "MD-FIN", None, [], ["finance"]),
    ("deng.li", "邓丽", None, None, [], ["auditor"]),
]

TAGS = [("重点客户", "#f5222d"), ("战略合作", "#722ed1"), ("招投标", "#fa8c16"),
        ("老客户转介绍", "#52c41a")]


def _divisions() -> tuple[dict[str, Division], int]:
    company = services.ensure_company(COMPANY)
    found, created = {}, 0
    for code, name in DIVISIONS:
        division = Division.get_or_none(Division.code == code)
        if division is None:
            division = services.create_division(code, name, company)
            created += 1
        found[code] = division
    return found, created


def _departments(divisions: dict[str, Division]) -> tuple[dict[str, Department], int]:
    found, created = {}, 0
    for division_code, code, name, parent_code in DEPARTMENTS:
        division = divisions[division_code]
        dept = Department.get_or_none(Department.division == division, Department.code == code)
        if dept is None:
            parent = found[parent_code] if parent_code else None
            dept = services.create_department(division, code, name, parent)
            created += 1
        found[code] = dept
    return found, created


def _users(divisions, departments) -> int:
    """Create the missing demo users with their manager, regions and roles."""
    regions = {r.code: r for r in Region.select()}
    password_hash = hash_password(DEMO_PASSWORD)  # one hash: every demo user shares it
    created = 0
    for login, name, dept_code, manager_login, region_codes, roles in USERS:
        if User.get_or_none(User.login == login) is not None:
            continue
        dept = departments[dept_code] if dept_code else None
        user = services.create_user(
            login, name, None, department=dept, email=f"{login}@{EMAIL_DOMAIN}",
            manager=User.get_or_none(User.login == manager_login) if manager_login else None,
            regions=[regions[c] for c in region_codes if c in regions])
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        division = divisions[dept.division.code] if dept else None
        for role in roles:
            services.assign_role(user, role, None if role == "auditor" else division)
        created += 1
    return created


def _tags() -> int:
    created = 0
    for name, color in TAGS:
        if not Tag.select().where((Tag.model == "") & (Tag.name == name)).exists():
            Tag.create(name=name, color=color, model="")
            created += 1
    return created


def load_demo(registry) -> str:
    """Load (or complete) the demo organisation; return a one-line summary with the
    shared demo password."""
    with atomic():
        divisions, new_divisions = _divisions()
        departments, new_departments = _departments(divisions)
        new_users = _users(divisions, departments)
        new_tags = _tags()
    logins = [u[0] for u in USERS]
    linked = (UserRegion.select().join(User).where(User.login.in_(logins)).count())
    return (f"{COMPANY}：{len(DIVISIONS)} 个事业部、{len(DEPARTMENTS)} 个部门、{len(USERS)} 个演示用户"
            f"（本次新建 {new_divisions} 个事业部、{new_departments} 个部门、{new_users} 个用户、"
            f"{new_tags} 个标签；{linked} 条区域分配） / demo organisation ready; all demo users "
            f"sign in with password {DEMO_PASSWORD} (e.g. zhang.wei)")
