"""Choosing an assignee: rule matching, teams, eligibility (caps, working hours), strategies
and the round-robin cursors.

Everything here works on facts loaded once per batch (`load_facts`: a handful of queries
whatever the batch size); matching and picking are plain Python.

- A rule matches a lead when every given criterion holds: `region` (region codes), `industry`,
  `source` (lists; empty or absent = any), `score_min` ≤ score ≤ `score_max`, and — when the
  rule has `working_hours` — the current local time is inside them. A rule outside its hours
  simply does not match, so a later rule (an "after hours" team) or the pool takes the lead.
- The team is `team_users` in the listed order, then the active members of `team_department`
  (direct members, by id); inactive users never receive leads.
- A user is eligible when below their cap of open leads (the smaller of the rule's
  `max_open` and the user's `UserLeadCap.max_open`) and inside their own working hours
  (`UserLeadCap.working_hours`). An ineligible user is skipped: the next eligible user of the
  team gets the lead; with nobody eligible the next matching rule is tried, and finally the
  division's pool.
- Strategies: `round_robin` (the next eligible user after the cursor's `last_user`),
  `least_open` (the eligible user with the fewest open leads; ties go round the rotation
  from the cursor) and `named_user` (that user, if eligible).
- Cursors are locked before any counting: `SELECT … FOR UPDATE` in rule-id order on
  PostgreSQL (concurrent web-form posts queue on the row, in a deadlock-free order); on
  SQLite the transaction holds the database write lock from BEGIN IMMEDIATE. So concurrent
  assignments stay fair.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from modules.base.models import Region, User
from modules.leads import rawsql
from modules.leads.automation_models import (OPEN_STATUSES, AssignmentCursor, AssignmentRule,
                                             UserLeadCap)
from modules.leads.hours import within
from modules.leads.models import Lead

STRATEGIES = ("round_robin", "least_open", "named_user")
MATCH_KEYS = ("region", "industry", "source", "score_min", "score_max")


@dataclass(frozen=True)
class Cap:
    """A user's `UserLeadCap` as assignment reads it."""

    max_open: int | None
    working_hours: dict | None


@dataclass
class Facts:
    """What picking needs, loaded once per batch."""

    now: dt.datetime
    zone: ZoneInfo
    region_codes: dict[int, str] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # rule id → user ids
    positions: dict[int, dict[int, int]] = field(default_factory=dict)  # rule → user → index
    caps: dict[int, Cap] = field(default_factory=dict)
    open_counts: dict[int, int] = field(default_factory=dict)
    cursors: dict[int, AssignmentCursor] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)  # rule ids whose cursor moved
    hours_open: dict = field(default_factory=dict)  # id(working hours) → inside them now?

    def open_now(self, hours: dict | None) -> bool:
        """Is `now` inside these working hours — worked out once per batch for each rule's
        or user's hours (`now` is the batch's), not once per lead."""
        if not hours:
            return True
        key = id(hours)
        found = self.hours_open.get(key)
        if found is None:
            found = self.hours_open[key] = (within(hours, self.now, self.zone), hours)
        return found[0]


# ------------------------------------------------------------------ matching (pure)
def matches(rule: AssignmentRule, lead: Lead, facts: Facts) -> bool:
    match, data = rule.__data__.get("match") or {}, lead.__data__
    if match.get("region") and facts.region_codes.get(data.get("region")) not in match["region"]:
        return False
    if match.get("industry") and data.get("industry") not in match["industry"]:
        return False
    if match.get("source") and data.get("source") not in match["source"]:
        return False
    score = data.get("score") or 0
    if match.get("score_min") is not None and score < match["score_min"]:
        return False
    if match.get("score_max") is not None and score > match["score_max"]:
        return False
    return facts.open_now(rule.__data__.get("working_hours"))


def eligible(user_id: int, rule: AssignmentRule, facts: Facts) -> bool:
    """Below the smaller of the rule's and the user's cap of open leads, and inside the
    user's working hours (runs for each lead a rule places: no lists built)."""
    cap_row = facts.caps.get(user_id)
    limit = rule.__data__.get("max_open")
    if cap_row is not None and cap_row.max_open is not None and (
            limit is None or cap_row.max_open < limit):
        limit = cap_row.max_open
    if limit is not None and facts.open_counts.get(user_id, 0) >= limit:
        return False
    return cap_row is None or facts.open_now(cap_row.working_hours)


