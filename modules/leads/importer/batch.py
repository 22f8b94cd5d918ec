"""One batch of import rows: clean, drop rows already imported, dedupe, encrypt, insert, merge.

The caller (`importer.run`) wraps `BatchProcessor.handle` in one transaction together with
the run's counters, so a batch is all or nothing. Per batch the database sees a fixed number
of statements whatever its size: one `IN` query for import keys already present, two `IN`
queries for duplicates (blind indexes of the division's leads; of every contact), one
multi-row INSERT, one
query for the new ids, and one for the leads to merge into (if any). On SQLite the two
duplicate queries are made ahead by the import's worker process when it runs
(`importer.probes`: its snapshot is completed with what this run wrote since, or refused
when another connection committed in between).

A row whose mobile, e-mail or WeChat matches (blind index) a contact — of any division: an
existing customer, 撞单 — is not imported under `skip` and `merge` (reported as `skipped`,
naming nobody); `create` imports it anyway.

Duplicate policy, for a row whose mobile, e-mail or WeChat matches (blind index) a lead of
the division or an earlier row of the file:
- `skip`: the row is not imported (reported as `skipped` with what it duplicates);
- `merge`: its values fill the empty fields of the lead / earlier row (nothing is
  overwritten); counted as merged;
- `create`: imported anyway.
Rows failing validation are reported with every problem and never stop the others.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from operator import itemgetter

import peewee as pw

from modules.leads import pipeline, scoring
from modules.leads.breakdown import store_of
from modules.leads.importer.crypt import BatchCrypter, channels
from modules.leads.importer import probes
from modules.leads.importer.heads import Heads
from modules.leads.importer.sql import InsertPlan, contacts_holding, keys_between
from modules.leads.models import Lead
from modules.leads.validation import Refs, clean

FILLABLE = ("company", "title", "mobile", "email", "wechat", "campaign", "region", "industry",
            "budget", "need")
EXTRA_CELLS = ("该行的列数多于表头 / the row has more cells than the header")
PIPELINE_COLUMNS = ("score", "hot", "owner", "assigned_at", "escalation_level", "pool_entered_at",
                    "protected_until", "first_response_due_at", "first_response_met")
CUSTOMER = "与已有客户联系人重复 / matches the contact of an existing customer"


@dataclass
class RunSpec:
    """What a batch needs to know about its run."""

    run_id: int
    division_id: int
    owner_id: int | None
    created_by: int | None
    policy: str
    dry_run: bool
    file_sha: str
    headers: list[str]
    mapping: list[tuple[int, str]]  # (column position, lead field)


@dataclass(slots=True)  # ~10k a batch: built, read and freed faster without a __dict__
class Pending:
    number: int
    cells: list[str]  # or `pack`ed into one string (from the worker)
    values: dict | None  # None: sent without them (`Prepared.__reduce__`): see `values_of`
    key: str
    indexes: dict = field(default_factory=dict)
    sealed: dict | None = None  # channel → ciphertext, when encrypted ahead (`seal`)
    head: tuple | None = None  # the row's INSERT values up to its breakdown (`heads`)
    scored: tuple | None = None  # `scoring.score_ahead`'s form, when scored ahead (worker)


@dataclass
class Prepared:
    """A batch after its CPU-only steps (`prepare`): what `BatchProcessor.handle` takes. The
    import worker process (`importer.worker`) builds these ahead of the database work."""

    rows: int  # data rows in the batch (valid or not)
    first: int  # first and last row numbers (the audit record names them)
    last: int
    problems: list  # rows failing validation: (number, "error", message, cells)
    pending: list[Pending]
    probed: tuple | None = None  # the worker's duplicate lookups (`probes.probe`), if made

    def __reduce__(self):
        """Pickled with each row as a plain tuple (the trip from the worker process): half
        the bytes and a third of the time of pickling every `Pending` as an object with its
        `__dict__` (2.7 instead of 5.9 µs a row to pickle, 2.3 instead of 3.2 to unpickle).
        A row with its `head` (`heads`) travels without its cleaned values: the head holds
        every one an INSERT and a new lead need, and the values dict — its Decimal budget
        pickled through `__reduce__` — was half the cost of the trip (pickle 7.0 → 3.4,
        unpickle 3.6 → 2.2 µs a row). The rare row that needs them again (merged into)
        gets them from its cells (`BatchProcessor.values_of`)."""
        return (_prepared, (self.rows, self.first, self.last, self.problems,
                            [(p.number, p.cells, None if p.head is not None else p.values,
                              p.key, p.indexes, p.head, p.scored)
                             for p in self.pending], self.probed))


def _prepared(rows: int, first: int, last: int, problems: list, pending: list,
              probed: tuple | None = None) -> Prepared:
    return Prepared(rows, first, last, problems,
                    [Pending(number, cells, values, key, indexes, None, head, scored)
                     for number, cells, values, key, indexes, head, scored in pending],
                    probed)


@dataclass
class Outcome:
    rows: int = 0
    created_ids: list[int] = field(default_factory=list)
    created: int = 0
    merged: int = 0
    skipped: int = 0
    failed: int = 0
    merged_into: list[int] = field(default_factory=list)
    created_leads: list[Lead] = field(default_factory=list)  # for `pipeline.after_insert`
    filled: list[tuple[str, int]] = field(default_factory=list)  # (index, lead id) merged in
    problems: list[tuple[int, str, str, list[str]]] = field(default_factory=list)


SEP = "\x1f"  # ASCII unit separator: joins a row's cells for the trip from the worker


def pack(cells: list[str]) -> "list[str] | str":
    """A row's cells as one string (one object to unpickle instead of one a cell) — as
    they are when a cell holds the separator itself."""
    joined = SEP.join(cells)
    return joined if cells and joined.count(SEP) == len(cells) - 1 else cells


def unpack(cells: "list[str] | str") -> list[str]:
    return cells.split(SEP) if cells.__class__ is str else cells


def stamp(moment: dt.datetime) -> str:
    """A datetime as both drivers write it (sqlite3's adapter, psycopg2 / COPY text):
    `isoformat(" ")` — the same stored value as the datetime itself."""
    return moment.isoformat(" ")


def import_key(file_sha: str, number: int) -> str:
    """The row's idempotence key: the file's sha256 (first 48 hex digits: 192 bits) and the
    row number — the same row of the same file always has the same key. Unlike a hash of
    both, the keys of one file are adjacent and ascending: inserting them appends to the
    unique index instead of touching a random page per row (4× faster on SQLite), and a
    batch's keys are one range scan away."""
    return f"{file_sha[:48]}:{number:010d}"


def _messages(errors: dict) -> str:
    return "; ".join(f"{name}: {message}" for name, message in errors.items())[:500]


def clean_rows(spec: RunSpec, refs: Refs, rows, problems: list) -> list[Pending]:
    """Validate and normalise a batch's rows (no database): the good ones as `Pending`,
    every bad one appended to `problems` with its messages."""
    width, mapping, sha = len(spec.headers), spec.mapping, spec.file_sha
    pending = []
    for number, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append((number, "error", EXTRA_CELLS, cells))
            continue
        values, errors = clean(_raw(cells, mapping), refs, lenient_source=True)
        if errors:
            problems.append((number, "error", _messages(errors), cells))
            continue
        pending.append(Pending(number, cells, values, import_key(sha, number)))
    return pending


def _raw(cells: list[str], mapping: list[tuple[int, str]]) -> dict:
    """A row's cells by lead field (a missing trailing cell is empty)."""
    return {name: (cells[at] if at < len(cells) else "") for at, name in mapping}


def seal(pending: list[Pending], specs: list, crypter: BatchCrypter) -> None:
    """Blind indexes and ciphertexts of the rows' channels, computed ahead (worker process),
    one channel at a time (its key, domain and nonces fetched once: `BatchCrypter.indexer`,
    `sealer`). A value the crypter refuses is left for `BatchProcessor` to encrypt again, so
    the error surfaces exactly where the inline path raises it."""
    for p in pending:
        p.sealed = {}
    for spec in specs:
        name, index = spec.name, crypter.indexer(spec)
        values = [p.values.get(name) for p in pending]
        encrypt = crypter.sealer(spec, sum(1 for v in values if v is not None))
        for p, value in zip(pending, values):
            p.indexes[name] = index(value)
            if p.sealed is not None:
                try:
                    p.sealed[name] = encrypt(value)
                except ValueError:
                    p.sealed = None


def prepare(spec: RunSpec, refs: Refs, rows: list, crypter: BatchCrypter | None = None,
            specs: list | None = None, heads: Heads | None = None) -> Prepared:
    """The CPU-only part of a batch: clean every row; with a `crypter`, index and encrypt
    the channels too (`seal`), and with `heads` build each row's INSERT head from them."""
    problems: list = []
    pending = clean_rows(spec, refs, rows, problems)
    if crypter is not None:
        seal(pending, specs, crypter)
        if heads is not None:
            for p in pending:
                if p.sealed is not None:
                    p.head = heads.make(p, None)
    return Prepared(len(rows), rows[0][0] if rows else 0, rows[-1][0] if rows else 0,
                    problems, pending)


def new_lead(p: Pending, spec: RunSpec, pk: int | None, now) -> Lead:
    """The new lead as it will be inserted, with every column the pipeline's steps read
    (scoring's and assignment's `COLUMNS`), its values read off the row's head (`heads`:
    they lead it, in `heads.STORED` order). Built like a row peewee loads (`__data__` filled
    directly): `Lead(**values)` costs ~20 setattr calls a row."""
    indexes = p.indexes
    name, company, _key, title, campaign, region, industry, budget, need, source = p.head[:10]
    lead = Lead.__new__(Lead)
    lead.__data__ = {
        "id": pk, "division": spec.division_id, "owner": spec.owner_id, "status": "new",
        "source": source, "budget": budget, "hot": False, "created_at": now,
        "last_activity_at": None, "name": name, "company": company, "title": title,
        "region": region, "industry": industry, "need": need, "campaign": campaign,
        "mobile_bidx": indexes.get("mobile"), "email_bidx": indexes.get("email"),
        "wechat_bidx": indexes.get("wechat"), "score": 0, "score_breakdown": [],
        "first_response_at": None, "first_response_due_at": None, "pool_entered_at": None,
        "merged_into": None, "assigned_at": None, "escalation_level": 0,
        "protected_until": None, "first_response_met": None}  # every PIPELINE_COLUMNS
    lead._dirty = set()
    lead.__rel__ = {}
    return lead


def _fill(into: dict, other: dict) -> list[str]:
    """Copy `other`'s values into `into`'s empty fields; return the filled field names."""
    filled = []
    for name in FILLABLE:
        if into.get(name) in (None, "") and other.get(name) not in (None, ""):
            into[name] = other[name]
            filled.append(name)
    if "company" in filled:
        into["company_key"] = other.get("company_key")
    return filled


class BatchProcessor:
    """Handles the batches of one run (insert plan and channel specs built once)."""

    def __init__(self, ctx, spec: RunSpec, refs: Refs | None = None, cursor: int = 0):
        self.ctx = ctx
        self.spec = spec
        self.cursor = cursor  # the run's rows done before the next batch (`ImportRun.processed`)
        self.ledger: probes.Ledger | None = None  # set when a worker process looks up ahead
        self.refs = refs or Refs.load()
        self.plan = InsertPlan()
        self.specs = channels()
        self.seen: dict[str, int] = {}  # dry runs only: index → -row number of earlier rows
        self.breakdowns: dict = {}  # breakdown template → parsed (`scoring.restore`)
        self.store = store_of(ctx)  # breakdown templates saved by this run
        self.heads = Heads(self.plan, self.specs)
        self.varying = (*self.heads.names, "score_breakdown", *PIPELINE_COLUMNS)
        self.pipelined = itemgetter(*PIPELINE_COLUMNS)
        self.dated = [at for at, name in enumerate(self.varying) if name in PIPELINE_COLUMNS
                      and isinstance(Lead._meta.fields[name], pw.DateTimeField)]

    # ------------------------------------------------------------------ steps
    def values_of(self, p: Pending) -> dict:
        """The row's cleaned values — for a row the worker process sent without them (its
        head stands in for them), cleaned again from its cells: the same values, since
        cleaning depends on the cells and the regions alone."""
        if p.values is None:
            p.values, _errors = clean(_raw(unpack(p.cells), self.spec.mapping), self.refs,
                                      lenient_source=True)
        return p.values

    def _lookups(self, pending: list[Pending], probed: tuple | None) -> tuple:
        """`(index → id of the division's oldest lead holding it, indexes a contact holds)`
        for the batch: the worker's probes brought up to date (`probes.Ledger`), else two
        queries."""
        wanted = probes.wanted(pending, self.specs)
        found = self.ledger.found(probed, wanted) if self.ledger is not None else None
        if found is not None:
            return found
        return probes.existing_leads(self.spec.division_id, wanted), contacts_holding(wanted)

    def _dedupe(self, pending: list[Pending], crypter, out: Outcome, probed: tuple | None):
        """Split rows into inserts and merges into existing leads (`{lead id: [rows]}`)."""
        if self.spec.policy == "create":
            return pending, {}
        existing, customers = self._lookups(pending, probed)
        seen = self.seen  # dry runs: earlier batches' rows (negative row numbers)
        first: dict[str, Pending] = {}
        inserts, merges = [], {}
        for p in pending:
            indexes = [v for v in p.indexes.values() if v]
            if customers and any(i in customers for i in indexes):
                out.problems.append((p.number, "skipped", CUSTOMER, p.cells))
                out.skipped += 1  # a customer's contact: not a lead (named by nobody here)
                continue
            lead = next((existing.get(i) or seen.get(i) for i in indexes
                         if i in existing or i in seen), None)
            earlier = next((first[i] for i in indexes if i in first), None) \
                if lead is None else None
            if lead is None and earlier is None:
                for index in indexes:
                    first.setdefault(index, p)
                inserts.append(p)
            elif self.spec.policy == "skip":
                what = (f"与第 {earlier.number} 行重复 / duplicate of row {earlier.number}"
                        if earlier is not None else
                        f"与第 {-lead} 行重复 / duplicate of row {-lead}" if lead < 0 else
                        "与已有线索重复 / duplicate of an existing lead")
                out.problems.append((p.number, "skipped", what, p.cells))
                out.skipped += 1
            elif earlier is not None:
                if _fill(self.values_of(earlier), self.values_of(p)):
                    earlier.sealed = earlier.head = earlier.scored = None  # redone: new values
                    self._index(earlier, crypter)
                    for index in (v for v in earlier.indexes.values() if v):
                        first.setdefault(index, earlier)
                out.merged += 1
            else:
                merges.setdefault(lead, []).append(p)
        return inserts, merges

    def _index(self, p: Pending, crypter: BatchCrypter) -> None:
        for spec in self.specs:
            p.indexes[spec.name] = crypter.index(spec, self.values_of(p).get(spec.name))

    def _constants(self, template: list) -> dict:
        """The columns no row sets, from the batch's `template` row (written once into the
        statement: `InsertPlan.insert`)."""
        return {name: value for name, value in zip(self.plan.position, template)
                if name not in self.varying}

    def _row(self, p: Pending, lead: Lead, stamps: dict) -> list:
        """The row of a new lead, in `self.varying` order: its head (`heads`), its score
        breakdown and what `pipeline.before_insert` set
        on its lead (`PIPELINE_COLUMNS`: score, owner, clocks — `new_lead` holds every one).
        Datetimes go in as the text the driver would make of them (`stamps`: one batch's few
        distinct values, formatted once)."""
        data = lead.__data__
        text = getattr(lead, "breakdown_json", None)
        row = [*p.head, text if text is not None else
               self.plan.convert("score_breakdown", data.get("score_breakdown") or []),
               *self.pipelined(data)]
        for at in self.dated:
            value = row[at]
            if value.__class__ is dt.datetime:
                text = stamps.get(value)
                if text is None:
                    text = stamps[value] = stamp(value)
                row[at] = text
        return row

    def _lead(self, p: Pending, pk: int | None, now) -> Lead:
        """The new lead as it will be inserted (`new_lead`); a row scored ahead by the worker
        process gets its score and breakdown here (`scoring.score_new` leaves it be; each
        breakdown template is parsed and saved once a run)."""
        lead = new_lead(p, self.spec, pk, now)
        if p.scored is not None:
            data = lead.__data__
            data["score"], data["score_breakdown"], lead.breakdown_json = \
                scoring.restore(p.scored, self.breakdowns, self.store)
        return lead

    def _merge_existing(self, merges: dict[int, list[Pending]], out: Outcome,
                        crypter: BatchCrypter) -> None:
        """Fill empty fields of existing leads from the duplicate rows (full rows, decrypted);
        the blind indexes of the channels filled go to `out.filled`."""
        if not merges:
            return
        for lead in Lead.select().where(Lead.id.in_(sorted(k for k in merges if k > 0))):
            current = {name: getattr(lead, name) for name in FILLABLE}
            current["region"] = lead.region_id
            changes: dict = {}
            for p in merges[lead.id]:
                for name in _fill(current, self.values_of(p)):
                    changes[name] = current[name]
            if "company" in changes:
                changes["company_key"] = current["company_key"]
            if changes and not self.spec.dry_run:
                changes["updated_at"] = self.ctx.now()
                Lead.update(changes).where(Lead.id == lead.id).execute()
                out.filled += [(crypter.index(spec, changes[spec.name]), lead.id)
                               for spec in self.specs if spec.name in changes]
            out.merged_into.append(lead.id)
        out.merged += sum(len(rows) for rows in merges.values())

    # ------------------------------------------------------------------ the batch
    def handle(self, batch: "Prepared | list[tuple[int, list[str]]]") -> Outcome:
        """Process one batch — raw `(row number, cells)` rows, or rows already `prepare`d
        (by the worker process); in a dry run nothing is written (counts only)."""
        if not isinstance(batch, Prepared):
            batch = prepare(self.spec, self.refs, batch)
        out = Outcome(rows=batch.rows, problems=list(batch.problems))
        if self.ledger is not None:
            self.ledger.observe(self.cursor)  # has anyone else committed since the last one?
        self.cursor += batch.rows
        crypter = BatchCrypter(self.specs)
        pending = batch.pending
        out.failed = len(out.problems)
        done = set(keys_between(pending[0].key, pending[-1].key)) if pending else set()
        out.skipped += sum(1 for p in pending if p.key in done)  # imported by an earlier run
        pending = [p for p in pending if p.key not in done]
        for p in pending:
            if not p.indexes:
                self._index(p, crypter)
        inserts, merges = self._dedupe(pending, crypter, out, batch.probed)
        if self.spec.dry_run:
            out.merged += sum(len(r) for r in merges.values())
            out.created = len(inserts)
            for p in inserts:
                for index in (v for v in p.indexes.values() if v):
                    self.seen.setdefault(index, -p.number)
            return out
        now = self.ctx.now()
        at = stamp(now)
        template = self.plan.template({
            "division": self.spec.division_id, "owner": self.spec.owner_id,
            "created_by": self.spec.created_by, "status": "new", "source": "other",
            "status_changed_at": at, "created_at": at, "updated_at": at})
        for p in inserts:  # built by the worker process, unless inline or merged into
            if p.head is None:
                p.head = self.heads.make(p, crypter)
        leads = [self._lead(p, None, now) for p in inserts]
        pipeline.before_insert(self.ctx, leads)  # score, owner, clocks: written by the INSERT
        self.store.flush()  # the breakdown texts the new rows point at
        stamps, constants = {now: at}, self._constants(template)
        if inserts:
            self.plan.insert((self._row(p, lead, stamps)
                              for p, lead in zip(inserts, leads)),  # built as they are sent
                             self.varying, constants)
            ids = keys_between(inserts[0].key, inserts[-1].key)
            for p, lead in zip(inserts, leads):
                lead.__data__["id"] = ids.get(p.key)
            out.created_leads = [lead for lead in leads if lead.__data__["id"] is not None]
            out.created_ids = sorted(lead.__data__["id"] for lead in out.created_leads)
        out.created = len(out.created_ids)
        self._merge_existing(merges, out, crypter)
        if self.ledger is not None:
            self.ledger.remember(self.cursor, self._held(out))
        return out

    def _held(self, out: Outcome) -> list[tuple[str, int]]:
        """`(blind index, lead id)` of every channel the batch wrote: its new leads', and
        those it filled in by merging (what a later batch's lookup would find)."""
        names = [spec.index_name for spec in self.specs]
        held = [(data[name], data["id"]) for data in (lead.__data__ for lead in out.created_leads)
                for name in names if data[name]]
        return held + out.filled


def problem_rows(run_id: int, headers: list[str], out: Outcome) -> list[dict]:
    """`ImportRowError` rows for the batch's problems (original cells kept, encrypted)."""
    width = len(headers)
    rows = []
    for number, kind, message, cells in out.problems:
        cells = unpack(cells)
        raw = {headers[i] if i < width else f"#{i + 1}": cell for i, cell in enumerate(cells)}
        rows.append({"run": run_id, "row": number, "kind": kind, "message": message,
                     "raw": json.dumps(raw, ensure_ascii=False)})
    return rows
