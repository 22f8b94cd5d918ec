"""`PermissionTable`: the compiled permissions of one role set in one division.

Compiled once per (role set, division, policy version) from the rules the enforcer holds,
then shared by every request of the process; every answer is memoised, so a request asks
the table as often as it likes (per row, per field) for a dict lookup each.

Semantics (the door's, on top of Casbin's allow-if-any-rule-matches):
- model/action resources: allowed when any of the caller's roles has a matching rule.
- `field/<model>/<field>`: per role, the most specific matching field rules decide (exact
  field over `field/<model>/*` over `*`), the most permissive of them wins; a role without
  field rules follows the model (write if it may write the model, read if it may read it,
  else hidden). Across roles the most permissive level wins.
- `scope/<model>` (`read:<level>` / `write:<level>`): per role that may read (write) the
  model, its widest scope line, `own` when it has none; the widest across roles wins.
"""
from __future__ import annotations

from dataclasses import dataclass

from security.policy.names import (FIELD_LEVELS, SCOPE_LEVELS, SCOPE_OPS, WILDCARD, describe_line,
                                   field_rank, key_match, scope_rank, split_resource)


@dataclass(frozen=True)
class Rule:
    """One p-line as it applies to this table; `held_in` is where the caller holds the role."""

    role: str
    domain: str
    obj: str
    act: str
    held_in: str

    @property
    def line(self) -> str:
        return describe_line((self.role, self.domain, self.obj, self.act))

    @property
    def specificity(self) -> int:
        star = self.obj.find(WILDCARD)
        return 10_000 if star == -1 else star

    @property
    def is_global(self) -> bool:
        return self.domain == WILDCARD and self.held_in == WILDCARD


@dataclass(frozen=True)
class Decision:
    """The answer to one question and the rule that decided it (None: no rule matched)."""

    resource: str
    act: str
    allowed: bool
    rule: Rule | None
    reason: str
    level: str | None = None

    def as_dict(self) -> dict:
        return {"resource": self.resource, "act": self.act, "allowed": self.allowed,
                "level": self.level, "rule": self.rule.line if self.rule else None,
                "role": self.rule.role if self.rule else None,
                "role_held_in": self.rule.held_in if self.rule else None,
                "reason": self.reason}


class RoleRules:
    """The rules of one role that apply in the table's division."""

    def __init__(self, rules: list[Rule]):
        self.exact: dict[str, list[Rule]] = {}
        self.patterns: list[Rule] = []
        for rule in rules:
            if rule.specificity == 10_000:
                self.exact.setdefault(rule.obj, []).append(rule)
            else:
                self.patterns.append(rule)
        self.patterns.sort(key=lambda r: -r.specificity)

    def matching(self, resource: str) -> list[Rule]:
        return [*self.exact.get(resource, ()),
                *(r for r in self.patterns if key_match(resource, r.obj))]

    def most_specific(self, resource: str) -> list[Rule]:
        found = self.matching(resource)
        if not found:
            return []
        best = max(r.specificity for r in found)
        return [r for r in found if r.specificity == best]

    def grant(self, resource: str, act: str) -> Rule | None:
        for rule in self.matching(resource):
            if rule.act == WILDCARD or rule.act == act:
                return rule
        return None


