"""The import's hot path into the database: a batch of finished rows in one statement —
`executemany` of an INSERT built once on SQLite; on PostgreSQL `COPY … FROM STDIN` (three times
the rows/s of a multi-row INSERT through `execute_values`; psycopg2's `executemany` would make
one round trip per row), fed by `CopyStream`: rows are built and escaped while the server
inserts the ones sent before them.

Rows are handed over as finished column values: encrypted fields already hold their
ciphertext (`keyring.encrypt`, the same format `EncryptedCharField.db_value` writes) and blind
indexes their HMAC (`keyring.index`, what `BlindIndexField.compute` stores) — see
`importer.crypt`. Every other column of `Lead` gets its model default, computed once per
batch, so fields added to the model later (by part 2, or custom ones) are filled correctly
without touching this file. Idempotence is guarded by the unique `import_key`: SQLite's INSERT
says `ON CONFLICT (import_key) DO NOTHING`; COPY cannot, so when it meets a key another worker
inserted meanwhile (the batch was checked just before) the batch falls back, in a savepoint,
to `execute_values` with the same clause.
"""
from __future__ import annotations

import json
from typing import Iterable

import peewee as pw

from core.db import JSONField, database, is_postgres
from modules.leads.models import Lead

PLAIN = (pw.CharField, pw.TextField, pw.IntegerField, pw.BooleanField, pw.DateTimeField,
         pw.DecimalField, pw.ForeignKeyField, pw.FloatField, pw.DateField, pw.AutoField)


def _converter(field: pw.Field):
    """How a python value becomes a column value for this field (None: as is)."""
    if isinstance(field, JSONField):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False,
                                                           sort_keys=True, default=str)
    if isinstance(field, PLAIN):
        return None
    return field.db_value


class InsertPlan:
    """`INSERT INTO leads_lead (every column but id) VALUES …` and the per-batch defaults."""

    def __init__(self, model=Lead):
        self.model = model
        self.fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
        self.position = {f.name: i for i, f in enumerate(self.fields)}
        self.converters = [_converter(f) for f in self.fields]
        self.conflict = ' ON CONFLICT ("import_key") DO NOTHING' \
            if "import_key" in model._meta.fields else ""
        self.sql = self._insert_sql(self.fields, ["?"] * len(self.fields))

    def template(self, overrides: dict) -> list:
        """One row of column values: model defaults (callables called once), then
        `overrides` (python values, converted here)."""
        row = []
        for field, convert in zip(self.fields, self.converters):
            if field.name in overrides:
                value = overrides[field.name]
            else:
                value = field.default() if callable(field.default) else field.default
            row.append(convert(value) if convert is not None and value is not None else value)
        return row

    def insert_one(self, values: list) -> int:
        """Insert one finished row; its id (SQLite `lastrowid`, PostgreSQL `RETURNING`)."""
        if not is_postgres():
            return database.execute_sql(self.sql, values).lastrowid
        marks = ", ".join("%s" for _ in values)
        sql = self.sql.replace("VALUES %s", f"VALUES ({marks})") + ' RETURNING "id"'
        return database.execute_sql(sql, values).fetchone()[0]

    def convert(self, name: str, value):
        convert = self.converters[self.position[name]]
        return value if convert is None or value is None else convert(value)

    def insert(self, rows: Iterable[list], names: tuple[str, ...] | None = None,
               constants: dict | None = None) -> None:
        """Insert finished rows in the current transaction. `rows` may be a generator: on
        PostgreSQL each row is built while the server is busy with the ones before it. Rows
        hold the columns `names` (default: every column, in `fields` order); `constants`
        (field name → column value) are the same for every row of the batch: SQLite gets
        them as literals in the statement (a lead row binds 28 values instead of 43: sqlite3
        binds each from Python), COPY as one piece of text appended to each line."""
        names = names or tuple(self.position)
        constants = constants or {}
        if not is_postgres():
            database.cursor().executemany(self._sqlite_sql(names, constants), rows)
            return
        import psycopg2
        from psycopg2.extras import execute_values

        from core.db import atomic

        suffix = "".join("\t" + _copy_text(value) for value in constants.values())
        stream = CopyStream(rows, suffix)
        try:
            with atomic():
                self._copy(stream, (*names, *constants))
        except (pw.IntegrityError, psycopg2.IntegrityError):
            every = stream.rows()
            if every:
                fixed = list(constants.values())
                sql = self._insert_sql(self._fields(*names, *constants), [])
                execute_values(database.cursor(), sql, [row + fixed for row in every],
                               page_size=len(every))

    def _fields(self, *names: str) -> list[pw.Field]:
        return [self.fields[self.position[name]] for name in names]

    @staticmethod
    def _columns(fields: list[pw.Field]) -> str:
        return ", ".join(f'"{f.column_name}"' for f in fields)

    def _insert_sql(self, fields: list[pw.Field], values: list[str]) -> str:
        """`INSERT … (fields) VALUES (values) ON CONFLICT …` on SQLite; on PostgreSQL
        `VALUES %s` for `execute_values` (`values` unused)."""
        head = f'INSERT INTO "{self.model._meta.table_name}" ({self._columns(fields)}) VALUES'
        if is_postgres():
            return f"{head} %s{self.conflict}"
        return f'{head} ({", ".join(values)}){self.conflict}'

    def _sqlite_sql(self, names: tuple[str, ...], constants: dict) -> str:
        """The INSERT of rows holding `names`, `constants` written in as literals (the
        statement is made once a batch; sqlite3 keeps the prepared ones in its cache)."""
        if not constants and names == tuple(self.position):
            return self.sql
        return self._insert_sql(self._fields(*names, *constants),
                                ["?"] * len(names) + [_sql_literal(v) for v in constants.values()])

    def _copy(self, stream: "CopyStream", names: tuple[str, ...]) -> None:
        """`COPY … FROM STDIN` in PostgreSQL's text format, fed by `stream`."""
        database.cursor().copy_expert(
            f'COPY "{self.model._meta.table_name}" ({self._columns(self._fields(*names))}) '
            f'FROM STDIN', stream, size=CopyStream.CHUNK)


