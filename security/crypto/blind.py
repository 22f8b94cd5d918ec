"""Blind indexes: a searchable companion column for an encrypted one.

The companion stores HMAC-SHA256(index key, domain || normalised value) cut to 64 bits (16 hex
characters, `keyring.INDEX_HEX_CHARS`) — equal inputs give equal indexes, so equality search
and duplicate detection work, yet the column reveals nothing without the index key (a separate
data key from the encryption key).

Declare the companion next to its source and inherit `BlindIndexMixin` (it keeps the companion
in sync on `create`, `save`, `insert`, `insert_many`, `bulk_create`, `update`, `bulk_update`):

    class Lead(BlindIndexMixin, TimestampedModel):
        phone = EncryptedCharField(max_length=32, null=True)
        phone_bidx = BlindIndexField("phone", normalise_phone)

    Lead.select().where(Lead.phone_bidx == blind_index_for(Lead.phone, "+86 138-0013-8000"))
    Lead.select().where(Lead.phone_bidx.matches("13800138000"))          # same thing

Index keys are not rotated by `huike keys rotate`: a new index key changes every index value, so
rotating it means decrypting every row and recomputing, while lookups must consult both
generations until done — a different, heavier operation than re-encryption, with little gain
(the index key never leaves the keyring, and HMAC outputs do not wear out a key)."""
from __future__ import annotations

import peewee as pw

from security.crypto.binding import active_keyring
from security.crypto.keyring import INDEX_HEX_CHARS
from security.crypto.normalise import Normaliser, normalise_text

NO_MATCH = ""  # never equal to a stored index (16 hex characters or NULL)


def blind_index(value, normalise: Normaliser = normalise_text, domain: str | None = None):
    """The index of `value` after `normalise`, or None when nothing searchable remains."""
    if value is None:
        return None
    normalised = normalise(value)
    if not normalised:
        return None
    domain = domain or getattr(normalise, "index_domain", None)
    if not domain:
        raise ValueError("blind_index needs a domain: pass domain= or a tagged normaliser")
    return active_keyring().index(domain, normalised)


class BlindIndexField(pw.CharField):
    """Companion column holding the blind index of the field named `source`."""

    def __init__(self, source: str, normalise: Normaliser = normalise_text, *,
                 domain: str | None = None, index: bool = True, **kwargs):
        self.source = source
        self.normalise = normalise
        self._domain = domain
        kwargs["null"] = True
        super().__init__(max_length=INDEX_HEX_CHARS, index=index, **kwargs)

    def bind(self, model, name, set_attribute=True):
        if not issubclass(model, BlindIndexMixin):
            raise TypeError(f"{model.__name__}.{name}: a model with a BlindIndexField must inherit "
                            "security.crypto.BlindIndexMixin (it keeps the index in sync)")
        super().bind(model, name, set_attribute)

    @property
    def domain(self) -> str:
        """Values in one domain are comparable across tables (default: the normaliser's)."""
        return (self._domain or getattr(self.normalise, "index_domain", None)
                or f"{self.model._meta.table_name}.{self.source}")

    @property
    def source_field(self) -> pw.Field:
        return self.model._meta.fields[self.source]

    def compute(self, value):
        """The index value to store for a source value (None for None / nothing searchable)."""
        return blind_index(value, self.normalise, self.domain)

    def matches(self, value) -> pw.Expression:
        """`WHERE` expression: rows whose source equals `value` after normalisation."""
        return self == blind_index_for(self, value)


def blind_index_for(field: pw.Field, value) -> str:
    """The index to compare a `BlindIndexField` with, given the index field or its source field.
    A value with nothing searchable yields a string that matches no row."""
    if not isinstance(field, BlindIndexField):
        companions = [f for f in field.model._meta.sorted_fields
                      if isinstance(f, BlindIndexField) and f.source == field.name]
        if len(companions) != 1:
            raise ValueError(f"{field.model.__name__}.{field.name} has {len(companions)} blind "
                             "indexes; pass the BlindIndexField itself")
        field = companions[0]
    digest = field.compute(value)
    return NO_MATCH if digest is None else digest


