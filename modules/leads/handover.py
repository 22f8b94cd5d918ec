"""离职交接 provider: a departing user's open leads move to the receivers.

Open means not yet converted or lost (those are history). The orchestrator
(`modules.contacts.handover`) authorises, audits every moved record, disables the user and
picks receivers round-robin; leads carry no account, so each is assigned on its own.
"""
from __future__ import annotations

from modules.leads.models import Lead

CLOSED = ("converted", "lost")


class LeadsProvider:
    label = "leads"

    def _open(self, from_user):
        return Lead.select(Lead.id).where((Lead.owner == from_user.id)
                                          & Lead.status.not_in(CLOSED))

    def count(self, ctx, from_user) -> int:
        return self._open(from_user).count()

    def move(self, ctx, from_user, assign) -> list[tuple]:
        from modules.contacts.handover import move_rows

        return move_rows(Lead, list(self._open(from_user).order_by(Lead.id)), "owner", assign)
