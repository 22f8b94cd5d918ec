"""离职交接 provider: a departing user's open deals move to the receivers.

Only open deals move (won and lost ones stay with whoever closed them: they are history and
the basis of forecast-vs-actual). The orchestrator (`modules.contacts.handover`) authorises
the person, audits every moved record and picks receivers; its assigner keeps a customer's
deals with whoever took the customer, so each row carries its `account_id`.
"""
from __future__ import annotations

from modules.opportunities.models import Opportunity, Stage


class OpportunitiesProvider:
    label = "opportunities"

    def _open(self, from_user):
        return (Opportunity.select(Opportunity.id, Opportunity.account)
                .join(Stage, on=(Opportunity.stage == Stage.id))
                .where((Opportunity.owner == from_user.id) & (Stage.kind == "open")))

    def count(self, ctx, from_user) -> int:
        return self._open(from_user).count()

    def move(self, ctx, from_user, assign) -> list[tuple]:
        from modules.contacts.handover import move_rows

        rows = list(self._open(from_user).order_by(Opportunity.id))
        return move_rows(Opportunity, rows, "owner", assign)