def hash_indexes(model) -> list[str]:
    """PostgreSQL: make the model's blind-index indexes hash indexes (same names); returns
    the ones converted. Blind indexes are only ever compared for equality — one value or a
    batch's `IN (…)` list, never ranges or order — and a hash index answers that from a
    4-byte hash: an import batch's 2,000-value duplicate lookup at 1M rows took 25 ms instead
    of the B-tree's 48 ms and COPY into the table went 31k → 46k rows/s (`bench/`, measured
    with the 64-character indexes of 1.2.0). SQLite has no hash index: nothing to do.
    Idempotent (module install and upgrade hooks call it)."""
    from core.db import database, is_postgres

    if not is_postgres():
        return []
    table, converted = model._meta.table_name, []
    for field in _indexes(model):
        if not field.index:
            continue
        name = f"{table}_{field.column_name}"
        found = database.execute_sql(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = %s", (name,)).fetchone()
        if found is not None and " USING hash " in found[0]:
            continue
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
        database.execute_sql(f'CREATE INDEX "{name}" ON "{table}" USING hash '
                             f'("{field.column_name}")')
        converted.append(name)
    return converted


def shorten_stored(database, table: str, columns: tuple[str, ...]) -> None:
    """Migration step: cut the blind indexes `table` stored as whole HMACs (64 hex characters,
    before 1.3.0 of leads and contacts) to `INDEX_HEX_CHARS`. The new index of a value is the
    prefix of its old one (same key, same HMAC), so no row is decrypted and every lookup
    matches again. On PostgreSQL the columns become `varchar(16)` as a fresh install declares
    them (the table is rewritten once, its indexes rebuilt with their kind: hash stays hash)."""
    from core.db import is_postgres

    for column in columns:
        database.execute_sql(f'UPDATE "{table}" SET "{column}" = substr("{column}", 1, '
                             f'{INDEX_HEX_CHARS}) WHERE length("{column}") > {INDEX_HEX_CHARS}')
    if is_postgres():
        database.execute_sql(f'ALTER TABLE "{table}" ' + ", ".join(
            f'ALTER COLUMN "{column}" TYPE varchar({INDEX_HEX_CHARS})' for column in columns))


def _indexes(model) -> list[BlindIndexField]:
    return [f for f in model._meta.sorted_fields if isinstance(f, BlindIndexField)]


def _with_indexes(model, data):
    """Add/refresh companion values in a {Field: value} dict (peewee's normalised write data)."""
    if not isinstance(data, dict):
        return data
    keys = list(data)
    for index in _indexes(model):
        source_at = _position(keys, index.source_field)
        if source_at is None:
            continue
        value = data[keys[source_at]]
        if isinstance(value, pw.Node):
            if _position(keys, index) is not None:
                continue  # the caller computed it (bulk_update's CASE expressions)
            raise ValueError(f"{model.__name__}.{index.source}: cannot compute its blind index "
                             "from a SQL expression; write a plain value")
        data[index] = index.compute(value)
    return data


def _position(columns: list, fld) -> int | None:
    """Index of `fld` in `columns` by identity (`==` on a peewee field builds SQL, not a bool)."""
    for position, column in enumerate(columns):
        if column is fld:
            return position
    return None


def _as_field(model, column) -> pw.Field:
    return model._meta.combined[column] if isinstance(column, str) else column


class BlindIndexMixin:
    """Model mixin keeping every `BlindIndexField` equal to the index of its source on write."""

    def save(self, *args, **kwargs):
        for index in _indexes(type(self)):
            if index.source in self.__data__:
                digest = index.compute(self.__data__[index.source])
                if self.__data__.get(index.name) != digest:
                    setattr(self, index.name, digest)
        return super().save(*args, **kwargs)

    @classmethod
    def insert(cls, __data=None, **insert):
        return super().insert(_with_indexes(cls, cls._normalize_data(__data, insert)))

    @classmethod
    def update(cls, __data=None, **update):
        return super().update(_with_indexes(cls, cls._normalize_data(__data, update)))

    @classmethod
    def insert_many(cls, rows, fields=None):
        indexes = _indexes(cls)
        rows = list(rows)
        if not indexes or not rows:
            return super().insert_many(rows, fields)
        if isinstance(rows[0], dict):
            rows = [_with_indexes(cls, {_as_field(cls, k): v for k, v in row.items()})
                    for row in rows]
            if fields is not None:
                fields = [_as_field(cls, c) for c in fields]
                fields += [i for i in indexes if _position(fields, i.source_field) is not None
                           and _position(fields, i) is None]
            return super().insert_many(rows, fields)
        if fields is None:
            fields = cls._meta.sorted_fields[1:] if cls._meta.auto_increment \
                else cls._meta.sorted_fields
        columns = [_as_field(cls, c) for c in fields]
        rows = [list(row) for row in rows]
        for index in indexes:
            source_at = _position(columns, index.source_field)
            if source_at is None:
                continue
            index_at = _position(columns, index)
            if index_at is None:
                index_at = len(columns)
                columns.append(index)
                for row in rows:
                    row.append(None)
            for row in rows:
                row[index_at] = index.compute(row[source_at])
        return super().insert_many([tuple(r) for r in rows], columns)

    @classmethod
    def insert_from(cls, query, fields):
        columns = [_as_field(cls, c) for c in fields]
        for index in _indexes(cls):
            if _position(columns, index.source_field) is not None:
                raise ValueError(f"{cls.__name__}.{index.source}: insert_from cannot compute blind "
                                 "indexes; insert plain values instead")
        return super().insert_from(query, fields)

    @classmethod
    def bulk_update(cls, model_list, fields, batch_size=None):
        model_list = list(model_list)
        fields = [_as_field(cls, f) for f in fields]
        for index in _indexes(cls):
            if _position(fields, index.source_field) is not None:
                for obj in model_list:
                    obj.__data__[index.name] = index.compute(obj.__data__.get(index.source))
                if _position(fields, index) is None:
                    fields.append(index)
        return super().bulk_update(model_list, fields, batch_size)
