"""Lead assignment: ordered rules per division → an owner, or the division's public pool.

`assign(ctx, leads)` is the entry point after an insert (web form, API create): it takes the
leads that have no owner yet, loads rules, teams, caps and workloads once, locks the cursors
of the rules in play, picks owners in Python (`assignment_pick`) and writes with one UPDATE
per (owner, division) — the query count does not grow with the batch. Import batches use
`place_new` before their INSERT instead (the same choice, written by the INSERT) and
`announce` after it. Each assignee gets an in-app notification and a `notify.lead_assigned`
outbox event (key `lead-assigned-<lead>-<owner>`) for the WeCom / DingTalk / e-mail
connectors — or, when one call gives an owner more than `DIGEST_AFTER` leads (an import
batch), one digest note and event listing them. Leads no rule can place stay ownerless and
enter the pool (`pool_entered_at`).

`give(ctx, leads, owners)` sets owners and clocks (also used when a lead is claimed from the
pool, handed over, or given a new owner by an edit — `owner_changed`): `assigned_at` = now,
the follow-up escalation restarts, and while the lead has had no first response its
first-response clock restarts for the new owner (`first_response_due_at` = now + the
division's target, default 5 minutes).
"""
from __future__ import annotations

import datetime as dt

from modules.leads import rawsql
from modules.leads.assignment_pick import (Facts, candidates, distinct_rules, load_members,
                                           load_regions, load_rules, lock_cursors, pick,
                                           save_cursors, take)
from modules.leads.automation_models import OPEN_STATUSES
from modules.leads.hours import zone_of
from modules.leads.models import Lead
from modules.leads.notify import Note, send
from modules.leads.policies import sla_policies
from modules.leads.txn import transaction

TOPIC = "notify.lead_assigned"
DIGEST_AFTER = 10  # more leads than this for one owner in one call: one digest note
DIGEST_IDS = 200  # lead ids listed in a digest's payload


# what assignment reads of a lead (loaded when `assign` is given ids)
COLUMNS = (Lead.id, Lead.division, Lead.owner, Lead.status, Lead.region, Lead.industry,
           Lead.source, Lead.score, Lead.hot, Lead.name, Lead.company, Lead.first_response_at,
           Lead.first_response_due_at, Lead.pool_entered_at, Lead.merged_into)


def _loaded(ctx, leads) -> list[Lead]:
    """Instances for `leads` (ids or instances): the rows `scoring.rescore_ids` just loaded
    for the same ids (post-create pipeline), else one query."""
    from modules.leads.scoring import BATCH_MEMO

    leads = list(leads)
    if leads and not isinstance(leads[0], Lead):
        ids = sorted({int(pk) for pk in leads})
        memo = ctx.cache.pop(BATCH_MEMO, None)
        if memo is not None and memo[0] == tuple(ids):
            return memo[1]
        return list(Lead.select(*COLUMNS).where(Lead.id.in_(ids)).order_by(Lead.id))
    return leads


def assign(ctx, leads) -> dict[int, int | None]:
    """Place every ownerless open lead of the batch (ids, or instances — updated in place);
    returns `{lead id: owner id or None}`."""
    targets = [lead for lead in _loaded(ctx, leads) if lead.id is not None and _open(lead)]
    if not targets:
        return {}
    with transaction():
        owners = _choose(ctx, targets)
        chosen = {lead.id: owner for lead, owner in zip(targets, owners)}
        placed = [lead for lead in targets if chosen[lead.id] is not None]
        give(ctx, placed, chosen, only_unowned=True)
        to_pool(ctx, [lead for lead in targets if chosen[lead.id] is None])
    return chosen


def _open(lead: Lead) -> bool:
    """Ownerless, not merged, open: a lead assignment places."""
    data = lead.__data__
    return (data.get("owner") is None and data.get("merged_into") is None
            and data.get("status", "new") in OPEN_STATUSES)


