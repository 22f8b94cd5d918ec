"""Merging duplicate leads (pick each field's surviving value) and converting a lead into an
account + contact (+ optional opportunity) — pages over `merge.merge` and `convert.convert`,
which hold every rule (rights, write scope, field rules, SOP, one transaction).

    GET  /leads/merge?ids=7,9      the leads side by side, one choice per writable field
    POST /leads/merge              target, ids, pick_<field> = lead id
    GET  /leads/<id>/convert       the conversion form
    POST /leads/<id>/convert       account (auto | new | <id>), optional opportunity
"""
from __future__ import annotations

from core.web.base import APIError
from modules.contacts.common import as_pk
from modules.web.pages.leads_common import LeadsPage, add_owner_names

MERGE_FIELDS = ("name", "company", "title", "mobile", "email", "wechat", "source", "campaign",
                "region", "industry", "budget", "need", "owner")
MAX_MERGE = 5


def merge_ids(values: list[str]) -> list[int]:
    """Distinct lead ids from `ids=7,9` or repeated `ids` arguments (2–5 of them, else 400)."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            pk = as_pk(part.strip())
            if pk is not None and pk not in ids:
                ids.append(pk)
    if not 2 <= len(ids) <= MAX_MERGE:
        raise APIError(400, f"请选择 2–{MAX_MERGE} 条线索 / choose 2 to {MAX_MERGE} leads",
                       code="bad_request", fields={"ids": "2-5 lead ids"})
    return ids


class MergePage(LeadsPage):
    def get(self) -> None:
        import security

        security.require(self.ctx, "execute", "action/lead.merge")
        self.show(merge_ids(self.get_query_arguments("ids")))

    def show(self, ids: list[int], target: int | None = None, picks: dict | None = None,
             errors: dict | None = None, status: int = 200) -> None:
        from modules.leads.services import get_lead

        leads = add_owner_names(self.ctx, [get_lead(self.ctx, pk) for pk in ids])
        read, write = self.levels("read"), self.levels("write")
        fields = [f for f in MERGE_FIELDS if read.get(f, "hidden") != "hidden"]
        self.set_status(status)
        self.render_lead_page("leads/merge.html", leads=leads, fields=fields,
                              write_levels=write, target=target or ids[0],
                              picks=picks or {}, errors=errors or {}, ids=ids)

    def post(self) -> None:
        from modules.leads.merge import merge

        form = self.form_dict()
        ids = merge_ids(self.get_body_arguments("ids"))
        target = as_pk(form.get("target")) or ids[0]
        picks = {name[5:]: as_pk(value) for name, value in form.items()
                 if name.startswith("pick_") and as_pk(value) is not None}
        fields = {name: pk for name, pk in picks.items() if pk != target}
        try:
            merge(self.ctx, {"target": target, "sources": [i for i in ids if i != target],
                             "fields": fields})
        except APIError as exc:
            if exc.status_code != 422:
                raise
            self.show(ids, target, picks, exc.fields or {}, self.refused_status)
            return
        self.go(f"/leads/{target}?merged=1")


class ConvertPage(LeadsPage):
    """Convert a lead: into the account found by dedup (default), a new one, or a chosen one."""

    def get(self, lead_id: str) -> None:
        import security

        security.require(self.ctx, "execute", "action/lead.convert")
        self.show(self.pk(lead_id), {}, {})

    def show(self, pk: int, form: dict, errors: dict, message: str | None = None,
             status: int = 200) -> None:
        from modules.leads import dedupe
        from modules.leads.services import get_lead

        lead = get_lead(self.ctx, pk)
        accounts = dedupe.summary(self.ctx, pk).get("accounts", [])
        self.set_status(status)
        self.render_lead_page("leads/convert.html", lead=lead, accounts=accounts, form=form,
                              errors=errors, message=message)

    def post(self, lead_id: str) -> None:
        from modules.leads.convert import convert

        pk = self.pk(lead_id)
        form = self.form_dict()
        try:
            result = convert(self.ctx, pk, convert_body(form))
        except APIError as exc:
            if exc.status_code not in (409, 422) or exc.code == "converted":
                raise
            self.show(pk, form, exc.fields if isinstance(exc.fields, dict) else {},
                      exc.message, self.refused_status)
            return
        self.render_lead_page("leads/converted.html", result=result)


def convert_body(form: dict) -> dict:
    """The convert service's body from the form: `account` = auto | new | an account id;
    `with_opportunity` adds an opportunity with the given name / amount / close date."""
    body: dict = {}
    choice = (form.get("account") or "auto").strip()
    if choice == "new":
        body["create_account"] = True
    elif choice != "auto":
        body["account_id"] = choice  # the service checks it (422 naming account_id)
    if form.get("with_opportunity"):
        deal = {k: form[f"opportunity_{k}"] for k in ("name", "amount", "expected_close")
                if form.get(f"opportunity_{k}")}
        body["opportunity"] = deal
    return body
