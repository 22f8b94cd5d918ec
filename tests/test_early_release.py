"""`atomic(release_early=True)`: on PostgreSQL the transaction commits without waiting for its
flush (locks go at once) and the block returns only after a marker's synchronous commit has
flushed the WAL past it; on SQLite, and nested, it is a plain transaction."""
from __future__ import annotations

import os

import pytest

from core import early_release
from core.db import atomic, database, is_postgres, on_commit
from modules.base.models import Tag
from tests.support import TEST_PG_URL

pg_only = pytest.mark.skipif(not TEST_PG_URL, reason="PostgreSQL only (HUIKE_TEST_DATABASE_URL)")


def _setting() -> str:
    return database.execute_sql("SHOW synchronous_commit").fetchone()[0]


def _lsn(function: str) -> int:
    """A WAL position as a number (`pg_wal_lsn_diff` against the start)."""
    return int(database.execute_sql(f"SELECT pg_wal_lsn_diff({function}(), '0/0')")
               .fetchone()[0])


@pytest.fixture
def events(monkeypatch):
    """The order of durability waits and after-commit callbacks, with the WAL insert
    position just before each wait."""
    seen: list = []
    real = early_release.wait_durable

    def recording(db):
        seen.append(("wait", _lsn("pg_current_wal_insert_lsn")))
        real(db)
        seen.append(("durable", _lsn("pg_current_wal_flush_lsn")))

    monkeypatch.setattr(early_release, "wait_durable", recording)
    return seen


@pg_only
def test_commit_is_asynchronous_inside_and_durable_when_the_block_returns(install, events):
    assert early_release.supported(database)
    with atomic(release_early=True):
        assert _setting() == "off"
        Tag.create(name="early")
        on_commit(lambda: events.append(("callback", None)))
    assert _setting() == "on"  # SET LOCAL: a pooled connection is not left asynchronous
    assert [kind for kind, _ in events] == ["wait", "durable", "callback"]
    committed_up_to, flushed_up_to = events[0][1], events[1][1]
    assert flushed_up_to >= committed_up_to  # the commit's record is on disk
    assert Tag.get(Tag.name == "early")


@pg_only
def test_nested_block_and_rollback_keep_plain_transactions(install, events):
    with atomic():
        with atomic(release_early=True):  # a savepoint: the outer block decides
            assert _setting() == "on"
            Tag.create(name="inner")
    with pytest.raises(RuntimeError):
        with atomic(release_early=True):
            Tag.create(name="rolled back")
            raise RuntimeError("halfway")
    assert events == []  # nothing committed early, nothing to wait for
    assert not Tag.select().where(Tag.name == "rolled back").exists()
    assert Tag.get(Tag.name == "inner")


@pg_only
def test_user_without_the_marker_function_keeps_durable_commits(install, events):
    database.obj._huike_early_release = False  # as `supported` caches a refused EXECUTE
    try:
        with atomic(release_early=True):
            assert _setting() == "on"
            Tag.create(name="durable")
    finally:
        del database.obj._huike_early_release
    assert events == []


class _Undo(Exception):
    """Raised to roll back a test's catalog changes."""


@pg_only
def test_the_privilege_check_asks_the_database(install):
    role = f"huike_no_marker_{os.getpid()}"
    database.execute_sql(f'CREATE ROLE "{role}" NOLOGIN')
    answers = []
    try:
        with atomic():  # rolled back: the REVOKE never reaches other sessions
            database.execute_sql("REVOKE EXECUTE ON FUNCTION "
                                 "pg_logical_emit_message(boolean, text, text) FROM PUBLIC")
            database.execute_sql(f'SET LOCAL ROLE "{role}"')
            answers.append(early_release.supported(database))
            database.obj._huike_early_release = None
            database.execute_sql("RESET ROLE")
            answers.append(early_release.supported(database))
            raise _Undo
    except _Undo:
        pass
    finally:
        database.obj._huike_early_release = None
        database.execute_sql(f'DROP ROLE "{role}"')
    assert answers == [False, True]  # refused to the plain role; the test's superuser may


def test_sqlite_and_postgresql_commit_and_roll_back_alike(install):
    with atomic(release_early=True):
        Tag.create(name="kept")
    with pytest.raises(ValueError):
        with atomic(release_early=True):
            Tag.create(name="dropped")
            raise ValueError("stop")
    assert Tag.get(Tag.name == "kept")
    assert not Tag.select().where(Tag.name == "dropped").exists()
    if not is_postgres():
        assert not hasattr(database.obj, "_huike_early_release")  # never asked on SQLite


@pg_only
def test_outbox_sends_only_what_is_on_disk(install):
    """A message committed asynchronously (as an import batch or an early-released capture
    commits) is delivered only once its commit is flushed: the handler sees the WAL flushed
    past the commit (`outbox.durable_before_sending`)."""
    from core import outbox
    from core.db import utcnow

    with atomic():
        database.execute_sql("SET LOCAL synchronous_commit TO off")
        outbox.enqueue("t.durable", {"n": 1})
    committed_up_to = _lsn("pg_current_wal_insert_lsn")
    flushed_at_send: list[int] = []

    def handler(payload, message):
        flushed_at_send.append(_lsn("pg_current_wal_flush_lsn"))

    counts = outbox.drain({"t.durable": handler}, outbox.RetryPolicy(), now=utcnow())
    assert counts["done"] == 1 and len(flushed_at_send) == 1
    assert flushed_at_send[0] >= committed_up_to