def _choose(ctx, targets: list[Lead]) -> list[int | None]:
    """The owner each target gets (None: the pool), in order — rules, teams, caps and
    workloads loaded once, the rules' cursors locked and moved (in the caller's
    transaction)."""
    facts = Facts(now=ctx.now(), zone=zone_of(ctx.registry))
    by_division = load_rules(_divisions(targets))
    load_regions(facts, [r for rules in by_division.values() for r in rules], targets)
    matching = candidates(by_division, targets, facts)
    used = distinct_rules(matching)
    if used:
        lock_cursors(facts, [r.id for r in used if r.strategy != "named_user"])
        load_members(facts, used)
    owners: list[int | None] = []
    for rules in matching:
        owner = None
        for rule in rules:
            owner = pick(rule, facts)
            if owner is not None:
                take(owner, facts)
                break
        owners.append(owner)
    save_cursors(facts)
    return owners


PLACED = "leads.assignment.placed"


def _divisions(leads: list[Lead]) -> set[int]:
    """The leads' divisions (read off `__data__`: the descriptor costs ~0.5 µs a lead)."""
    return {lead.__data__.get("division") for lead in leads}


def place_new(ctx, leads: list[Lead]) -> None:
    """Before an import batch is inserted: choose the owners of its (id-less, in-memory)
    leads and set owner, clocks or pool entry on them, so the INSERT writes them at once —
    no UPDATE of just-inserted rows (on PostgreSQL those UPDATEs, every one a new row version
    in every index, were half of the import's time). `announce` notifies after the insert."""
    targets = [lead for lead in leads if _open(lead)]
    if not targets:
        return
    now = ctx.now()
    with transaction():
        owners = _choose(ctx, targets)
    policies = sla_policies(_divisions(targets))
    clocks = {division: {"assigned_at": now, "escalation_level": 0, "pool_entered_at": None,
                         "protected_until": None, "first_response_met": None,
                         "first_response_due_at": now + dt.timedelta(
                             minutes=policy.first_response_minutes)}
              for division, policy in policies.items()}  # the same for a division's batch
    placed = []
    for lead, owner in zip(targets, owners):
        data = lead.__data__
        if owner is None:
            data["pool_entered_at"] = now
            continue
        data.update(clocks[data["division"]])
        data["owner"] = owner
        placed.append(lead)
    ctx.cache[PLACED] = placed


def announce(ctx, leads: list[Lead]) -> None:
    """After the insert of leads placed by `place_new` (ids set): notify their owners."""
    by_owner: dict[int, list[Lead]] = {}
    for lead in ctx.cache.pop(PLACED, []):  # `__data__` read directly: runs for every import row
        data = lead.__data__
        if data.get("id") is not None:
            by_owner.setdefault(data["owner"], []).append(lead)
    if by_owner:
        send(ctx, owner_notes(by_owner))


def give(ctx, leads: list[Lead], owners: dict[int, int], *, only_unowned: bool = False,
         notify: bool = True) -> None:
    """Make `owners[lead.id]` the owner of each lead and restart its clocks (see module doc):
    one parameterised UPDATE per (owner, division), then the notifications (`notes`)."""
    if not leads:
        return
    now = ctx.now()
    policies = sla_policies(lead.division_id for lead in leads)
    groups: dict[tuple[int, int], list[Lead]] = {}
    for lead in leads:
        groups.setdefault((owners[lead.id], lead.division_id), []).append(lead)
    with transaction():
        for (owner, division), members in groups.items():
            due = now + dt.timedelta(minutes=policies[division].first_response_minutes)
            ids = [lead.id for lead in members]
            rawsql.run(_give_sql(len(ids), only_unowned), (owner, now, now, due, *ids))
            for lead in members:
                lead.owner, lead.assigned_at, lead.escalation_level = owner, now, 0
                lead.pool_entered_at = lead.protected_until = None
                if lead.__data__.get("first_response_at") is None:
                    lead.first_response_due_at, lead.first_response_met = due, None
        if notify:
            send(ctx, notes(leads, owners))


