"""Assignment: round-robin fairness (batches and concurrent posts), caps, working hours,
matching order, strategies, the pool fallback, notifications and batch cost."""
from __future__ import annotations

import collections
import datetime as dt
import threading

from core import outbox
from core.db import atomic, connection
from core.models import OutboxMessage
from modules.leads import assignment
from modules.leads.automation_models import AssignmentCursor, Notification, UserLeadCap
from modules.leads.models import Lead
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clock, count_queries, database_url, install, org, rule)

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def at_shanghai(year, month, day, hour, minute=0) -> dt.datetime:
    """Naive UTC for a Shanghai wall-clock time."""
    local = dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def owners(ids) -> collections.Counter:
    return collections.Counter(
        lead.owner_id for lead in Lead.select(Lead.owner).where(Lead.id.in_(list(ids))))


def test_round_robin_is_fair_over_1000_leads(org):
    rule(org)
    ids = [org.lead(name=f"客户{i}").id for i in range(1000)]
    ctx = org.ctx()
    for start in range(0, 1000, 100):  # as an import would, batch by batch
        placed = assignment.assign(ctx, ids[start:start + 100])
        assert None not in placed.values()
    counts = owners(ids)
    assert sorted(counts.values()) == [333, 333, 334]
    rotation = [org.id("rep1"), org.id("rep2"), org.id("rep3")]
    first = [Lead.get_by_id(pk).owner_id for pk in ids[:6]]
    assert first == rotation * 2  # strict rotation, carried across batches by the cursor
    assert counts[org.id("rep1")] == 334
    cursor = AssignmentCursor.get()
    assert cursor.assigned == 1000 and cursor.last_user == org.id("rep1")


