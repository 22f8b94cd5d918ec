"""Stage gates: what a deal must satisfy before it may enter a stage.

Gates are rows (`StageGate`) an administrator edits through the API; nothing here is
specific to one pipeline. Two kinds:

- `required_field`: `field` is an opportunity field (`budget`, `contact`, ...) or
  `custom.<key>` (an admin-defined custom value); it must be filled (not NULL, not blank).
- `condition`: `condition` is a small JSON object whose `type` picks a check:
  `{"type": "contact_role", "role": "decision_maker"}` — the account has a contact with that
  decision-chain role; `{"type": "competitor", "min": 1}` — at least `min` competitor entries;
  `{"type": "min_amount", "value": 0}` — an amount is filled, above 0 and at least `value`;
  `{"type": "activity", "kind": "visit"}` — an activity (of that kind) is logged on the deal.

`unmet(ctx, facts, stages)` evaluates the gates of every stage being entered and returns the
list of unmet requirements `[{"code", "message", "stage"}]`; `gate_error` turns it into the
422 `stage_gate` answer whose `fields` name exactly what is missing. A required field the
caller may not see is reported without naming it (hidden fields never appear in an answer).
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any, Callable

from core.web.base import APIError
from modules.contacts.models import ACTIVITY_KINDS, DECISION_ROLES, Activity, Contact
from modules.opportunities.models import GATE_KINDS, OpportunityCompetitor, Stage, StageGate

# opportunity fields a `required_field` gate may name (besides custom.<key>)
GATE_FIELDS = {
    "budget": ("预算", "budget"),
    "amount": ("金额", "amount"),
    "contact": ("主要联系人", "primary contact"),
    "expected_close": ("预计成交日期", "expected close date"),
    "description": ("描述", "description"),
    "probability": ("赢率", "probability"),
}
ROLE_LABELS = {"decision_maker": "决策人", "influencer": "影响人", "user": "使用人",
               "gatekeeper": "把关人", "champion": "内部支持者"}
LOST_REASON = {"code": "lost_reason", "message": "输单需要填写原因 / a lost reason is required"}


class GateInputError(ValueError):
    """A gate definition is malformed; `fields` names each problem."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("阶段关卡定义无效 / invalid stage gate")
        self.fields = fields


@dataclass
class DealFacts:
    """What gates look at: the deal's field values (all of them, unfiltered — gates are
    rules, not output) and, for a deal not saved yet, its competitor count."""

    values: dict[str, Any]
    opportunity_id: int | None = None
    competitor_count: int | None = None

    def competitors(self) -> int:
        if self.competitor_count is None:
            self.competitor_count = (0 if self.opportunity_id is None else
                                     OpportunityCompetitor.select().where(
                                         OpportunityCompetitor.opportunity
                                         == self.opportunity_id).count())
        return self.competitor_count


# ---------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Condition:
    """One condition type: its parameter `keys`, `check(params) -> (params, problems)`,
    `holds(facts, params)`, `code(params)` and the default message `(zh, en)`."""

    keys: tuple[str, ...]
    check: Callable[[dict], tuple[dict, dict]]
    holds: Callable[[DealFacts, dict], bool]
    code: Callable[[dict], str]
    message: Callable[[dict], tuple[str, str]]


def _check_role(params):
    role = params.get("role")
    if role not in DECISION_ROLES:
        return {}, {"role": f"must be one of {', '.join(DECISION_ROLES)}"}
    return {"role": role}, {}


def _has_role(facts: DealFacts, params) -> bool:
    account = facts.values.get("account")
    if account is None:
        return False
    return Contact.select(Contact.id).where((Contact.account == account)
                                            & (Contact.decision_role == params["role"])).exists()


def _check_competitor(params):
    minimum = params.get("min", 1)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or not 1 <= minimum <= 20:
        return {}, {"min": "must be an integer from 1 to 20"}
    return {"min": minimum}, {}