class CopyStream:
    """Rows as COPY text, made as psycopg2 reads them (a file-like `read(size)`): psycopg2
    sends each chunk with the GIL released and the server parses and inserts it while the
    next rows are built and escaped here — the importer's per-row Python overlaps the
    server's work instead of preceding it. The rows sent are kept for the fallback insert
    (a key inserted meanwhile by another worker fails the COPY)."""

    CHUNK = 1 << 16  # characters a read: ~150 rows, so the two sides take turns often

    def __init__(self, rows: Iterable[list], suffix: str = ""):
        self._rows = iter(rows)
        self.suffix = suffix  # the batch's constant columns, as COPY text (`\t…`)
        self.sent: list[list] = []

    def read(self, size: int = CHUNK) -> str:
        parts, length, keep = [], 0, self.sent.append
        for row in self._rows:
            keep(row)
            line = "\t".join(map(_copy_text, row)) + self.suffix
            parts.append(line)
            length += len(line) + 1
            if length >= size:
                break
        if not parts:
            return ""
        parts.append("")
        return "\n".join(parts)

    def rows(self) -> list[list]:
        """Every row: those sent, then the rest."""
        self.sent.extend(self._rows)
        return self.sent


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _sql_literal(value) -> str:
    """A constant column value as SQL text: NULL, an integer, or a quoted string. Only
    values the importer makes itself are inlined (ids, flags, timestamps, `'new'`, JSON)."""
    if value is None:
        return "NULL"
    if value.__class__ in (int, bool):
        return str(int(value))
    if value.__class__ is str:
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def _copy_text(value) -> str:
    """One value in COPY's text format. Most values need no escaping: a printable string
    without a backslash is written as is (checked in C), numbers, dates and booleans as
    `str()` — `translate` only for the rest (a third of the PostgreSQL import's time when
    run on every value, py-spy)."""
    if value is None:
        return "\\N"
    if value.__class__ is str:
        return value if value.isprintable() and "\\" not in value else value.translate(_ESCAPES)
    return str(value)


