"""Validation of the automation rules admins edit (422 naming every bad field).

Each `clean_*` function takes the request body and, when updating, the stored row, and
returns the values to write; problems are collected and raised together (`Checker.done`).
Cross-field rules (a budget band's min ≤ max, a named-user strategy needs its user, a rule
kind's params) are checked on the merged result of stored and given values.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from modules.base.models import Department, Division, Region, User
from modules.contacts.common import Checker, as_pk
from modules.leads import hours
from modules.leads.automation_models import OPEN_STATUSES, ScoringRule
from modules.leads.models import SOURCES, STATUSES
from modules.leads.scoring import ENGAGEMENT_KINDS, KINDS, SCORED_FIELDS

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
INT = "需要整数 / integer expected"


class RuleChecker(Checker):
    """`Checker` plus the scalar types rules use."""

    def integer(self, field: str, low: int, high: int, *, nullable: bool = False) -> None:
        if field not in self.data:
            return
        value = self.data[field]
        if value is None and nullable:
            self.values[field] = None
        elif isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, INT)
        elif not low <= value <= high:
            self.fail(field, f"范围 / between {low} and {high}")
        else:
            self.values[field] = value

    def number(self, field: str, low: float, high: float) -> None:
        if field not in self.data:
            return
        value = self.data[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(field, "需要数字 / number expected")
        elif not low <= value <= high:
            self.fail(field, f"范围 / between {low} and {high}")
        else:
            self.values[field] = float(value)

    def boolean(self, field: str) -> None:
        if field not in self.data:
            return
        if not isinstance(self.data[field], bool):
            self.fail(field, "需要 true/false / boolean expected")
        else:
            self.values[field] = self.data[field]

    def division(self, field: str = "division", *, nullable: bool = True) -> None:
        self.reference(field, Division, nullable=nullable)

    def unknown(self, allowed) -> None:
        for name in self.data:
            if name not in allowed:
                self.fail(name, "未知字段 / unknown field")


def _merged(values: dict, current, name: str):
    if name in values:
        return values[name]
    return getattr(current, name, None) if current is not None else None


# ------------------------------------------------------------------ scoring rules
SCORING_FIELDS = ("code", "label", "kind", "params", "points", "sequence", "active", "division")


def clean_scoring(data: dict, current=None) -> dict:
    check = RuleChecker(data)
    check.unknown(SCORING_FIELDS)
    creating = current is None
    if "code" in data or creating:
        code = data.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            check.fail("code", "小写字母数字与 _.- / lowercase letters, digits, _ . - (≤ 64)")
        elif ScoringRule.select().where(ScoringRule.code == code,
                                        ScoringRule.id != getattr(current, "id", 0)).exists():
            check.fail("code", "已存在 / already exists")
        else:
            check.values["code"] = code
    check.text("label", 100, required=creating, nullable=False)
    check.choice("kind", KINDS)
    if creating and "kind" not in data:
        check.fail("kind", "必填 / required; one of: " + ", ".join(KINDS))
    check.integer("points", -100, 100)
    if creating and "points" not in data:
        check.fail("points", "必填 / required")
    check.integer("sequence", 0, 100_000)
    check.boolean("active")
    check.division()
    kind = _merged(check.values, current, "kind")
    if "params" in data or creating:
        problem = scoring_params_problem(kind, data.get("params", {}))
        if problem:
            check.fail("params", problem)
        else:
            check.values["params"] = data.get("params", {})
    elif "kind" in check.values and kind != current.kind:
        problem = scoring_params_problem(kind, current.params)
        if problem:
            check.fail("params", problem)
    return check.done()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal_or_none(value) -> tuple[bool, Decimal | None]:
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False, None
    try:
        return True, Decimal(str(value))
    except InvalidOperation:
        return False, None


def scoring_params_problem(kind, params) -> str | None:
    """What is wrong with a rule's params for its kind (None when fine)."""
    if kind not in KINDS:
        return None  # `kind` reports its own problem
    if not isinstance(params, dict):
        return "必须是对象 / must be an object"
    expected = {"source": {"sources"}, "field": {"field"}, "budget": {"min", "max"},
                "recency": {"within_days"}, "hot": set(),
                "engagement": {"kinds", "within_days", "max_count"}}[kind]
    if set(params) - expected:
        return "可用参数 / allowed keys: " + (", ".join(sorted(expected)) or "-")
    if kind == "source":
        sources = params.get("sources")
        if not isinstance(sources, list) or not sources or any(s not in SOURCES for s in sources):
            return "sources: 来源代码列表 / list of: " + ", ".join(SOURCES)
    elif kind == "field":
        if params.get("field") not in SCORED_FIELDS:
            return "field: 可选 / one of: " + ", ".join(SCORED_FIELDS)
    elif kind == "budget":
        (ok_low, low), (ok_high, high) = (_decimal_or_none(params.get("min")),
                                          _decimal_or_none(params.get("max")))
        if not ok_low or not ok_high or (low is None and high is None):
            return "min / max: 金额，至少一个 / amounts, at least one"
        if low is not None and high is not None and low >= high:
            return "min 必须小于 max / min must be below max"
    elif kind == "recency":
        if not _is_int(params.get("within_days")) or not 1 <= params["within_days"] <= 3650:
            return "within_days: 1–3650"
    elif kind == "engagement":
        kinds = params.get("kinds")
        if kinds is not None and (not isinstance(kinds, list) or not kinds
                                  or any(k not in ENGAGEMENT_KINDS for k in kinds)):
            return "kinds: 可选 / list of: " + ", ".join(ENGAGEMENT_KINDS)
        for name, high in (("within_days", 3650), ("max_count", 100)):
            value = params.get(name)
            if value is not None and (not _is_int(value) or not 1 <= value <= high):
                return f"{name}: 1–{high}"
    return None