def _check_amount(params):
    value = params.get("value", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return {}, {"value": "must be a number"}
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return {}, {"value": "must be a number"}
    if not number.is_finite() or number < 0:
        return {}, {"value": "must be 0 or more"}
    return {"value": str(number)}, {}


def _amount_holds(facts: DealFacts, params) -> bool:
    amount = facts.values.get("amount")
    if amount is None:
        return False
    amount = decimal.Decimal(str(amount))
    return amount > 0 and amount >= decimal.Decimal(params["value"])


def _check_activity(params):
    kind = params.get("kind")
    if kind is not None and kind not in ACTIVITY_KINDS:
        return {}, {"kind": f"must be one of {', '.join(ACTIVITY_KINDS)}"}
    return ({"kind": kind} if kind else {}), {}


def _has_activity(facts: DealFacts, params) -> bool:
    if facts.opportunity_id is None:
        return False
    where = (Activity.res_model == "opportunity") & (Activity.res_id == facts.opportunity_id)
    if params.get("kind"):
        where &= Activity.kind == params["kind"]
    return Activity.select(Activity.id).where(where).exists()


CONDITIONS: dict[str, Condition] = {
    "contact_role": Condition(
        ("role",), _check_role, _has_role, lambda p: p["role"],
        lambda p: (f"需要一位{ROLE_LABELS.get(p['role'], p['role'])}联系人",
                   f"a {p['role'].replace('_', '-')} contact is required")),
    "competitor": Condition(
        ("min",), _check_competitor, lambda f, p: f.competitors() >= p["min"],
        lambda p: "competitor",
        lambda p: (f"需要至少登记 {p['min']} 个竞争对手",
                   f"at least {p['min']} competitor entry is required")),
    "min_amount": Condition(
        ("value",), _check_amount, _amount_holds, lambda p: "amount",
        lambda p: (f"金额需大于 0 且不低于 {p['value']}",
                   f"amount must be above 0 and at least {p['value']}")),
    "activity": Condition(
        ("kind",), _check_activity, _has_activity,
        lambda p: f"activity_{p['kind']}" if p.get("kind") else "activity",
        lambda p: ("需要先登记一条活动记录", "an activity must be logged first")),
}


# ---------------------------------------------------------------------- definitions
def _text(data: dict, key: str, limit: int, problems: dict) -> str:
    value = data.get(key) or ""
    if not isinstance(value, str) or len(value) > limit:
        problems[key] = f"must be text of at most {limit} characters"
        return ""
    return value.strip()


def _required_field(data: dict, problems: dict) -> tuple[str, str, tuple[str, str]]:
    name = data.get("field")
    if isinstance(name, str) and name.startswith("custom.") and len(name) > 7 \
            and len(name) <= 64 and name[7:].replace("_", "").isalnum():
        return name, name, (f"需要填写 {name[7:]}", f"{name[7:]} is required")
    if name not in GATE_FIELDS:
        problems["field"] = ("must be one of " + ", ".join(sorted(GATE_FIELDS))
                             + " or custom.<key>")
        return "", "", ("", "")
    zh, en = GATE_FIELDS[name]
    return name, name, (f"需要填写{zh}", f"{en} is required")


def _condition(data: dict, problems: dict) -> tuple[dict | None, str, tuple[str, str]]:
    condition = data.get("condition")
    kind = condition.get("type") if isinstance(condition, dict) else None
    spec = CONDITIONS.get(kind)
    if spec is None:
        problems["condition"] = "type must be one of " + ", ".join(sorted(CONDITIONS))
        return None, "", ("", "")
    params = {k: v for k, v in condition.items() if k != "type"}
    clean, bad = spec.check(params)
    bad.update({key: "unknown key" for key in set(params) - set(spec.keys)})
    problems.update({f"condition.{key}": text for key, text in bad.items()})
    if bad:
        return None, "", ("", "")
    return {"type": kind, **clean}, spec.code(clean), spec.message(clean)


def validate_gate(data: Any) -> dict:
    """A gate definition from the API or the template → `StageGate` values; raises
    `GateInputError` naming every problem."""
    if not isinstance(data, dict):
        raise GateInputError({"gate": "must be an object"})
    problems: dict[str, str] = {}
    unknown = set(data) - {"kind", "field", "condition", "message", "message_en", "code",
                           "sequence", "id"}
    problems.update({key: "unknown key" for key in sorted(unknown)})
    kind = data.get("kind")
    values = {"kind": kind, "field": None, "condition": None}
    if kind == "required_field":
        values["field"], code, default = _required_field(data, problems)
    elif kind == "condition":
        values["condition"], code, default = _condition(data, problems)
    else:
        problems["kind"] = "must be one of " + ", ".join(GATE_KINDS)
        code, default = "", ("", "")
    values["message"] = _text(data, "message", 200, problems) or default[0]
    values["message_en"] = _text(data, "message_en", 200, problems) or default[1]
    values["code"] = _text(data, "code", 64, problems) or code
    sequence = data.get("sequence", 10)
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        problems["sequence"] = "must be an integer"
    values["sequence"] = sequence
    if problems:
        raise GateInputError(problems)
    return values


# ---------------------------------------------------------------------- evaluation
def position(stage: Stage) -> tuple[int, int]:
    """A stage's place in its pipeline (sequence, then id for ties)."""
    return stage.sequence, stage.id


def stages_entered(current: Stage | None, target: Stage, stages: list[Stage]) -> list[Stage]:
    """The stages a move from `current` (None: a new deal) to `target` enters: moving
    forward into an open or won stage passes every open stage in between; a move backward
    or into a lost stage enters the target only."""
    if target.kind == "lost":
        return [target]
    low = position(current) if current is not None else None
    high = position(target)
    if low is not None and high <= low:
        return [target]
    between = [s for s in stages if s.kind == "open" and position(s) < high
               and (low is None or position(s) > low)]
    return [*sorted(between, key=position), target]


def _filled(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, dict)):
        return bool(value)
    return True


