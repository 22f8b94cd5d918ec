"""Drop the `leads_lead` indexes no query uses; every index costs each imported row a B-tree
insert (issue 5: the import's INSERT was half index maintenance).

- `status`, `source`: six and ten values, filtered only together with a division or owner
  (EXPLAIN QUERY PLAN of the list filters, funnel, pool, SLA, nurture and rescoring queries:
  the same index as before, or `first_response_due_at` for the SLA sweep);
- `last_activity_at`: sorted and compared only through `COALESCE(…)`, which no index serves;
- `created_by_id`: never queried (users are deactivated, not deleted).

`division_id` stays although the composite `(division_id, owner_id, status)` starts with
it: alone it keeps the division's leads in id order — lists and the nightly rescoring page
through `division_id = ? AND id > ? ORDER BY id` without sorting the division each time.

A fresh install creates the table from `models.Lead`, which no longer declares them: both
end with the same schema. `IF EXISTS`: an install may have dropped one by hand.
"""

DROPPED = ("leads_lead_status", "leads_lead_source", "leads_lead_last_activity_at",
           "leads_lead_created_by_id")


def migrate(migrator, database):
    for name in DROPPED:
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
