"""`PATCH /api/v1/leads/<id>` keeps the automation in step: a change of a field the score reads
rescores the lead at once, and a new owner gets the lead as an assignment does (clocks
restarted, in-app note and outbox event); clearing the owner sends it to the pool."""
from __future__ import annotations

import datetime as dt

from core.models import OutboxMessage
from modules.leads import scoring
from modules.leads.automation_models import Notification
from modules.leads.models import Lead
from modules.leads.tests.automation_org import (  # noqa: F401
    _clean_env, clients, clock, database_url, install, org, server)


def rules_of(lead: Lead) -> set[str]:
    return {item["rule"] for item in lead.score_breakdown}


def test_patch_of_scored_fields_rescores_the_lead(clients, org):
    lead = org.lead(owner=org.id("rep1"), source="other")
    scoring.rescore(org.ctx(), [lead.id])
    before = org.reload(lead)
    assert "has_company" not in rules_of(before)

    answer = clients("rep1").patch(f"/api/v1/leads/{lead.id}",
                                   json={"company": "华为技术", "source": "referral"})
    assert answer.status_code == 200, answer.text
    after = org.reload(lead)
    assert after.score == before.score + 10 + 20
    assert {"has_company", "source_referral"} <= rules_of(after)
    assert answer.json()["score"] == after.score

    answer = clients("rep1").patch(f"/api/v1/leads/{lead.id}", json={"company": None})
    assert answer.status_code == 200, answer.text
    assert org.reload(lead).score == before.score + 20
    assert "has_company" not in rules_of(org.reload(lead))


def test_patch_of_other_fields_leaves_the_score(clients, org):
    lead = org.lead(owner=org.id("rep1"), source="other")
    Lead.update(score=77, score_breakdown=[]).where(Lead.id == lead.id).execute()
    answer = clients("rep1").patch(f"/api/v1/leads/{lead.id}", json={"custom": {"k": "v"}})
    assert answer.status_code == 200, answer.text
    assert org.reload(lead).score == 77  # nothing the score reads changed: not recomputed


def test_new_owner_restarts_the_clocks_and_is_notified(clients, org, clock):
    clients("admin")  # signed in (TOTP) before the clock moves
    start = clock()
    lead = org.lead(owner=org.id("rep1"), assigned_at=start, escalation_level=1,
                    first_response_due_at=start + dt.timedelta(minutes=5))
    clock.advance(hours=3)
    answer = clients("mgr").patch(f"/api/v1/leads/{lead.id}", json={"owner": org.id("rep2")})
    assert answer.status_code == 200, answer.text
    stored = org.reload(lead)
    assert (stored.owner_id, stored.assigned_at, stored.escalation_level) == (
        org.id("rep2"), clock(), 0)
    assert stored.first_response_due_at == clock() + dt.timedelta(minutes=5)
    assert stored.first_response_met is None
    note = Notification.get(Notification.user == org.id("rep2"))
    assert (note.kind, note.res_model, note.res_id) == ("lead_assigned", "lead", lead.id)
    assert OutboxMessage.get(OutboxMessage.topic == "notify.lead_assigned").idempotency_key \
        == f"lead-assigned-{lead.id}-{org.id('rep2')}"

    # the same owner again is no change: no second note, clocks untouched
    clock.advance(minutes=1)
    answer = clients("mgr").patch(f"/api/v1/leads/{lead.id}",
                                  json={"owner": org.id("rep2"), "title": "经理"})
    assert answer.status_code == 200, answer.text
    assert Notification.select().where(Notification.user == org.id("rep2")).count() == 1
    assert org.reload(lead).assigned_at == clock() - dt.timedelta(minutes=1)

    # no owner (an administrator: a manager's scope ends with their team's leads): the lead
    # enters the division's pool
    answer = clients("admin").patch(f"/api/v1/leads/{lead.id}", json={"owner": None})
    assert answer.status_code == 200, answer.text
    assert org.reload(lead).pool_entered_at == clock()


def test_answered_lead_keeps_its_first_response_when_handed_over(clients, org, clock):
    start = clock()
    lead = org.lead(owner=org.id("rep1"), assigned_at=start, first_response_at=start,
                    first_response_met=True, first_response_due_at=start)
    clock.advance(days=1)
    answer = clients("mgr").patch(f"/api/v1/leads/{lead.id}", json={"owner": org.id("rep3")})
    assert answer.status_code == 200, answer.text
    stored = org.reload(lead)
    assert (stored.first_response_at, stored.first_response_met) == (start, True)
    assert stored.assigned_at == clock()  # the follow-up clock restarts for the new owner


def test_an_owner_change_outside_the_callers_scope_changes_nothing(clients, org):
    lead = org.lead(owner=org.id("rep1"))
    answer = clients("rep1").patch(f"/api/v1/leads/{lead.id}", json={"owner": org.id("rep2")})
    assert answer.status_code == 403  # reps may not hand leads over (field rule)
    assert org.reload(lead).owner_id == org.id("rep1")
    assert Notification.select().count() == 0
