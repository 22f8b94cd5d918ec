"""The policy version and the watcher: how every process learns that policies changed.

One row in `security_policy_version` carries an integer bumped in the same transaction as
any policy or assignment change. Each process keeps, per database, a `PolicyState` with the
version it last saw; `current_version()` re-reads it (one cheap `SELECT`) at most once per
`CHECK_INTERVAL` seconds, or at once when the state was marked stale. A process's own
changes mark it stale after commit; on PostgreSQL the bump also sends
`NOTIFY huike_policy` (delivered at commit) and a listener thread in every process that uses
the door marks its state stale on arrival. The 1 s re-read alone already bounds the delay
to about a second on every backend; NOTIFY makes it immediate.
"""
from __future__ import annotations

import logging
import select
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from core.db import atomic, database, is_postgres, on_commit, utcnow
from security.policy.models import PolicyVersion

log = logging.getLogger("huike.security.policy")

CHANNEL = "huike_policy"


def channel_for(token: str) -> str:
    """The NOTIFY channel of one install (its policy token), so installs sharing a PostgreSQL
    database in different schemas do not wake each other."""
    return f"{CHANNEL}_{''.join(c for c in token if c.isalnum())[:24]}"
CHECK_INTERVAL = 1.0  # seconds between version re-reads per process (the 2 s guarantee)
LISTEN_POLL = 1.0  # seconds the listener waits before checking whether to stop


@dataclass
class PolicyState:
    """What one process knows about one database's policies."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    token: str = ""
    version: int = -1
    checked_at: float = float("-inf")
    stale: bool = True
    enforcer: Any = None
    enforcer_key: tuple | None = None
    tables: dict = field(default_factory=dict)
    subjects: dict = field(default_factory=dict)  # (version, user...) → (held roles, division)
    listener: "Listener | None" = None

    @property
    def key(self) -> tuple[str, int]:
        return self.token, self.version


_states: "weakref.WeakKeyDictionary[Any, PolicyState]" = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()
clock = time.monotonic  # replaceable in tests of the throttle


def state_for(db=None) -> PolicyState:
    """The state of the database the proxy points at (created on first use)."""
    target = db if db is not None else database.obj
    with _states_lock:
        state = _states.get(target)
        if state is None:
            state = _states[target] = PolicyState()
        return state


def mark_stale(db=None) -> None:
    """Make the next `current_version()` re-read the version (after our own commits)."""
    state_for(db).stale = True


def read_version() -> tuple[str, int]:
    row = PolicyVersion.get_or_none(PolicyVersion.id == 1)
    return (row.token, row.version) if row is not None else ("", 0)


def current_version(state: PolicyState | None = None) -> tuple[str, int]:
    """The policy version, re-read at most once per `CHECK_INTERVAL` unless marked stale.
    A changed version drops the compiled tables of older versions."""
    state = state or state_for()
    now = clock()
    if state.stale or now - state.checked_at >= CHECK_INTERVAL:
        with state.lock:
            state.stale = False
            state.checked_at = now
            key = read_version()
            if key != state.key:
                state.token, state.version = key
                state.tables = {k: v for k, v in state.tables.items() if k[:2] == key}
                state.subjects = {}
        if is_postgres():
            ensure_listener(state)
    return state.key


def bump_version() -> int:
    """Raise the version in the caller's transaction; tell other processes at commit."""
    db = database.obj
    with atomic():
        updated = (PolicyVersion.update(version=PolicyVersion.version + 1, updated_at=utcnow())
                   .where(PolicyVersion.id == 1).execute())
        if not updated:
            PolicyVersion.create(id=1, version=1, token=uuid.uuid4().hex)
        row = PolicyVersion.get_by_id(1)
        version = row.version
        if is_postgres():  # transactional: sent only on commit
            database.execute_sql(f"NOTIFY {channel_for(row.token)}")
        on_commit(lambda: mark_stale(db))
    return version


def ensure_version_row() -> None:
    """Create the version row if the install has none yet (idempotent)."""
    if PolicyVersion.get_or_none(PolicyVersion.id == 1) is None:
        PolicyVersion.create(id=1, version=1, token=uuid.uuid4().hex)


class Listener:
    """`LISTEN huike_policy` on a dedicated connection; marks the state stale on NOTIFY.

    It stops by itself once the process no longer points the proxy at its database."""

    def __init__(self, db, state: PolicyState):
        import psycopg2

        self._db = weakref.ref(db)
        self._state = weakref.ref(state)
        self.conn = psycopg2.connect(dbname=db.database, **db.connect_params)
        self.conn.autocommit = True
        self.channel = channel_for(state.token)
        with self.conn.cursor() as cur:
            cur.execute(f"LISTEN {self.channel}")
        self.received = 0
        self.thread = threading.Thread(target=self._run, name="huike-policy-listener",
                                       daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def _wanted(self) -> bool:
        db = self._db()
        return db is not None and database.obj is db and self._state() is not None

    def _run(self) -> None:
        try:
            while self._wanted():
                if select.select([self.conn], [], [], LISTEN_POLL) == ([], [], []):
                    continue
                self.conn.poll()
                if self.conn.notifies:
                    self.conn.notifies.clear()
                    self.received += 1
                    state = self._state()
                    if state is not None:
                        state.stale = True
        except Exception:  # the 1 s version check still bounds the delay
            log.warning("policy listener stopped", exc_info=True)
        finally:
            self.conn.close()


def ensure_listener(state: PolicyState) -> None:
    """Start (or restart) this process's listener for the current PostgreSQL database."""
    if state.listener is not None and state.listener.alive() and \
            state.listener.channel == channel_for(state.token):
        return
    with state.lock:
        if state.listener is None or not state.listener.alive() or \
                state.listener.channel != channel_for(state.token):
            try:
                state.listener = Listener(database.obj, state)
            except Exception:
                log.warning("cannot LISTEN for policy changes; relying on the version check",
                            exc_info=True)