def keys_between(first: str, last: str) -> dict[str, int]:
    """`{import_key: lead id}` for the existing keys in `[first, last]` — one index range
    scan (a file's keys are adjacent: see `batch.import_key`)."""
    p = database.param
    sql = (f'SELECT "import_key", "id" FROM "{Lead._meta.table_name}" '
           f'WHERE "import_key" >= {p} AND "import_key" <= {p}')
    return dict(database.execute_sql(sql, (first, last)).fetchall())


def _probing(sql: str, params: list) -> list[tuple]:
    """Run a blind-index lookup of a batch's values. On PostgreSQL the planner prices a few
    thousand index probes above one sequential scan of a table of a few 100k leads and
    scans it — 118 ms a batch at 300k leads, growing with the table, against ~5 ms probing
    the indexes (EXPLAIN ANALYZE of the import's own query) — so the scan is priced out for
    this statement (`SET LOCAL`, reset right after)."""
    if not is_postgres():
        return _fetch(sql, params)
    database.execute_sql("SET LOCAL enable_seqscan TO off")
    try:
        return _fetch(sql, params)
    finally:
        database.execute_sql("SET LOCAL enable_seqscan TO DEFAULT")


def _fetch(sql: str, params: list) -> list[tuple]:
    return database.execute_sql(sql, params).fetchall()


def leads_holding(division_id: int, wanted: dict[str, set[str]]) -> list[tuple]:
    """`(id, index values…)` of the division's unmerged leads holding any of the `wanted`
    blind indexes (`{column: values}`), oldest first — one query, SQL built directly (peewee
    would build a node per value: thousands per batch). The unary `+` keeps the planner off
    the division and merged_into indexes (they match nearly every row: SQLite would scan the
    whole division per batch) and on the blind indexes (a multi-index OR)."""
    columns = [name for name, values in wanted.items() if values]
    if not columns:
        return []
    p = database.param
    params: list = [division_id]
    terms = []
    for name in columns:
        values = sorted(wanted[name])
        terms.append(f'"{name}" IN ({", ".join(p for _ in values)})')
        params.extend(values)
    fields = Lead._meta.fields
    selected = ", ".join('"%s"' % fields[name].column_name for name in wanted)
    division = fields["division"].column_name
    where = " OR ".join(terms)
    sql = (f'SELECT "id", {selected} FROM "{Lead._meta.table_name}" '
           f'WHERE +"{division}" = {p} AND +"merged_into" IS NULL AND ({where}) ORDER BY "id"')
    return _probing(sql, params)


CONTACT_INDEXES = {"mobile_bidx": ("mobile_bidx", "phone_bidx"), "email_bidx": ("email_bidx",),
                   "wechat_bidx": ("wechat_bidx",)}


def contacts_holding(wanted: dict[str, set[str]]) -> set[str]:
    """The lead blind-index values (`{lead column: values}`) that some contact holds — a
    lead's mobile matches a contact's mobile or phone, its e-mail and WeChat theirs (same
    normalisers and index domains) — one query per batch, in every division: a customer of
    another team is a 撞单 too."""
    from modules.contacts.models import Contact

    p = database.param
    params: list = []
    terms = []
    for lead_column, values in wanted.items():
        if not values:
            continue
        values = sorted(values)
        for column in CONTACT_INDEXES[lead_column]:
            terms.append(f'"{column}" IN ({", ".join(p for _ in values)})')
            params.extend(values)
    if not terms:
        return set()
    columns = ", ".join(f'"{c}"' for c in ("mobile_bidx", "phone_bidx", "email_bidx",
                                            "wechat_bidx"))
    sql = f'SELECT {columns} FROM "{Contact._meta.table_name}" WHERE {" OR ".join(terms)}'
    held = {v for row in _probing(sql, params) for v in row if v}
    return {v for values in wanted.values() for v in values if v in held}
