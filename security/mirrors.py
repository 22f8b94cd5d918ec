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

from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Names:
    """The SQL names every mirror statement is built from (quoted where they are lists)."""

    child: str  # the child's table
    parent: str  # the parent's table
    fk: str  # the child's column holding the parent id
    pairs: tuple[tuple[str, str], ...]  # (child mirror column, parent column)

    def columns(self, side: int, prefix: str = "") -> str:
        """`"a", "b"` of the child's (side 0) or parent's (side 1) columns, `prefix`ed."""
        return ", ".join(f'{prefix}"{pair[side]}"' for pair in self.pairs)


def _names(model) -> _Names:
    from security.scopes import scope_columns

    fk = model._meta.fields[model.__scope_parent__]
    parent_columns = scope_columns(fk.rel_model)
    pairs = tuple((field.column_name, parent_columns[key].column_name)
                  for key, field in mirror_fields(model).items())
    return _Names(model._meta.table_name, fk.rel_model._meta.table_name, fk.column_name, pairs)


def parent_column(model, field: pw.Field) -> tuple[pw.ForeignKeyField, str, str]:
    """`(parent foreign key, parent table, parent column)` that mirror `field` copies (for
    bulk loaders that write the right value at once instead of having the triggers fix it)."""
    from security.scopes import scope_columns

    fk = model._meta.fields[model.__scope_parent__]
    key = next(k for k, f in mirror_fields(model).items() if f is field)
    return fk, fk.rel_model._meta.table_name, scope_columns(fk.rel_model)[key].column_name


def _sqlite_statements(model) -> list[str]:
    n = _names(model)
    mine, theirs = n.columns(0), n.columns(1)
    parent_row = f'(SELECT {theirs} FROM "{n.parent}" WHERE "id" = NEW."{n.fk}")'
    copy = f'UPDATE "{n.child}" SET ({mine}) = {parent_row} WHERE "id" = NEW."id";'
    stale = f'WHEN ({n.columns(0, "NEW.")}) IS NOT {parent_row}'
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{n.child}_mirror_ins" AFTER INSERT ON "{n.child}" '
        f"{stale} BEGIN {copy} END",
        f'CREATE TRIGGER IF NOT EXISTS "{n.child}_mirror_upd" AFTER UPDATE OF '
        f'"{n.fk}", {mine} ON "{n.child}" {stale} BEGIN {copy} END',
        f'CREATE TRIGGER IF NOT EXISTS "{n.child}_mirror_push" AFTER UPDATE OF {theirs} '
        f'ON "{n.parent}" BEGIN UPDATE "{n.child}" SET ({mine}) = ({n.columns(1, "NEW.")}) '
        f'WHERE "{n.fk}" = NEW."id"; END',
    ]


def _postgres_statements(model) -> list[str]:
    n = _names(model)
    clear = " ".join(f'NEW."{c}" := NULL;' for c, _ in n.pairs)
    changed = " OR ".join(f'OLD."{p}" IS DISTINCT FROM NEW."{p}"' for _, p in n.pairs)
    assign = ", ".join(f'"{c}" = NEW."{p}"' for c, p in n.pairs)
    pull, push = f"{n.child}_mirror_pull", f"{n.child}_mirror_push"
    return [
        f'CREATE OR REPLACE FUNCTION "{pull}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
        f'SELECT {n.columns(1)} INTO {n.columns(0, "NEW.")} FROM "{n.parent}" '
        f'WHERE "id" = NEW."{n.fk}" FOR SHARE; IF NOT FOUND THEN {clear} END IF; '
        f"RETURN NEW; END $$",
        f'DROP TRIGGER IF EXISTS "{pull}" ON "{n.child}"',
        f'CREATE TRIGGER "{pull}" BEFORE INSERT OR UPDATE ON "{n.child}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{pull}"()',
        f'CREATE OR REPLACE FUNCTION "{push}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
        f'IF {changed} THEN UPDATE "{n.child}" SET {assign} '
        f'WHERE "{n.fk}" = NEW."id"; END IF; RETURN NULL; END $$',
        f'DROP TRIGGER IF EXISTS "{push}" ON "{n.parent}"',
        f'CREATE TRIGGER "{push}" AFTER UPDATE ON "{n.parent}" '
        f'FOR EACH ROW EXECUTE FUNCTION "{push}"()',
    ]


def install_triggers(model) -> None:
    """Create (or re-create) the triggers keeping `model`'s mirrors equal; idempotent."""
    statements = _postgres_statements(model) if is_postgres() else _sqlite_statements(model)
    for statement in statements:
        database.execute_sql(statement)


def backfill(model) -> int:
    """Copy the parents' current values into every row's mirrors (after adding them)."""
    n = _names(model)
    cursor = database.execute_sql(
        f'UPDATE "{n.child}" SET ({n.columns(0)}) = (SELECT {n.columns(1)} FROM "{n.parent}" '
        f'WHERE "{n.parent}"."id" = "{n.child}"."{n.fk}")')
    return cursor.rowcount
