"""`PeeweeAdapter`: Casbin's storage adapter over our own tables.

p-lines live in `security_casbin_rule`. g-lines (`g, user:<id>, <role>, <domain>`) are not
stored there: they are read from and written to `base_user_role` (domain `*` = division
NULL), and every `User.is_admin` user holds `admin` in `*` implicitly (that flag is the one
source of truth for IT admins; no `UserRole` row is needed). The adapter writes only; the
policy services bump the version in the same transaction.
"""
from __future__ import annotations

import peewee as pw
from casbin import persist

from core.db import atomic
from security.policy.models import CasbinRule

USER_PREFIX = "user:"
ADMIN_ROLE = "admin"


def subject_for(user_id: int) -> str:
    return f"{USER_PREFIX}{user_id}"


def user_id_of(subject: str) -> int:
    if not subject.startswith(USER_PREFIX) or not subject[len(USER_PREFIX):].isdigit():
        raise ValueError(f"g-line subject must be user:<id>, not {subject!r}")
    return int(subject[len(USER_PREFIX):])


def _rule_filter(ptype: str, field_index: int, values) -> list:
    conditions = [CasbinRule.ptype == ptype]
    for offset, value in enumerate(values):
        if value:  # Casbin: an empty filter value matches anything
            conditions.append(getattr(CasbinRule, f"v{field_index + offset}") == value)
    return conditions


class PeeweeAdapter(persist.Adapter):
    """Loads and saves Casbin policies through peewee (SQLite or PostgreSQL)."""

    # ------------------------------------------------------------------ loading
    def load_policy(self, model) -> None:
        for rule in CasbinRule.select().order_by(CasbinRule.id):
            persist.load_policy_line(", ".join([rule.ptype, *rule.values()]), model)
        for line in grouping_lines():
            persist.load_policy_line(", ".join(["g", *line]), model)

    # ------------------------------------------------------------------ saving
    def save_policy(self, model) -> bool:
        """Replace every stored p-line (and the role assignments) with the model's."""
        with atomic():
            CasbinRule.delete().execute()
            for ptype, ast in model.model.get("p", {}).items():
                for rule in ast.policy:
                    self._insert(ptype, rule)
            wanted = {tuple(rule) for ast in model.model.get("g", {}).values()
                      for rule in ast.policy}
            current = set(grouping_lines())
            for line in current - wanted:
                remove_assignment(*line)
            for line in wanted - current:
                add_assignment(*line)
        return True

    def add_policy(self, sec, ptype, rule) -> bool:
        if sec == "g":
            return add_assignment(*rule)
        if self._find(ptype, rule) is not None:
            return False
        self._insert(ptype, rule)
        return True

    def add_policies(self, sec, ptype, rules) -> bool:
        with atomic():
            return any([self.add_policy(sec, ptype, rule) for rule in rules])

    def remove_policy(self, sec, ptype, rule) -> bool:
        if sec == "g":
            return remove_assignment(*rule)
        return CasbinRule.delete().where(*_rule_filter(ptype, 0, rule),
                                         *self._empty_tail(len(rule))).execute() > 0

    def remove_policies(self, sec, ptype, rules) -> bool:
        with atomic():
            return any([self.remove_policy(sec, ptype, rule) for rule in rules])

    def remove_filtered_policy(self, sec, ptype, field_index, *field_values) -> bool:
        if sec == "g":
            removed = False
            for line in grouping_lines():
                if all(not v or line[field_index + i] == v for i, v in enumerate(field_values)):
                    removed = remove_assignment(*line) or removed
            return removed
        return CasbinRule.delete().where(
            *_rule_filter(ptype, field_index, field_values)).execute() > 0

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _empty_tail(length: int) -> list:
        return [getattr(CasbinRule, f"v{i}") == "" for i in range(length, 6)]

    def _find(self, ptype, rule):
        return CasbinRule.get_or_none(*_rule_filter(ptype, 0, rule),
                                      *self._empty_tail(len(rule)))

    @staticmethod
    def _insert(ptype, rule) -> CasbinRule:
        if len(rule) > 6:
            raise ValueError("a Casbin rule has at most 6 values")
        return CasbinRule.create(ptype=ptype, **{f"v{i}": str(v) for i, v in enumerate(rule)})


# ---------------------------------------------------------------------- g-lines <-> UserRole
def grouping_lines() -> list[tuple[str, str, str]]:
    """`(user:<id>, role, domain)` for every assignment, plus `admin` in `*` for IT admins."""
    from modules.base.models import Division, Role, User, UserRole

    query = (UserRole.select(UserRole.user, Role.code, Division.code.alias("division_code"))
             .join(Role).switch(UserRole).join(Division, pw.JOIN.LEFT_OUTER)
             .order_by(UserRole.id).dicts())
    lines = [(subject_for(row["user"]), row["code"], row["division_code"] or "*")
             for row in query]
    for user in User.select(User.id).where(User.is_admin == True):  # noqa: E712
        line = (subject_for(user.id), ADMIN_ROLE, "*")
        if line not in lines:
            lines.append(line)
    return lines


def _resolve(subject: str, role_code: str, domain: str):
    from modules.base.models import Division, Role, User

    user = User.get_by_id(user_id_of(subject))
    role = Role.get(Role.code == role_code)
    division = None if domain == "*" else Division.get(Division.code == domain)
    return user, role, division


def add_assignment(subject: str, role_code: str, domain: str = "*") -> bool:
    from modules.base.models import UserRole

    user, role, division = _resolve(subject, role_code, domain)
    division_match = (UserRole.division.is_null() if division is None
                      else UserRole.division == division)
    if UserRole.get_or_none(UserRole.user == user, UserRole.role == role, division_match):
        return False
    UserRole.create(user=user, role=role, division=division)
    return True


def remove_assignment(subject: str, role_code: str, domain: str = "*") -> bool:
    from modules.base.models import UserRole

    user, role, division = _resolve(subject, role_code, domain)
    division_match = (UserRole.division.is_null() if division is None
                      else UserRole.division == division)
    return UserRole.delete().where(UserRole.user == user, UserRole.role == role,
                                   division_match).execute() > 0