class PermissionTable:
    """Compiled answers for one role set in one division (see the module docstring)."""

    def __init__(self, *, division_code: str | None, division_id: int | None,
                 held: frozenset, rules: list[Rule], key: tuple = ()):
        self.division_code = division_code
        self.division_id = division_id
        self.held = held  # {(role, held_in)} effective in this division
        self.key = key
        by_role: dict[str, list[Rule]] = {role: [] for role, _ in held}
        for rule in rules:
            by_role.setdefault(rule.role, []).append(rule)
        self._roles = {role: RoleRules(items) for role, items in sorted(by_role.items())}
        self._allowed: dict[tuple[str, str], bool] = {}
        self._decisions: dict[tuple[str, str], Decision] = {}

    @property
    def roles(self) -> list[str]:
        return list(self._roles)

    # ------------------------------------------------------------------ fast answers
    def allows(self, resource: str, act: str) -> bool:
        try:
            return self._allowed[(resource, act)]
        except KeyError:
            allowed = self._allowed[(resource, act)] = self.explain(resource, act).allowed
            return allowed

    def field_level(self, model: str, field_name: str) -> str:
        return self.explain(f"field/{model}/{field_name}", "level").level

    def scope_level(self, model: str, op: str) -> str:
        if op not in SCOPE_OPS:
            raise ValueError(f"scope op must be read or write, not {op!r}")
        return self.explain(f"scope/{model}", op).level

    def create_field_level(self, model: str, field_name: str) -> str:
        """The level of a field when *creating* a record: like `field_level`, except that a
        field without a field rule follows the model's `create` right too — a role may create
        records it may not later edit."""
        key = ("create_field", model, field_name)
        level = self._decisions.get(key)
        if level is None:
            resource = f"field/{model}/{field_name}"
            level = "hidden"
            for role_rules in self._roles.values():
                found, rule, reason = self._role_field_level(role_rules, resource, model)
                if found != "write" and not reason.startswith("字段规则") and \
                        role_rules.grant(f"model/{model}", "create") is not None:
                    found = "write"
                if field_rank(found) > field_rank(level):
                    level = found
            self._decisions[key] = level
        return level

    def scope_levels(self, model: str, op: str) -> frozenset[tuple[str, bool]]:
        """Every role's own level as `(level, is_global)`: levels that do not nest
        (subordinates vs region) must be OR-ed, not reduced to the widest one."""
        key = ("scope_levels", model, op)
        found = self._decisions.get(key)
        if found is None:
            levels = set()
            for role_rules in self._roles.values():
                level, rule, _ = self._role_scope_level(role_rules, f"scope/{model}", model, op)
                if rule is not None and level != "none":
                    levels.add((level, level == "all" and rule.is_global))
            found = self._decisions[key] = frozenset(levels)
        return found

    def scope_global(self, model: str, op: str) -> bool:
        """True when the `all` scope comes from a role held in `*` by a `*` rule: no
        division filter at all (cross-division roles)."""
        decision = self.explain(f"scope/{model}", op)
        return decision.level == "all" and decision.rule is not None and decision.rule.is_global

    # ------------------------------------------------------------------ decisions
    def explain(self, resource: str, act: str) -> Decision:
        """Allowed or denied, and which rule decided (memoised)."""
        key = (resource, act)
        decision = self._decisions.get(key)
        if decision is None:
            kind, _ = split_resource(resource)
            if kind == "field":
                decision = self._field_decision(resource, act)
            elif kind == "scope":
                decision = self._scope_decision(resource, act)
            else:
                decision = self._grant_decision(resource, act)
            self._decisions[key] = decision
        return decision

    def _grant_decision(self, resource: str, act: str) -> Decision:
        for role_rules in self._roles.values():
            rule = role_rules.grant(resource, act)
            if rule is not None:
                return Decision(resource, act, True, rule, "由规则授予 / granted by rule")
        return Decision(resource, act, False, None, self._no_rule_reason(act, resource))

    def _no_rule_reason(self, act: str, resource: str) -> str:
        roles = ", ".join(f"{r}@{d}" for r, d in sorted(self.held)) or "-"
        return (f"没有规则授予 / no rule grants {act} on {resource} to roles [{roles}] "
                f"in division {self.division_code or '*'}")

    def _field_decision(self, resource: str, act: str) -> Decision:
        _, parts = split_resource(resource)
        model = parts[0] if parts else ""
        best: tuple[str, Rule | None, str] = ("hidden", None, "")
        for role_rules in self._roles.values():
            level, rule, reason = self._role_field_level(role_rules, resource, model)
            if rule is not None and (best[1] is None or field_rank(level) > field_rank(best[0])):
                best = (level, rule, reason)
        level, rule, reason = best
        if rule is None:
            reason = self._no_rule_reason("read", f"model/{model}") + "; 字段隐藏 / field hidden"
        wanted = act if act in FIELD_LEVELS else "masked"
        return Decision(resource, act, field_rank(level) >= field_rank(wanted), rule, reason, level)

    @staticmethod
    def _role_field_level(role_rules: RoleRules, resource: str, model: str):
        rules = role_rules.most_specific(resource)
        levels = [(("write" if r.act == WILDCARD else r.act), r) for r in rules
                  if r.act == WILDCARD or r.act in FIELD_LEVELS]
        if levels:
            level, rule = max(levels, key=lambda item: field_rank(item[0]))
            return level, rule, "字段规则 / field rule"
        for act in ("write", "read"):
            rule = role_rules.grant(f"model/{model}", act)
            if rule is not None:
                return act, rule, f"无字段规则，随模型权限 / no field rule: follows model {act}"
        return "hidden", None, ""

    def _scope_decision(self, resource: str, op: str) -> Decision:
        _, parts = split_resource(resource)
        model = parts[0] if parts else ""
        best: tuple[str, Rule | None, str] = ("none", None, "")
        for role_rules in self._roles.values():
            level, rule, reason = self._role_scope_level(role_rules, resource, model, op)
            if rule is None:
                continue
            better = best[1] is None or scope_rank(level) > scope_rank(best[0]) or (
                level == best[0] == "all" and rule.is_global and not best[1].is_global)
            if better:
                best = (level, rule, reason)
        level, rule, reason = best
        if rule is None:
            reason = self._no_rule_reason(op, f"model/{model}")
        return Decision(resource, op, level != "none", rule, reason, level)

    @staticmethod
    def _role_scope_level(role_rules: RoleRules, resource: str, model: str, op: str):
        base = role_rules.grant(f"model/{model}", op)
        if base is None:
            return "none", None, ""
        found = []
        for rule in role_rules.most_specific(resource):
            if rule.act == WILDCARD:
                found.append(("all", rule))
            else:
                rule_op, _, level = rule.act.partition(":")
                if rule_op == op and level in SCOPE_LEVELS:
                    found.append((level, rule))
        if found:
            level, rule = max(found, key=lambda item: (scope_rank(item[0]), item[1].is_global))
            return level, rule, "范围规则 / scope rule"
        return "own", base, "无范围规则，默认本人 / no scope rule: own records"


def system_table() -> PermissionTable:
    """The table of the system itself (CLI commands, jobs acting without a user): everything."""
    rule = Rule("system", WILDCARD, WILDCARD, WILDCARD, WILDCARD)
    return PermissionTable(division_code=None, division_id=None,
                           held=frozenset({("system", WILDCARD)}), rules=[rule],
                           key=("system",))


def empty_table() -> PermissionTable:
    """Anonymous callers: nothing is allowed."""
    return PermissionTable(division_code=None, division_id=None, held=frozenset(), rules=[],
                           key=("anonymous",))

