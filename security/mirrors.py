"""Scope mirrors: a child's copies of its parent's scope columns, kept equal by the database.

Children follow their parent's scope (`__scope_parent__`): a contact is visible when its
account is. Compiled naively that is `account_id IN (SELECT id FROM accounts WHERE <scope>)`,
and a restricted page ("my newest 50 contacts") must then visit every contact of every
account in scope — one index seek per account, ~1,000 for a rep at 1M contacts — and sort
them, while the administrator's page reads the last 50 rows of the table. Measured
(`python -m bench --scenarios security_list --sizes 10k,1m`, server CPU per request) that
was the whole gap between the restricted user and the administrator at 1M rows.

A model may therefore declare mirrors of its parent's `__scope__` columns:

    __scope_parent__ = "account"
    __scope_mirror__ = {"owner": "account_owner_id", "division": "account_division_id",
                        "region": "account_region_id"}

with `ScopeMirrorField` columns and an index on them. The scope compiler then applies the
parent's own rules to the mirror columns directly (`security.scopes`): the page is an index
range in id order, like the administrator's. Record shares of the parent still go through
the parent id (`account_id IN (shared accounts)`).

The copies are maintained by triggers (`install_triggers`), not by application code, so no
write path — ORM save, bulk UPDATE, handover, raw SQL — can leave them stale: on SQLite,
AFTER INSERT / UPDATE triggers on the child copy the parent's values and an AFTER UPDATE
trigger on the parent pushes its new values to its children; on PostgreSQL a BEFORE INSERT
OR UPDATE trigger on the child reads the parent `FOR SHARE` (so a concurrent owner change
either waits for the child's transaction or is seen by it) and an AFTER UPDATE trigger on
the parent updates the children. Mirror fields are never readable or writable through the
door (`security.fields` rules them hidden).
"""
from __future__ import annotations

import peewee as pw

from core.db import database, is_postgres