def _rotation(members: list[int], last_user: int | None) -> list[int]:
    """Members starting after `last_user` (from the top when unknown)."""
    if last_user in members:
        at = members.index(last_user) + 1
        return members[at:] + members[:at]
    return list(members)


def pick(rule: AssignmentRule, facts: Facts) -> int | None:
    """The user `rule` gives its next lead to (None: nobody eligible); moves the cursor."""
    data = rule.__data__  # read directly: this runs once per imported lead
    rule_id, strategy = data["id"], data["strategy"]
    if strategy == "named_user":
        user = data.get("named_user")
        members = facts.members.get(rule_id, [])
        return user if user in members and eligible(user, rule, facts) else None
    cursor = facts.cursors[rule_id].__data__
    if strategy == "least_open":
        rotation = _rotation(facts.members.get(rule_id, []), cursor.get("last_user"))
        order = [u for u in rotation if eligible(u, rule, facts)]
        if not order:
            return None
        fewest = min(facts.open_counts.get(u, 0) for u in order)
        chosen = next(u for u in order if facts.open_counts.get(u, 0) == fewest)
    else:
        chosen = _next_eligible(rule, facts, cursor.get("last_user"))
        if chosen is None:
            return None
    cursor["last_user"] = chosen  # written back by `save_cursors`
    cursor["assigned"] = (cursor.get("assigned") or 0) + 1
    facts.moved.add(rule_id)
    return chosen


def _next_eligible(rule: AssignmentRule, facts: Facts, last_user: int | None) -> int | None:
    """Round robin: the first eligible member after `last_user` in rotation order (from
    the top when unknown) — `_rotation`'s order walked by position, without building it
    (this runs once per imported lead)."""
    rule_id = rule.__data__["id"]
    members = facts.members.get(rule_id, [])
    count = len(members)
    start = facts.positions.get(rule_id, {}).get(last_user, -1) + 1 if count else 0
    for step in range(count):
        user = members[(start + step) % count]
        if eligible(user, rule, facts):
            return user
    return None


def candidates(by_division: dict[int, list[AssignmentRule]], leads, facts: Facts) -> list[list]:
    """The rules matching each lead, in order. A rule looks at the lead's division, region,
    industry, source and score only (and at the batch's time): leads sharing those share the
    answer, so each combination is matched once a batch — and when no rule of a division
    looks at the lead at all (a catch-all rotation), once for the whole division. Leads
    with the same answer share one list."""
    looking = {division: _looks_at_leads(rules) for division, rules in by_division.items()}
    memo: dict = {}
    found = []
    for lead in leads:
        data = lead.__data__
        division = data.get("division")
        key = (division, data.get("region"), data.get("industry"), data.get("source"),
               data.get("score") or 0) if looking.get(division, True) else division
        rules = memo.get(key)
        if rules is None:
            rules = memo[key] = [r for r in by_division.get(division, ())
                                 if matches(r, lead, facts)]
        found.append(rules)
    return found


def distinct_rules(matching: list[list]) -> list[AssignmentRule]:
    """Every rule of `candidates`' answer once, in first-seen order (its lists are shared
    between leads: each is walked once)."""
    lists = {id(rules): rules for rules in matching}.values()
    return list({r.id: r for rules in lists for r in rules}.values())


def _looks_at_leads(rules: list[AssignmentRule]) -> bool:
    """Does any of the rules match on something of the lead (`MATCH_KEYS`)?"""
    return any((r.__data__.get("match") or {}).get(key) not in (None, [], "")
               for r in rules for key in MATCH_KEYS)


def take(user_id: int, facts: Facts) -> None:
    """Count a lead just given to `user_id` (caps and least-open see it at once)."""
    facts.open_counts[user_id] = facts.open_counts.get(user_id, 0) + 1


# ------------------------------------------------------------------ loading facts
RULE_FIELDS = ("id", "division", "match", "team_users", "team_department", "strategy",
               "named_user", "max_open", "working_hours")


def load_rules(division_ids) -> dict[int, list[AssignmentRule]]:
    """The active rules of each division in order (one query, `rawsql.load`)."""
    ids = sorted({d for d in division_ids if d is not None})
    rules = rawsql.load(AssignmentRule, RULE_FIELDS,
                        f'"active" = ? AND "division_id" IN ({rawsql.marks(ids)})',
                        (True, *ids), order='"division_id", "sequence", "id"')
    found: dict[int, list[AssignmentRule]] = {d: [] for d in ids}
    for rule in rules:
        found[rule.division_id].append(rule)
    return found