# ------------------------------------------------------------------ assignment rules
ASSIGNMENT_FIELDS = ("name", "sequence", "division", "match", "team_users", "team_department",
                     "strategy", "named_user", "max_open", "working_hours", "active")


def clean_assignment(data: dict, current=None, default_division: int | None = None) -> dict:
    from modules.leads.assignment_pick import STRATEGIES

    check = RuleChecker(data)
    check.unknown(ASSIGNMENT_FIELDS)
    creating = current is None
    check.text("name", 100, required=creating, nullable=False)
    check.integer("sequence", 0, 100_000)
    check.division(nullable=False)
    check.choice("strategy", STRATEGIES)
    active_user = User.active == True  # noqa: E712
    check.reference("named_user", User, where=active_user)
    check.reference("team_department", Department)
    check.integer("max_open", 0, 100_000, nullable=True)
    check.boolean("active")
    if "team_users" in data:
        _team_users(check, data["team_users"])
    if "match" in data:
        problem = match_problem(data["match"])
        if problem:
            check.fail("match", problem)
        else:
            check.values["match"] = data["match"]
    if "working_hours" in data:
        problems = hours.validate(data["working_hours"], "working_hours")
        check.errors.update(problems)
        if not problems:
            check.values["working_hours"] = data["working_hours"]
    values = check.values
    if creating and "division" not in data:
        values["division"] = default_division
        if default_division is None:
            check.fail("division", "必填 / required")
    _assignment_consistency(check, values, current)
    return check.done()


def _team_users(check: RuleChecker, users) -> None:
    if not isinstance(users, list) or any(as_pk(u) is None for u in users) \
            or len(set(users)) != len(users):
        check.fail("team_users", "用户编号列表（不重复）/ list of distinct user ids")
        return
    found = {u for (u,) in User.select(User.id).where(User.id.in_(users),
                                                      User.active == True).tuples()}  # noqa: E712
    missing = [u for u in users if u not in found]
    if missing:
        check.fail("team_users", "没有这些在职用户 / no such active users: "
                   + ", ".join(map(str, missing)))
    else:
        check.values["team_users"] = users


def _assignment_consistency(check: RuleChecker, values: dict, current) -> None:
    strategy = _merged(values, current, "strategy") or "round_robin"
    if strategy == "named_user":
        named = values["named_user"] if "named_user" in values else getattr(
            current, "named_user_id", None)
        if named is None:
            check.fail("named_user", "指定用户策略需要用户 / named_user strategy needs a user")
    else:
        users = _merged(values, current, "team_users") or []
        dept = values["team_department"] if "team_department" in values else getattr(
            current, "team_department_id", None)
        if not users and dept is None:
            check.fail("team_users", "需要团队成员或部门 / a team (users or a department) is "
                       "required")


def match_problem(match) -> str | None:
    from modules.leads.assignment_pick import MATCH_KEYS

    if not isinstance(match, dict) or set(match) - set(MATCH_KEYS):
        return "可用条件 / allowed keys: " + ", ".join(MATCH_KEYS)
    for name in ("region", "industry", "source"):
        value = match.get(name)
        if value is not None and (not isinstance(value, list)
                                  or not all(isinstance(v, str) and v for v in value)):
            return f"{name}: 文本列表 / list of strings"
    if match.get("source") and any(s not in SOURCES for s in match["source"]):
        return "source: 可选 / one of: " + ", ".join(SOURCES)
    if match.get("region"):
        codes = {c for (c,) in Region.select(Region.code).where(
            Region.code.in_(match["region"])).tuples()}
        unknown = [c for c in match["region"] if c not in codes]
        if unknown:
            return "region: 未知区域代码 / unknown region codes: " + ", ".join(unknown)
    low, high = match.get("score_min"), match.get("score_max")
    for name, value in (("score_min", low), ("score_max", high)):
        if value is not None and (not _is_int(value) or not 0 <= value <= 100):
            return f"{name}: 0–100"
    if low is not None and high is not None and low > high:
        return "score_min 不能大于 score_max / score_min above score_max"
    return None