def _field_value(facts: DealFacts, name: str):
    if name.startswith("custom."):
        return (facts.values.get("custom") or {}).get(name[7:])
    return facts.values.get(name)


def _gate_holds(gate: StageGate, facts: DealFacts) -> bool:
    if gate.kind == "required_field":
        return _filled(_field_value(facts, gate.field))
    condition = gate.condition or {}
    spec = CONDITIONS.get(condition.get("type"))
    if spec is None:  # a type removed from the code: fail closed, with its message
        return False
    return spec.holds(facts, condition)


def _visible(levels, gate: StageGate) -> bool:
    if gate.kind != "required_field":
        return True
    name = "custom" if gate.field.startswith("custom.") else gate.field
    return levels.level(name) != "hidden"


def unmet(ctx, facts: DealFacts, stages: list[Stage]) -> list[dict]:
    """Unmet requirements of every gate of `stages`, in stage and gate order, one entry
    per code: `[{"code", "message", "stage"}]`."""
    from modules.opportunities.models import Opportunity
    from security import permitted_fields

    ids = [s.id for s in stages]
    if not ids:
        return []
    gates = (StageGate.select().join(Stage)
             .where(StageGate.stage.in_(ids))
             .order_by(Stage.sequence, StageGate.sequence, StageGate.id))
    levels = permitted_fields(ctx, Opportunity, "read")
    found: dict[str, dict] = {}
    for gate in gates:
        if _gate_holds(gate, facts):
            continue
        if _visible(levels, gate):
            code, message = gate.code, f"{gate.message} / {gate.message_en}"
        else:
            code = f"gate_{gate.id}"
            message = "需要满足一项您无权查看的字段要求 / a requirement on a field you cannot see is unmet"
        found.setdefault(code, {"code": code, "message": message, "stage": gate.stage_id})
    return list(found.values())


def gate_error(problems: list[dict]) -> APIError:
    """The 422 answer listing exactly what is missing."""
    codes = ", ".join(p["code"] for p in problems)
    return APIError(422, f"不满足阶段要求 / stage requirements not met: {codes}",
                    code="stage_gate", fields={p["code"]: p["message"] for p in problems})