def test_round_robin_stays_fair_under_concurrent_posts(org):
    """Eight threads, each on its own connection, create-and-assign leads one by one (as
    concurrent web-form posts do): the cursor lock keeps the rotation exact."""
    rule(org)
    division = org.divisions["IA"].id
    created: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        try:
            with connection():
                for i in range(15):
                    with atomic():
                        lead = Lead.create(name=f"并发{n}-{i}", division=division, source="website")
                        assignment.assign(org.ctx(), [lead])
                    with lock:
                        created.append(lead.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(created) == 120
    assert sorted(owners(created).values()) == [40, 40, 40]
    assert AssignmentCursor.get().assigned == 120


def test_caps_skip_full_users_and_overflow_to_the_pool(org):
    rule(org, max_open=3)
    UserLeadCap.create(user=org.id("rep1"), max_open=1)
    org.lead(owner=org.id("rep2"))  # rep2 already holds one open lead
    org.lead(owner=org.id("rep2"), status="lost", lost_reason="无预算")  # closed: not counted
    ids = [org.lead().id for _ in range(8)]
    placed = assignment.assign(org.ctx(), ids)
    counts = collections.Counter(placed.values())
    assert counts == {org.id("rep1"): 1, org.id("rep2"): 2, org.id("rep3"): 3, None: 2}
    pooled = [pk for pk, owner in placed.items() if owner is None]
    for pk in pooled:
        lead = Lead.get_by_id(pk)
        assert lead.owner_id is None and lead.pool_entered_at == org.clock()
        assert lead.first_response_due_at is None


def test_working_hours_of_users_and_rules(org, clock):
    weekdays = {"weekdays": [1, 2, 3, 4, 5], "ranges": [["09:00", "12:00"], ["13:30", "18:00"]]}
    UserLeadCap.create(user=org.id("rep2"), working_hours=weekdays)
    day_team = rule(org, name="白班", working_hours=weekdays,
                    team_users=[org.id("rep1"), org.id("rep2")])
    rule(org, name="夜班", sequence=20, team_users=[org.id("rep3")],
         working_hours={"weekdays": [1, 2, 3, 4, 5, 6, 7], "ranges": [["18:00", "24:00"]]})
    ctx = org.ctx()

    clock.set(at_shanghai(2026, 11, 24, 10))  # Tuesday 10:00: the day team, both on duty
    both = [org.lead().id for _ in range(4)]
    assert collections.Counter(assignment.assign(ctx, both).values()) == {
        org.id("rep1"): 2, org.id("rep2"): 2}
    clock.set(at_shanghai(2026, 11, 24, 12, 30))  # lunch: the rule's hours are closed
    lunch = org.lead()
    assert assignment.assign(ctx, [lunch.id]) == {lunch.id: None}  # night team not on yet
    assert Lead.get_by_id(lunch.id).pool_entered_at is not None
    clock.set(at_shanghai(2026, 11, 24, 20))  # evening: the night rule takes over
    evening = org.lead()
    assert assignment.assign(ctx, [evening.id]) == {evening.id: org.id("rep3")}
    clock.set(at_shanghai(2026, 11, 28, 10))  # Saturday morning: nobody
    saturday = org.lead()
    assert assignment.assign(ctx, [saturday.id]) == {saturday.id: None}
    # rep2 off duty while the rule is open → the next eligible user of the team
    UserLeadCap.update(working_hours={"weekdays": [1], "ranges": [["09:00", "10:00"]]}).execute()
    clock.set(at_shanghai(2026, 11, 24, 15))
    later = [org.lead().id for _ in range(3)]
    assert set(assignment.assign(ctx, later).values()) == {org.id("rep1")}
    assert day_team.id


def test_rules_match_in_order_with_strategies(org):
    from modules.base.models import Region

    east = Region.get(Region.code == "east")
    rule(org, name="华东制造大客户", sequence=1, strategy="named_user",
         named_user=org.id("rep3"), team_users=[],
         match={"region": ["east"], "industry": ["制造"], "score_min": 60})
    rule(org, name="转介绍", sequence=2, strategy="least_open",
         team_users=[org.id("rep1"), org.id("rep2")], match={"source": ["referral"]})
    rule(org, name="兜底", sequence=3, team_users=[org.id("rep2")],
         match={"score_max": 59})
    org.lead(owner=org.id("rep1"))
    org.lead(owner=org.id("rep1"))
    big = org.lead(region=east.id, industry="制造", score=80)
    small_east = org.lead(region=east.id, industry="制造", score=30, source="referral")
    referrals = [org.lead(source="referral", score=70).id for _ in range(3)]
    nobody = org.lead(score=90)  # matches no rule → pool
    placed = assignment.assign(org.ctx(), [big.id, small_east.id, *referrals, nobody.id])
    assert placed[big.id] == org.id("rep3")
    # least open: rep2 (0 open) until level with rep1 (2), then alternating
    assert [placed[small_east.id], *[placed[pk] for pk in referrals]] == [
        org.id("rep2"), org.id("rep2"), org.id("rep1"), org.id("rep2")]
    assert placed[nobody.id] is None
    md_lead = org.lead(division="MD")
    assert assignment.assign(org.ctx(), [md_lead.id]) == {md_lead.id: None}  # no MD rules


def test_department_team_inactive_users_and_owned_leads(org):
    from modules.base import services

    rule(org, team_users=[], team_department=org.departments["IA-S1"].id)
    services.set_active(org.users["rep2"], False)
    owned = org.lead(owner=org.id("mgr"))
    ids = [org.lead().id for _ in range(6)]
    placed = assignment.assign(org.ctx(), [owned.id, *ids])
    assert owned.id not in placed  # leads with an owner are left alone
    # department IA-S1: mgr, rep1, rep3 active (rep2 disabled), by id
    assert collections.Counter(placed.values()) == {
        org.id("mgr"): 2, org.id("rep1"): 2, org.id("rep3"): 2}


def test_assignee_gets_an_inbox_note_and_an_outbox_event(org):
    rule(org, team_users=[org.id("rep1")])
    lead = org.lead(name="周先生", company="远景能源")
    assignment.assign(org.ctx(), [lead.id])
    stored = Lead.get_by_id(lead.id)
    assert stored.owner_id == org.id("rep1")
    assert stored.assigned_at == org.clock()
    assert stored.first_response_due_at == org.clock() + dt.timedelta(minutes=5)
    note = Notification.get(Notification.user == org.id("rep1"))
    assert (note.kind, note.res_model, note.res_id) == ("lead_assigned", "lead", lead.id)
    assert "周先生" in note.title
    message = OutboxMessage.get(OutboxMessage.topic == "notify.lead_assigned")
    assert message.idempotency_key == f"lead-assigned-{lead.id}-{org.id('rep1')}"
    assert message.payload["user_id"] == org.id("rep1")
    assert message.payload["lead_id"] == lead.id
    assert outbox.enqueue("notify.lead_assigned", {}, message.idempotency_key).id == message.id


def test_batch_assignment_query_count_does_not_grow(org):
    rule(org, max_open=1000)
    UserLeadCap.create(user=org.id("rep1"), max_open=500)
    ctx = org.ctx()
    assignment.assign(ctx, [org.lead().id])  # creates the rule's cursor
    small = [org.lead().id for _ in range(5)]
    large = [org.lead().id for _ in range(250)]
    with count_queries() as few:
        assignment.assign(ctx, small)
    with count_queries() as many:
        assignment.assign(ctx, large)
    assert len(many) == len(few)
    assert sum(owners(large).values()) == 250


def test_owner_changed_outside_the_rules_restarts_clocks_and_notifies(org, clock):
    lead = org.lead(owner=org.id("rep1"), assigned_at=clock(), escalation_level=1)
    clock.advance(hours=3)
    Lead.update(owner=org.id("rep2")).where(Lead.id == lead.id).execute()  # a manager's edit
    assignment.owner_changed(org.ctx(), [lead.id], org.id("rep2"))
    stored = Lead.get_by_id(lead.id)
    assert (stored.owner_id, stored.assigned_at, stored.escalation_level) == (
        org.id("rep2"), clock(), 0)
    assert stored.first_response_due_at == clock() + dt.timedelta(minutes=5)
    assert Notification.get(Notification.user == org.id("rep2")).res_id == lead.id
    Lead.update(owner=None).where(Lead.id == lead.id).execute()
    assignment.owner_changed(org.ctx(), [lead.id], None)
    assert Lead.get_by_id(lead.id).pool_entered_at == clock()