# ------------------------------------------------------------------ nurture rules
NURTURE_FIELDS = ("name", "division", "status", "idle_days", "action", "template", "task_title",
                  "task_due_days", "active")


def clean_nurture(data: dict, current=None) -> dict:
    check = RuleChecker(data)
    check.unknown(NURTURE_FIELDS)
    creating = current is None
    check.text("name", 100, required=creating, nullable=False)
    check.division()
    check.choice("status", OPEN_STATUSES)
    check.choice("action", ("email", "task"))
    for name in ("status", "action", "idle_days"):
        if creating and name not in data:
            check.fail(name, "必填 / required")
    check.integer("idle_days", 1, 3650)
    check.text("template", 100)
    check.text("task_title", 200)
    check.number("task_due_days", 0, 365)
    check.boolean("active")
    values = check.values
    action = _merged(values, current, "action")
    if action == "email" and not _merged(values, current, "template"):
        check.fail("template", "邮件动作需要模板 / an e-mail action needs a template")
    if action == "task" and not _merged(values, current, "task_title"):
        check.fail("task_title", "任务动作需要标题 / a task action needs a title")
    return check.done()


# ------------------------------------------------------------------ settings, caps, SOP
def clean_settings(data: dict, limits: dict[str, tuple[int, int]]) -> dict:
    check = RuleChecker(data)
    check.unknown(limits)
    for name, (low, high) in limits.items():
        check.integer(name, low, high)
    return check.done()


def clean_cap(data: dict) -> dict:
    check = RuleChecker(data)
    check.unknown(("max_open", "working_hours"))
    check.integer("max_open", 0, 100_000, nullable=True)
    if "working_hours" in data:
        problems = hours.validate(data["working_hours"], "working_hours")
        check.errors.update(problems)
        if not problems:
            check.values["working_hours"] = data["working_hours"]
    return check.done()


def clean_sop(data: dict) -> tuple[list[dict], list[dict]]:
    """`{"transitions": [{from, to, required_fields}], "tasks": [{status, title, due_days,
    priority, description}]}` → rows; problems are named `transitions[2].to` etc."""
    from modules.leads.models import Lead

    check = RuleChecker(data)
    check.unknown(("transitions", "tasks"))
    transitions, tasks, seen = [], [], set()
    for name in ("transitions", "tasks"):
        if not isinstance(data.get(name, []), list):
            check.fail(name, "必须是列表 / must be a list")
    check.done()
    for i, item in enumerate(data.get("transitions") or []):
        where = f"transitions[{i}]"
        if not isinstance(item, dict):
            check.fail(where, "必须是对象 / must be an object")
            continue
        origin, target = item.get("from"), item.get("to")
        for key, value in (("from", origin), ("to", target)):
            if value not in STATUSES:
                check.fail(f"{where}.{key}", "可选 / one of: " + ", ".join(STATUSES))
        if origin == target or (origin, target) in seen:
            check.fail(where, "重复或无效 / duplicate or no-op transition")
        seen.add((origin, target))
        required = item.get("required_fields", [])
        if not isinstance(required, list) or any(f not in Lead._meta.fields for f in required):
            check.fail(f"{where}.required_fields", "线索字段列表 / list of lead field names")
        transitions.append({"from_status": origin, "to_status": target,
                            "required_fields": required})
    for i, item in enumerate(data.get("tasks") or []):
        where = f"tasks[{i}]"
        if not isinstance(item, dict):
            check.fail(where, "必须是对象 / must be an object")
            continue
        sub = RuleChecker(item)
        sub.choice("status", STATUSES)
        sub.text("title", 200, required=True, nullable=False)
        sub.text("description", 2000)
        sub.number("due_days", 0, 365)
        sub.choice("priority", ("low", "normal", "high"))
        sub.unknown(("status", "title", "description", "due_days", "priority"))
        if "status" not in item:
            sub.fail("status", "必填 / required")
        for name, message in sub.errors.items():
            check.fail(f"{where}.{name}", message)
        tasks.append({"due_days": 1.0, "priority": "normal", **sub.values,
                      "description": sub.values.get("description") or ""})
    check.done()
    return transitions, tasks
