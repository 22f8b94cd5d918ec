"""The public pool of leads (线索公海) as a page: browse the current division's ownerless leads
(`pool.list_pool`, under the caller's field rules) and claim one (`pool.claim`: one winner,
daily limit, protection of released leads); release one's own lead back (`pool.release`).

A claim from the list answers with the claimed row (htmx swaps it in place); refusals (409
already claimed, 429 daily limit, 403 no pool right) go to the shell's error display.
"""
from __future__ import annotations

from modules.contacts.paging import ListParams
from modules.web.pages.leads_common import LeadsPage, add_owner_names, filter_query, query_string

POOL_FILTERS = ("source", "status", "region")


class PoolPage(LeadsPage):
    """`GET /leads/pool`: the pool, newest arrivals first (`sort=-score` for the best)."""

    def get(self) -> None:
        from modules.leads.pool import list_pool

        page = list_pool(self.ctx, ListParams.parse(self.arg, "-pool_entered_at"), self.arg)
        filters = {k: v for k, v in filter_query(self.arg).items() if k in (*POOL_FILTERS,
                                                                            "sort")}
        more = query_string(filters, after=page["next"]) if page["next"] else None
        levels = self.levels()
        columns = [c for c in ("name", "company", "mobile", "source", "region", "score",
                               "pool_entered_at") if levels.get(c, "hidden") != "hidden"]
        self.render_lead_page("leads/pool.html", items=page["items"], columns=columns,
                              filters=filters, more=more)


class ClaimPage(LeadsPage):
    """`POST /leads/<id>/claim`: the caller becomes the owner."""

    def post(self, lead_id: str) -> None:
        from modules.leads.pool import claim
        from modules.leads.services import get_lead

        pk = self.pk(lead_id)
        claim(self.ctx, pk)
        if self.is_htmx:
            lead = add_owner_names(self.ctx, [get_lead(self.ctx, pk)])[0]
            self.render_lead_page("leads/_claimed.html", lead=lead)
            return
        self.go(f"/leads/{pk}")


class ReleasePage(LeadsPage):
    """`POST /leads/<id>/release` (`reason`): back to the pool."""

    def post(self, lead_id: str) -> None:
        from modules.leads.pool import release

        pk = self.pk(lead_id)
        release(self.ctx, pk, self.form_dict().get("reason") or None)
        self.go("/leads/pool")