class ScopeMirrorField(pw.IntegerField):
    """A copy of one parent scope column (an id), maintained by the database's triggers."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)


def mirror_fields(model) -> dict[str, pw.Field]:
    """`{"owner"|"division"|"region": mirror field}` declared by `model` (empty if none)."""
    declared = getattr(model, "__scope_mirror__", None) or {}
    fields = model._meta.fields
    found = {}
    for key, name in declared.items():
        field = fields.get(name)
        if not isinstance(field, ScopeMirrorField):
            raise ValueError(f"{model.__name__}.__scope_mirror__[{key!r}] = {name!r} is not a "
                             "ScopeMirrorField")
        found[key] = field
    return found


def _pairs(model) -> tuple[pw.ForeignKeyField, list[tuple[str, str]]]:
    """The parent foreign key and `(child mirror column, parent column)` pairs."""
    from security.scopes import scope_columns

    fk = model._meta.fields[model.__scope_parent__]
    parent_columns = scope_columns(fk.rel_model)
    pairs = [(field.column_name, parent_columns[key].column_name)
             for key, field in mirror_fields(model).items()]
    return fk, pairs


def parent_column(model, field: pw.Field) -> tuple[pw.ForeignKeyField, str, str]:
    """`(parent foreign key, parent table, parent column)` that mirror `field` copies (for
    bulk loaders that write the right value at once instead of having the triggers fix it)."""
    from security.scopes import scope_columns

    fk = model._meta.fields[model.__scope_parent__]
    key = next(k for k, f in mirror_fields(model).items() if f is field)
    return fk, fk.rel_model._meta.table_name, scope_columns(fk.rel_model)[key].column_name


def _sqlite_statements(model) -> list[str]:
    fk, pairs = _pairs(model)
    child, parent = model._meta.table_name, fk.rel_model._meta.table_name
    mine = ", ".join(f'"{c}"' for c, _ in pairs)
    theirs = ", ".join(f'"{p}"' for _, p in pairs)
    new_theirs = ", ".join(f'NEW."{p}"' for _, p in pairs)
    copy = (f'UPDATE "{child}" SET ({mine}) = (SELECT {theirs} FROM "{parent}" '
            f'WHERE "id" = NEW."{fk.column_name}") WHERE "id" = NEW."id";')
    new_mine = ", ".join(f'NEW."{c}"' for c, _ in pairs)
    stale = (f'WHEN ({new_mine}) IS NOT (SELECT {theirs} FROM "{parent}" '
             f'WHERE "id" = NEW."{fk.column_name}")')
    watched = ", ".join(f'"{p}"' for _, p in pairs)
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{child}_mirror_ins" AFTER INSERT ON "{child}" '
        f"{stale} BEGIN {copy} END",
        f'CREATE TRIGGER IF NOT EXISTS "{child}_mirror_upd" AFTER UPDATE OF '
        f'"{fk.column_name}", {mine} ON "{child}" {stale} BEGIN {copy} END',
        f'CREATE TRIGGER IF NOT EXISTS "{child}_mirror_push" AFTER UPDATE OF {watched} '
        f'ON "{parent}" BEGIN UPDATE "{child}" SET ({mine}) = ({new_theirs}) '
        f'WHERE "{fk.column_name}" = NEW."id"; END',
    ]


def _postgres_statements(model) -> list[str]:
    fk, pairs = _pairs(model)
    child, parent = model._meta.table_name, fk.rel_model._meta.table_name
    theirs = ", ".join(f'"{p}"' for _, p in pairs)
    into = ", ".join(f'NEW."{c}"' for c, _ in pairs)
    clear = " ".join(f'NEW."{c}" := NULL;' for c, _ in pairs)
    changed = " OR ".join(f'OLD."{p}" IS DISTINCT FROM NEW."{p}"' for _, p in pairs)
    assign = ", ".join(f'"{c}" = NEW."{p}"' for c, p in pairs)
    pull, push = f"{child}_mirror_pull", f"{child}_mirror_push"
    return [
        f'CREATE OR REPLACE FUNCTION "{pull}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
        f'SELECT {theirs} INTO {into} FROM "{parent}" WHERE "id" = NEW."{fk.column_name}" '
        f"FOR SHARE; IF NOT FOUND THEN {clear} END IF; RETURN NEW; END $$",
        f'DROP TRIGGER IF EXISTS "{pull}" ON "{child}"',
        f'CREATE TRIGGER "{pull}" BEFORE INSERT OR UPDATE ON "{child}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{pull}"()',
        f'CREATE OR REPLACE FUNCTION "{push}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
        f'IF {changed} THEN UPDATE "{child}" SET {assign} '
        f'WHERE "{fk.column_name}" = NEW."id"; END IF; RETURN NULL; END $$',
        f'DROP TRIGGER IF EXISTS "{push}" ON "{parent}"',
        f'CREATE TRIGGER "{push}" AFTER UPDATE ON "{parent}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{push}"()',
    ]


def install_triggers(model) -> None:
    """Create (or re-create) the triggers keeping `model`'s mirrors equal; idempotent."""
    statements = _postgres_statements(model) if is_postgres() else _sqlite_statements(model)
    for statement in statements:
        database.execute_sql(statement)


def backfill(model) -> int:
    """Copy the parents' current values into every row's mirrors (after adding them)."""
    fk, pairs = _pairs(model)
    child, parent = model._meta.table_name, fk.rel_model._meta.table_name
    mine = ", ".join(f'"{c}"' for c, _ in pairs)
    theirs = ", ".join(f'"{p}"' for _, p in pairs)
    cursor = database.execute_sql(
        f'UPDATE "{child}" SET ({mine}) = (SELECT {theirs} FROM "{parent}" '
        f'WHERE "{parent}"."id" = "{child}"."{fk.column_name}")')
    return cursor.rowcount
