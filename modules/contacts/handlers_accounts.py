"""`/api/v1/accounts…` and `/api/v1/contacts…`."""
from __future__ import annotations

from modules.contacts import accounts, people, pool
from modules.contacts.handlers import ContactsApiHandler


class AccountsHandler(ContactsApiHandler):
    """`GET` lists the caller's accounts (filters: q, lifecycle, value_tier, industry, owner,
    region, parent, tag, credit_code; sort, after, limit, fields); `POST` creates one → 201
    `{"account": …, "warnings": [...]}` (duplicate warnings, see `duplicates`)."""

    def get(self) -> None:
        self.write_json(accounts.list_accounts(self.ctx, self.list_params(), self.arg))

    def post(self) -> None:
        account, warnings = accounts.create_account(self.ctx, self.body())
        self.write_json({"account": account, "warnings": warnings}, 201)


class DuplicatesHandler(ContactsApiHandler):
    """`POST {"name"?, "credit_code"?}` → `{"warnings": [...]}`, nothing written."""

    def post(self) -> None:
        self.write_json({"warnings": accounts.check_duplicates(self.ctx, self.body())})


class PoolHandler(ContactsApiHandler):
    """`GET` the ownerless accounts of the caller's division (needs the pool right)."""

    def get(self) -> None:
        self.write_json(accounts.list_pool(self.ctx, self.list_params(), self.arg))


class AccountHandler(ContactsApiHandler):
    def get(self, account_id: str) -> None:
        self.write_json(accounts.get_account(self.ctx, self.pk(account_id)))

    def patch(self, account_id: str) -> None:
        self.write_json(accounts.update_account(self.ctx, self.pk(account_id), self.body()))

    def delete(self, account_id: str) -> None:
        accounts.delete_account(self.ctx, self.pk(account_id))
        self.set_status(204)
        self.finish()


class ClaimHandler(ContactsApiHandler):
    """`POST` claims a pool account (200 with the account; 409 when someone owns it)."""

    def post(self, account_id: str) -> None:
        pool.claim(self.ctx, self.pk(account_id))
        self.write_json(accounts.get_account(self.ctx, self.pk(account_id)))


class ReleaseHandler(ContactsApiHandler):
    """`POST` gives an account back to the division's pool → `{"id", "owner": null}`."""

    def post(self, account_id: str) -> None:
        pool.release(self.ctx, self.pk(account_id))
        self.write_json({"id": self.pk(account_id), "owner": None})


class ContactsHandler(ContactsApiHandler):
    """`GET` lists contacts (account, q, decision_role, mobile/phone/email/wechat exact);
    `POST` adds one to an account → 201."""

    def get(self) -> None:
        self.write_json(people.list_contacts(self.ctx, self.list_params(), self.arg))

    def post(self) -> None:
        self.write_json(people.create_contact(self.ctx, self.body()), 201)


class ContactHandler(ContactsApiHandler):
    def get(self, contact_id: str) -> None:
        self.write_json(people.get_contact(self.ctx, self.pk(contact_id)))

    def patch(self, contact_id: str) -> None:
        self.write_json(people.update_contact(self.ctx, self.pk(contact_id), self.body()))

    def delete(self, contact_id: str) -> None:
        people.delete_contact(self.ctx, self.pk(contact_id))
        self.set_status(204)
        self.finish()
