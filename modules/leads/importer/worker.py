"""The import's second core: a worker process that reads the file and does each batch's
CPU-only work — parse cells, `validation.clean`, blind indexes, AES-GCM encryption of the
channels and each row's finished INSERT values but the importer's (`batch.prepare`,
`importer.heads`), scoring (`scoring.score_ahead`, with the rules the importer loaded
at the start: new leads have no engagements) and, on SQLite, each batch's duplicate lookups
(`importer.probes`: a read snapshot the importer brings up to date) — while the importing
process does what needs the write lock and the order: import-key check, dedupe, assignment,
INSERT, counters, commit.

Batches travel through a bounded queue in file order and are committed in that order by the
importing process alone, so idempotence and resume work exactly as inline (`importer.run`):
the worker writes nothing. A killed importer leaves nothing behind but uncommitted work —
the worker notices its parent is gone and exits; a dead worker stops the import with an
error (the run resumes from its last committed batch).

The worker is a `spawn`ed process (never a fork: the importer holds a database connection
and, inside the server's job worker, threads). It builds the install's registry from the
settings, loads the keyring from the data dir's master key and the data-key table and the
regions (`Refs`) with its own short read, then reads only for the lookups. Its start-up
(~1 s: imports, key unwrapping) only pays for itself on big files: runs with fewer rows
left than `leads.import_worker_rows` (default `WORKER_ROWS`) stay inline.
"""
from __future__ import annotations

import contextlib
import gc
import multiprocessing
import pickle
import queue
import traceback
from pathlib import Path
from typing import Iterator

WORKER_ROWS = 10_000  # default of the `leads.import_worker_rows` setting (0: never)
DEPTH = 3  # batches prepared ahead of the importer (memory: ~3 × batch rows)
HEAD_BATCHES = 2  # the importer's own first batches, made while the worker starts (~0.4 s:
# a spawned interpreter, imports, key unwrapping) instead of waiting for it idle
POLL = 0.5  # seconds between liveness checks of the other side


class WorkerFailed(RuntimeError):
    """The worker process died or could not start; the run stops (and can be resumed)."""


def threshold(settings) -> int:
    """Rows left to import from which a run uses the worker process (0: never)."""
    return int(settings["leads"].get("import_worker_rows", WORKER_ROWS))


def wanted(settings, rows_left: int) -> bool:
    limit = threshold(settings)
    return limit > 0 and rows_left >= limit


# ------------------------------------------------------------------ the worker process
def _setup(settings):
    """Registry, keyring and regions of the install, loaded with one short connection."""
    from core.db import connection
    from core.registry import Registry
    from modules.leads.validation import Refs
    from security.crypto.binding import keyring_for

    registry = Registry.build(settings)
    with connection():
        keyring_for(registry).load(create=False)
        refs = Refs.load()
    return registry, refs


def _put(out, item) -> bool:
    """Hand an item to the importer; False when the importer is gone."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            out.put(item, timeout=POLL)
            return True
        except queue.Full:
            if parent is not None and not parent.is_alive():
                return False


def _failure(exc: BaseException) -> tuple:
    """An exception as it crosses the queue: itself when it pickles (an `APIError` — a bad
    file — rebuilt from its parts), else its text."""
    from core.web.base import APIError

    if isinstance(exc, APIError):
        return ("api", (exc.status_code, exc.message, exc.code, exc.fields), None)
    try:
        pickle.loads(pickle.dumps(exc))
        return ("error", exc, None)
    except Exception:
        return ("error", None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")


def scoring_rules(division_id: int) -> dict | None:
    """The scoring rules the worker scores new leads with — loaded by the importer (the
    worker reads no business data) — or None when no scoring step is installed."""
    from modules.leads import pipeline

    if pipeline._step("modules.leads.scoring", "score_new") is None:
        return None
    from modules.leads.scoring import rules_by_division
    return rules_by_division([division_id])


def _score(prepared, spec, memo) -> None:
    """Score the batch's rows ahead (`scoring.score_ahead`), as `score_new` would (`memo`:
    the run's `scoring.Memo`, its entries reused by every batch)."""
    from core.db import utcnow
    from modules.leads.importer.batch import new_lead
    from modules.leads.scoring import score_ahead

    now = utcnow()
    ahead = [p for p in prepared.pending if p.head is not None]  # the rest: the importer's
    leads = [new_lead(p, spec, None, now) for p in ahead]
    for p, scored in zip(ahead, score_ahead(leads, memo, now)):
        p.scored = scored


