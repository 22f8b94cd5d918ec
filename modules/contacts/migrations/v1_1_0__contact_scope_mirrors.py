"""Contacts get mirrors of their account's owner, division and region (security.mirrors):
add the columns and their index, fill them from the accounts; the triggers that keep them
equal are (re)created by the module's `on_upgrade` hook right after this step."""
from __future__ import annotations

from playhouse.migrate import migrate as apply

COLUMNS = ("account_owner_id", "account_division_id", "account_region_id")


def migrate(migrator, database):
    from modules.contacts.models import Contact
    from security.mirrors import backfill

    fields = Contact._meta.fields
    present = {c.name for c in database.get_columns(Contact._meta.table_name)}
    apply(*[migrator.add_column(Contact._meta.table_name, name, fields[name])
            for name in COLUMNS if name not in present])
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "contacts_contact_account_division_id_account_owner_id" '
        'ON "contacts_contact" ("account_division_id", "account_owner_id")')
    backfill(Contact)
