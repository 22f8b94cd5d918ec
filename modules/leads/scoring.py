"""Lead scoring: rules stored as data (`ScoringRule`), a score 0–100 and its explanation.

Each active rule adds (or, with negative points, removes) points; the score is their sum
clamped to 0–100 and `Lead.score_breakdown` lists every rule that fired with its points and
why — the per-lead explanation shown to reps and managers. Rule kinds and their `params`:

- `source`     `{"sources": ["website", "referral"]}` — the lead came from one of them;
- `field`      `{"field": "company"}` — completeness: the field is filled (contact channels
               count when their normalised value is usable, read from the blind index so
               nothing is decrypted);
- `budget`     `{"min": "100000", "max": "500000"}` — min ≤ budget < max (either bound may be
               null);
- `recency`    `{"within_days": 7}` — the latest touch (activity, else capture) is that recent;
- `engagement` `{"kinds": ["web_visit"], "within_days": 30, "max_count": 3}` — points per
               engagement event of those kinds (capped at `max_count`);
- `hot`        `{}` — the lead is marked hot (an engagement arrived).

Rules with a NULL division apply everywhere, others to their division only. Scores are
recomputed on every change that feeds them: creation and import (`rescore` on the batch — one
query for the rules, one for engagements, one parameterised UPDATE for the changed leads),
status / field changes, activities, engagements, and after a rule edit (every open lead, in
batches, as a job).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Iterable

from modules.leads import rawsql
from modules.leads.automation_models import OPEN_STATUSES, LeadEngagement, ScoringRule
from modules.leads.breakdown import AMOUNT, Store, store_of
from modules.leads.models import Lead
from modules.leads.txn import transaction

KINDS = ("source", "field", "budget", "recency", "engagement", "hot")
ENGAGEMENT_KINDS = ("web_visit", "email_open", "email_click", "download", "webinar")
SCORED_FIELDS = ("name", "company", "title", "mobile", "email", "wechat", "region", "industry",
                 "budget", "need", "campaign")
ENCRYPTED = ("mobile", "email", "wechat")
# the columns a score depends on (what `rescore_ids` loads)
COLUMNS = (Lead.id, Lead.division, Lead.source, Lead.budget, Lead.hot, Lead.created_at,
           Lead.last_activity_at, Lead.name, Lead.company, Lead.title, Lead.region,
           Lead.industry, Lead.need, Lead.campaign, Lead.mobile_bidx, Lead.email_bidx,
           Lead.wechat_bidx, Lead.score, Lead.score_breakdown)
BATCH = 500
CENTS = Decimal("0.01")


# ------------------------------------------------------------------ evaluation (pure)
def _decimal(value) -> Decimal | None:
    if value.__class__ is Decimal:  # a budget as cleaned or loaded: already one
        return value
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def budget_detail(budget: Decimal) -> str:
    """A fired budget rule's explanation, the amount in the column's form (two decimals),
    whether the value came from the database (SQLite gives `300000`, PostgreSQL
    `300000.00`) or from the input about to be inserted."""
    return f"预算 / budget {budget.quantize(CENTS)}"


_INDEXED = {name: f"{name}_bidx" for name in ENCRYPTED}  # encrypted field → its blind index


def _filled(data: dict, name: str) -> bool:
    """Does the lead (its `__data__`) hold a value in field `name`? (Once per rule field
    and lead in a memo key: no name is built per call.)"""
    index = _INDEXED.get(name)
    if index is not None:
        return bool(data.get(index)) or bool(data.get(name))
    value = data.get(name)
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _fires(rule: ScoringRule, lead: Lead, events: list[tuple[str, dt.datetime]],
           now: dt.datetime) -> tuple[int, str] | None:
    """`(points, detail)` when `rule` fires for `lead`, else None."""
    params, data = rule.params or {}, lead.__data__
    if rule.kind == "source":
        source = data.get("source")
        if source in params.get("sources", ()):
            return rule.points, f"来源 / source: {source}"
    elif rule.kind == "field":
        if _filled(data, params.get("field", "")):
            return rule.points, f"已填写 / filled: {params['field']}"
    elif rule.kind == "budget":
        budget = _decimal(data.get("budget"))
        low, high = _decimal(params.get("min")), _decimal(params.get("max"))
        if budget is not None and (low is None or budget >= low) \
                and (high is None or budget < high):
            return rule.points, budget_detail(budget)
    elif rule.kind == "recency":
        stamps = [t for t in (data.get("last_activity_at"), data.get("created_at")) if t]
        days = params.get("within_days", 0)
        if stamps and now - max(stamps) <= dt.timedelta(days=days):
            return rule.points, f"{days} 天内有跟进 / touched within {days} days"
    elif rule.kind == "engagement":
        return _engagement(rule, events, now)
    elif rule.kind == "hot":
        if data.get("hot"):
            return rule.points, "热线索 / hot lead"
    return None


def _engagement(rule: ScoringRule, events, now) -> tuple[int, str] | None:
    params = rule.params or {}
    kinds = set(params.get("kinds") or ENGAGEMENT_KINDS)
    within = params.get("within_days")
    since = now - dt.timedelta(days=within) if within else None
    count = sum(1 for kind, at in events if kind in kinds and (since is None or at >= since))
    count = min(count, params.get("max_count") or count)
    if count:
        return rule.points * count, f"互动 {count} 次 / {count} engagement(s)"
    return None


def evaluate(lead: Lead, rules: Iterable[ScoringRule], events, now: dt.datetime):
    """`(score, breakdown)` of one lead under `rules` (pure: no queries)."""
    breakdown, total = [], 0
    for rule in rules:
        fired = _fires(rule, lead, events, now)
        if fired is None:
            continue
        points, detail = fired
        total += points
        breakdown.append({"rule": rule.code, "label": rule.label, "kind": rule.kind,
                          "points": points, "detail": detail})
    return max(0, min(100, total)), breakdown


# ------------------------------------------------------------------ batches
RULE_FIELDS = ("id", "code", "label", "kind", "params", "points", "division")


def rules_by_division(division_ids: Iterable[int]) -> dict[int, list[ScoringRule]]:
    """Active rules that apply to each division (one query, `rawsql.load`)."""
    ids = sorted({d for d in division_ids if d is not None})
    rules = rawsql.load(ScoringRule, RULE_FIELDS,
                        f'"active" = ? AND ("division_id" IS NULL OR "division_id" IN '
                        f'({rawsql.marks(ids)}))', (True, *ids), order='"sequence", "id"')
    return {d: [r for r in rules if r.division_id in (None, d)] for d in ids}


def _engagements(lead_ids: list[int], rules: list[ScoringRule], now) -> dict[int, list]:
    wanted = [r for r in rules if r.kind == "engagement"]
    if not wanted or not lead_ids:
        return {}
    windows = [(r.params or {}).get("within_days") for r in wanted]
    query = LeadEngagement.select(LeadEngagement.lead, LeadEngagement.kind,
                                  LeadEngagement.occurred_at)
    query = query.where(LeadEngagement.lead.in_(lead_ids))
    if all(windows):
        query = query.where(LeadEngagement.occurred_at >= now - dt.timedelta(days=max(windows)))
    found: dict[int, list] = {}
    for row in query.tuples():
        found.setdefault(row[0], []).append((row[1], row[2]))
    return found


def rescore(ctx, leads) -> dict[int, int]:
    """Recompute the score of a batch of leads — ids, or instances (updated in place);
    returns `{lead id: score}`. Queries: the leads (when given ids), rules, engagements, then
    one UPDATE statement executed for every changed lead (`rawsql.update_by_id`: no peewee
    node per value; PostgreSQL: one `UPDATE … FROM (VALUES …)` per 500)."""
    leads = list(leads)
    if leads and not isinstance(leads[0], Lead):
        return rescore_ids(ctx, leads)
    leads = [lead for lead in leads if lead.id is not None]
    if not leads:
        return {}
    now = ctx.now()
    rules = rules_by_division(lead.division_id for lead in leads)
    every_rule = [r for group in rules.values() for r in group]
    # engagements always make a lead hot (`engagements.record`): only hot leads have any
    events = _engagements([lead.id for lead in leads if lead.__data__.get("hot")], every_rule,
                          now)
    changed, memo = [], Memo(rules)
    for lead in leads:
        data = lead.__data__
        lead_events = events.get(lead.id)
        if lead_events:
            score, breakdown = evaluate(lead, rules.get(lead.division_id, []), lead_events, now)
            text = None
        else:
            score, breakdown, text = memo.evaluate(lead, now)
        if score != data.get("score") or breakdown != data.get("score_breakdown"):
            lead.score, lead.score_breakdown = score, breakdown
            changed.append((lead.id, score,
                            text or memo.store.pointer(rawsql.json_text(breakdown))))
    if changed:
        with transaction():
            memo.store.flush()
            rawsql.update_by_id(Lead._meta.table_name, ("score", "score_breakdown"), changed)
    return {lead.id: lead.__data__.get("score") for lead in leads}


def score_new(ctx, leads: list[Lead]) -> None:
    """Score new leads in memory, before they are inserted (`pipeline.before_insert`): sets
    `score` and `score_breakdown`, and `breakdown_json` — the breakdown as stored — on each
    instance for the INSERT, whose transaction must `breakdown.store_of(ctx).flush()` first.
    New leads have no engagements yet. Leads that already carry a `breakdown_json` were
    scored ahead (the import's worker process, `score_ahead`) and are left as they are."""
    leads = [lead for lead in leads if getattr(lead, "breakdown_json", None) is None]
    if not leads:
        return
    now = ctx.now()
    memo = Memo(rules_by_division(lead.division_id for lead in leads), store_of(ctx))
    for lead in leads:
        score, breakdown, text = memo.evaluate(lead, now)
        lead.__data__["score"], lead.__data__["score_breakdown"] = score, breakdown
        lead.breakdown_json = text


def score_ahead(leads: list[Lead], memo: "Memo", now) -> list[tuple]:
    """What `score_new` would set on each new lead under the memo's rules (`Memo(rules)`,
    the rules from `rules_by_division`, loaded by the caller), computed without the
    database — the import's worker process — in a compact form for the trip to the
    importer: `(score, breakdown JSON template, budget detail or None)`; `restore` turns it
    into score, breakdown and JSON text. For a new lead the score does not depend on the
    moment beyond its `created_at`: no engagement, no activity, created now. A caller
    scoring many batches passes the same `memo` for all of them: its entries hold for any
    moment."""
    return [memo.ahead(lead, now) for lead in leads]


def restore(scored: tuple, cache: dict, store: Store) -> tuple[int, list, str]:
    """`(score, breakdown, stored breakdown)` from `score_ahead`'s form — equal to
    `Memo.evaluate`'s result. `cache` (one run's: a few hundred entries) holds each
    distinct template parsed once: leads with the same template share its list — read-only,
    as every consumer of a new lead's breakdown treats it (the INSERT writes the pointer) —
    and a fired budget rule's amount goes into a copy of the list, not through the JSON
    parser (half the rows have a budget: parsing per amount was ~5 µs of an imported row).
    `store` saves each template once (`breakdown.Store`)."""
    score, template, detail = scored
    items = cache.get(template)
    if items is None:
        items = cache[template] = json.loads(template)  # parsed once per distinct template
    if detail is None:
        return score, items, store.pointer(template)
    return (score, [dict(item, detail=detail) if item["kind"] == "budget" else item
                    for item in items], store.pointer(template, detail))


class Memo:
    """`evaluate` for leads without engagement events, memoised on what the rules look at:
    division, source, hot, the age of the latest touch (`now` minus the later of last
    activity and creation: all a recency rule reads — so an entry holds at any `now`), the
    filled fields and which budget bands the budget falls in. In an import most leads share
    these, so most are scored by one dict lookup and their breakdown's JSON is encoded once;
    only a fired budget rule's detail (it names the amount) is filled in per lead. The
    result is exactly `evaluate`'s."""

    def __init__(self, rules: dict[int, list[ScoringRule]], store: Store | None = None):
        self.rules = rules
        every = [r for group in rules.values() for r in group]
        self.fields = tuple(sorted({(r.params or {}).get("field", "") for r in every
                                    if r.kind == "field"}))
        self.bands = {d: [(r.code, _decimal((r.params or {}).get("min")),
                           _decimal((r.params or {}).get("max")))
                          for r in group if r.kind == "budget"] for d, group in rules.items()}
        self.found: dict[tuple, tuple[int, list, str | None]] = {}
        self.store = store or Store()  # the templates `evaluate` points at (see its flush)

    def ahead(self, lead: Lead, now: dt.datetime) -> tuple[int, str, str | None]:
        """`(score, breakdown JSON template, budget detail or None)` (see `restore`)."""
        (score, _breakdown, text), bands, budget = self._found(lead, now)
        return score, text, (budget_detail(budget) if any(bands) else None)

    def evaluate(self, lead: Lead, now: dt.datetime) -> tuple[int, list, str]:
        """`(score, breakdown, stored breakdown)`: the stored form points at the breakdown's
        text, saved once (`breakdown.Store`)."""
        (score, breakdown, text), bands, budget = self._found(lead, now)
        if not any(bands):
            return score, [dict(item) for item in breakdown], self.store.pointer(text)
        detail = budget_detail(budget)  # digits and a point: nothing to escape in JSON
        breakdown = [dict(item, detail=detail) if item["kind"] == "budget" else dict(item)
                     for item in breakdown]
        return score, breakdown, self.store.pointer(text, detail)

    def _found(self, lead: Lead, now: dt.datetime) -> tuple[tuple, tuple, Decimal | None]:
        """The memo entry `(score, breakdown, JSON template)` of the lead's key, its budget
        bands and budget."""
        data = lead.__data__
        division = data.get("division")
        budget = _decimal(data.get("budget"))
        bands = () if budget is None else tuple(
            [(low is None or budget >= low) and (high is None or budget < high)
             for _code, low, high in self.bands.get(division, ())])
        touched = data.get("last_activity_at"), data.get("created_at")
        touched = max([t for t in touched if t], default=None)
        key = (division, data.get("source"), bool(data.get("hot")),
               None if touched is None else now - touched,
               tuple([_filled(data, name) for name in self.fields]), bands)
        found = self.found.get(key)
        if found is None:
            score, breakdown = evaluate(lead, self.rules.get(division, []), [], now)
            template = [dict(item, detail=AMOUNT) if item["kind"] == "budget" else item
                        for item in breakdown]
            found = self.found[key] = (score, breakdown, rawsql.json_text(template))
        return found, bands, budget


BATCH_MEMO = "leads.after_create.batch"


def rescore_ids(ctx, lead_ids: Iterable[int]) -> dict[int, int]:
    """Load the scored columns of these leads (no decryption) and rescore them.

    The loaded rows (with the columns assignment reads too) are left in `ctx.cache` under
    `BATCH_MEMO` for the very next `assignment.assign` of the same ids — the post-create
    pipeline's second step — which takes them instead of loading the batch again."""
    from modules.leads.assignment import COLUMNS as ASSIGN_COLUMNS

    ids = sorted(set(lead_ids))
    columns = list(dict.fromkeys([*COLUMNS, *ASSIGN_COLUMNS]))
    scores: dict[int, int] = {}
    loaded: list[Lead] = []
    for start in range(0, len(ids), BATCH):
        chunk = list(Lead.select(*columns).where(Lead.id.in_(ids[start:start + BATCH]))
                     .order_by(Lead.id))
        scores.update(rescore(ctx, chunk))
        loaded += chunk
    ctx.cache[BATCH_MEMO] = (tuple(ids), loaded)
    return scores


def rescore_open(ctx, division_id: int | None = None) -> int:
    """Rescore every open lead (of one division, or all) in id-ordered batches; after a rule
    edit and nightly (recency decays). Returns how many leads were looked at."""
    last, seen = 0, 0
    while True:
        query = Lead.select(*COLUMNS).where(Lead.status.in_(OPEN_STATUSES), Lead.id > last)
        if division_id is not None:
            query = query.where(Lead.division == division_id)
        batch = list(query.order_by(Lead.id).limit(BATCH))
        if not batch:
            return seen
        rescore(ctx, batch)
        seen += len(batch)
        last = batch[-1].id


def explain(ctx, lead_id) -> dict:
    """The stored score and its breakdown of a lead the caller may read — in their scope or
    in the pool they may browse (field rules apply: a hidden `score` or `score_breakdown` is
    left out); 404 otherwise."""
    import security
    from modules.contacts.common import as_pk
    from modules.leads.pool import pool_predicate
    from security.crud import not_found, require_model
    from security.scopes import any_of, both, scope

    require_model(ctx, Lead, "read")
    pk = as_pk(lead_id)
    visible = any_of([scope(ctx, Lead, "read"), pool_predicate(ctx)])
    row = (Lead.select(Lead.id, Lead.score, Lead.score_breakdown, Lead.hot)
           .where(both(visible, Lead.id == pk)).first() if pk is not None else None)
    if row is None:
        raise not_found(Lead, lead_id)
    perms = security.permitted_fields(ctx, Lead, "read")
    out = {"id": row.id}
    for name in ("score", "score_breakdown", "hot"):
        if perms.level(name) in ("read", "write"):
            out[name] = row.__data__.get(name)
    if "score_breakdown" in out:
        out["score_breakdown"], out["withheld"] = readable_parts(out["score_breakdown"], perms)
    return out


def part_field(part: dict) -> str | None:
    """The lead field a breakdown part speaks of: a source rule shows the source, a budget
    rule the budget, a completeness rule that a field is filled."""
    kind = part.get("kind")
    if kind in ("source", "budget"):
        return kind
    detail = str(part.get("detail") or "")
    if kind == "field" and "filled: " in detail:
        return detail.rsplit("filled: ", 1)[1].strip()
    return None


def readable_parts(breakdown, perms) -> tuple[list, int]:
    """`(parts, withheld)`: the breakdown without the parts that would tell the caller about
    a field they may not read in clear (hidden or masked) — the score explains itself only
    as far as the field rules allow."""
    parts, withheld = [], 0
    for part in breakdown or []:
        field = part_field(part)
        if field and perms.level(field) not in ("read", "write"):
            withheld += 1
            continue
        parts.append(part)
    return parts, withheld