def work(settings, spec, path: str, skip: int, size: int, rules, out,
         probing: bool = False, encoding: str | None = None, bulk: bool = False) -> None:
    """The worker's main: prepared batches of the file after `skip` rows, then `("end",)`;
    with `probing`, each with its duplicate lookups made (`probes.probe`; in a `bulk` load
    customers' contacts only) on a read connection the worker keeps for the run."""
    try:
        from core.db import connection

        gc.disable()  # this process makes only acyclic, short-lived objects (see run.gc_paused)
        try:
            _registry, refs = _setup(settings)
        except Exception as exc:  # the importer carries on without the worker
            _put(out, ("error", WorkerFailed(f"could not start: {type(exc).__name__}: {exc}"),
                       None))
            return
        with connection() if probing else contextlib.nullcontext():
            _prepare_all(spec, refs, path, skip, size, rules, out, probing, encoding, bulk)
    except BaseException as exc:  # noqa: BLE001 — every failure is reported to the importer
        _put(out, _failure(exc))


def _prepare_all(spec, refs, path: str, skip: int, size: int, rules, out,
                 probing: bool, encoding: str | None, bulk: bool = False) -> None:
    """Read the file after `skip` rows and hand over each prepared batch, then `("end",)`."""
    from modules.leads.importer import probes
    from modules.leads.importer.batch import pack, prepare
    from modules.leads.importer.crypt import BatchCrypter, channels
    from modules.leads.importer.heads import Heads
    from modules.leads.importer.reader import open_table
    from modules.leads.importer.sql import InsertPlan
    from modules.leads.scoring import Memo

    specs = channels()
    crypter = BatchCrypter(specs)
    heads = Heads(InsertPlan(), specs)
    memo = Memo(rules) if rules is not None else None

    def ready(batch):
        prepared = prepare(spec, refs, batch, crypter, specs, heads)
        if memo is not None:
            _score(prepared, spec, memo)
        if probing:
            prepared.probed = probes.probe(spec.run_id, spec.division_id,
                                           probes.wanted(prepared.pending, specs),
                                           leads=not bulk)
        for p in prepared.pending:  # the importer needs them for reported rows only
            p.cells = pack(p.cells)
        return ("batch", prepared)

    batch = []
    for row in open_table(Path(path), encoding).rows(skip=skip):
        batch.append(row)
        if len(batch) >= size:
            if not _put(out, ready(batch)):
                return
            batch = []
    if batch and not _put(out, ready(batch)):
        return
    _put(out, ("end",))


# ------------------------------------------------------------------ the importer's side
class Feed:
    """Prepared batches from a worker process, in file order (a context manager: the
    worker is stopped on exit, whatever happened)."""

    def __init__(self, settings, spec, path: str, skip: int, size: int,
                 probing: bool = False, encoding: str | None = None, bulk: bool = False):
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue(maxsize=DEPTH)
        rules = scoring_rules(spec.division_id)
        self.process = context.Process(target=work, name="huike-import-prepare", daemon=True,
                                       args=(settings, spec, path, skip, size, rules,
                                             self.queue, probing, encoding, bulk))

    def __enter__(self) -> "Feed":
        self.process.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self.queue.close()
        self.queue.cancel_join_thread()

    def __iter__(self) -> Iterator:
        while True:
            item = self._next()
            if item is None:
                continue
            if item[0] == "batch":
                yield item[1]
            elif item[0] == "end":
                return
            elif item[0] == "api":
                from core.web.base import APIError

                status, message, code, fields = item[1]
                raise APIError(status, message, code=code, fields=fields)
            else:
                _kind, exc, text = item
                if exc is not None:
                    raise exc
                raise WorkerFailed(f"the import worker process failed: {text}")

    def _next(self):
        """The next item, None when there is none yet; raises when the worker is dead."""
        try:
            return self.queue.get(timeout=POLL)
        except queue.Empty:
            pass
        if self.process.is_alive():
            return None
        try:  # what it sent just before it ended may still be in the pipe
            return self.queue.get(timeout=POLL)
        except queue.Empty:
            raise WorkerFailed(f"the import worker process ended unexpectedly (exit code "
                               f"{self.process.exitcode})") from None