def _give_sql(count: int, only_unowned: bool) -> str:
    """The owner / clocks UPDATE for `count` ids (`?` marks: owner, now, now, due, ids…)."""
    table = Lead._meta.table_name
    marks = ", ".join("?" for _ in range(count))
    return (f'UPDATE "{table}" SET "owner_id" = ?, "assigned_at" = ?, "escalation_level" = 0, '
            f'"pool_entered_at" = NULL, "protected_until" = NULL, "updated_at" = ?, '
            f'"first_response_due_at" = CASE WHEN "first_response_at" IS NULL THEN ? '
            f'ELSE "first_response_due_at" END, '
            f'"first_response_met" = CASE WHEN "first_response_at" IS NULL THEN NULL '
            f'ELSE "first_response_met" END WHERE "id" IN ({marks})'
            + (' AND "owner_id" IS NULL' if only_unowned else ""))


def notes(leads: list[Lead], owners: dict[int, int]) -> list[Note]:
    """One note per lead — or, for an owner given more than `DIGEST_AFTER` leads at once
    (an import batch), one digest note for them: a rep is not sent 400 WeCom messages for
    one file, and the import does not write 100k inbox rows and outbox events."""
    by_owner: dict[int, list[Lead]] = {}
    for lead in leads:
        by_owner.setdefault(owners[lead.__data__["id"]], []).append(lead)
    return owner_notes(by_owner)


def owner_notes(by_owner: dict[int, list[Lead]]) -> list[Note]:
    """`notes` of leads already grouped by their new owner."""
    out = []
    for owner, mine in by_owner.items():
        if len(mine) > DIGEST_AFTER:
            out.append(digest_note(mine, owner))
        else:
            out += [assigned_note(lead, owner) for lead in mine]
    return out


def assigned_note(lead: Lead, owner: int) -> Note:
    data = lead.__data__
    name = data.get("name") or ""
    company = data.get("company") or ""
    due = data.get("first_response_due_at")
    return Note(
        user_id=owner, kind="lead_assigned", priority="high" if data.get("hot") else "normal",
        title=f"新线索分配给你 / New lead assigned: {name}",
        body=(f"{company} · " if company else "") + "请在首次响应时限内联系 / please respond "
             "within the first-response target",
        res_id=lead.id, topic=TOPIC, key=f"lead-assigned-{lead.id}-{owner}",
        extra={"lead_id": lead.id, "division_id": lead.division_id,
               "source": data.get("source"), "score": data.get("score"),
               "first_response_due_at": due.isoformat() if due else None})


def digest_note(leads: list[Lead], owner: int) -> Note:
    ids = sorted(lead.__data__["id"] for lead in leads)
    hot = sum(1 for lead in leads if lead.__data__.get("hot"))
    due = min((d for d in (lead.__data__.get("first_response_due_at") for lead in leads) if d),
              default=None)
    return Note(
        user_id=owner, kind="lead_assigned", priority="high" if hot else "normal",
        title=f"{len(ids)} 条新线索分配给你 / {len(ids)} new leads assigned to you",
        body="请在首次响应时限内联系 / please respond within the first-response target",
        res_id=None, topic=TOPIC, key=f"lead-assigned-{ids[0]}-{ids[-1]}-{owner}-{len(ids)}",
        extra={"lead_ids": ids[:DIGEST_IDS], "count": len(ids), "hot": hot,
               "division_id": leads[0].division_id,
               "first_response_due_at": due.isoformat() if due else None})


def to_pool(ctx, leads: list[Lead]) -> None:
    """Ownerless leads enter their division's pool now (no-op for those already in it)."""
    if not leads:
        return
    now = ctx.now()
    (Lead.update(pool_entered_at=now)
     .where(Lead.id.in_([lead.id for lead in leads]), Lead.owner.is_null(),
            Lead.pool_entered_at.is_null()).execute())
    for lead in leads:
        if lead.__data__.get("pool_entered_at") is None:
            lead.pool_entered_at = now


def owner_changed(ctx, lead_ids, owner_id: int | None) -> None:
    """Leads handed to `owner_id` outside the rules (a manager's edit, a handover): restart
    their clocks and notify the new owner as an assignment does; `None` sends them to the
    pool. Call it in the transaction of the change."""
    leads = _loaded(ctx, lead_ids)
    if owner_id is None:
        to_pool(ctx, leads)
    else:
        give(ctx, leads, {lead.id: owner_id for lead in leads})