def load_regions(facts: Facts, rules, leads) -> None:
    if not any((r.match or {}).get("region") for r in rules):
        return
    ids = {lead.__data__.get("region") for lead in leads} - {None}
    if ids:
        facts.region_codes = dict(Region.select(Region.id, Region.code)
                                  .where(Region.id.in_(sorted(ids))).tuples())


def load_members(facts: Facts, rules) -> None:
    """Active team members of each rule in rotation order with their caps and working hours
    (one query: users LEFT JOIN caps), and — only when a cap or `least_open` needs them —
    their open-lead counts (one grouped query on the owner index)."""
    listed = {u for r in rules for u in (r.team_users or [])}
    listed |= {r.named_user_id for r in rules if r.named_user_id}
    departments = sorted({r.team_department_id for r in rules if r.team_department_id})
    if not listed and not departments:
        return
    terms = [f'u."id" IN ({rawsql.marks(listed)})'] if listed else []
    if departments:
        terms.append(f'u."department_id" IN ({rawsql.marks(departments)})')
    rows = rawsql.run(
        f'SELECT u."id", u."department_id", c."max_open", c."working_hours" '
        f'FROM "{User._meta.table_name}" AS u LEFT OUTER JOIN "{UserLeadCap._meta.table_name}"'
        f' AS c ON c."user_id" = u."id" WHERE ({" OR ".join(terms)}) AND u."active" = ? '
        f'ORDER BY u."id"', (*sorted(listed), *departments, True)).fetchall()
    hours_value = UserLeadCap.working_hours.python_value
    users = [(u, d) for u, d, *_ in rows]
    active = {u for u, _ in users}
    facts.caps = {u: Cap(cap, hours_value(hours) if hours is not None else None)
                  for u, _, cap, hours in rows if cap is not None or hours is not None}
    if any(r.max_open is not None or r.strategy == "least_open" for r in rules) or any(
            cap.max_open is not None for cap in facts.caps.values()):
        facts.open_counts = open_counts(sorted(active))
    for rule in rules:
        members = [u for u in (rule.team_users or []) if u in active]
        if rule.team_department_id:
            members += [u for u, d in users if d == rule.team_department_id and u not in members]
        if rule.named_user_id and rule.named_user_id in active and rule.strategy == "named_user":
            members = members if rule.named_user_id in members else members + [rule.named_user_id]
        facts.members[rule.id] = members
        positions = facts.positions[rule.id] = {}
        for at, user in enumerate(members):
            positions.setdefault(user, at)  # `members.index`: the first place a user has


def open_counts(user_ids: list[int]) -> dict[int, int]:
    """Open leads owned by each of `user_ids` (one grouped query)."""
    if not user_ids:
        return {}
    return dict(rawsql.run(
        f'SELECT "owner_id", COUNT(*) FROM "{Lead._meta.table_name}" WHERE "owner_id" IN '
        f'({rawsql.marks(user_ids)}) AND "status" IN ({rawsql.marks(OPEN_STATUSES)}) '
        f'GROUP BY "owner_id"', (*user_ids, *OPEN_STATUSES)).fetchall())


def lock_cursors(facts: Facts, rule_ids) -> None:
    """Lock (creating if needed) the cursors of `rule_ids`, in id order (PostgreSQL: row
    locks; on SQLite every transaction begins IMMEDIATE — `core.db.atomic` — so it holds
    the database write lock from its first statement and reads what was committed)."""
    ids = sorted(set(rule_ids))
    if not ids:
        return
    found = _select_locked(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        AssignmentCursor.insert_many([{"rule": i} for i in missing]).on_conflict_ignore().execute()
        found.update(_select_locked(missing))
    facts.cursors.update(found)


def _select_locked(ids) -> dict[int, AssignmentCursor]:
    found = rawsql.load(AssignmentCursor, ("id", "rule", "last_user", "assigned", "version"),
                        f'"rule_id" IN ({rawsql.marks(ids)})', tuple(ids), order='"rule_id"',
                        for_update=True)
    return {c.rule_id: c for c in found}


def save_cursors(facts: Facts) -> None:
    """Write the moved cursors back (one parameterised UPDATE each)."""
    for rule_id in sorted(facts.moved):
        cursor = facts.cursors[rule_id]
        rawsql.run(f'UPDATE "{AssignmentCursor._meta.table_name}" SET "last_user" = ?, '
                   f'"assigned" = ?, "version" = "version" + 1 WHERE "id" = ?',
                   (cursor.last_user, cursor.assigned, cursor.id))
    facts.moved.clear()
