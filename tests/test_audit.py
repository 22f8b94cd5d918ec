"""The audit chain: appends, sensitive hashing, record_change, transactions, the append-only
triggers, and tamper detection (edit, delete, reorder, truncate) at the right entry."""
from __future__ import annotations

import hashlib

import peewee as pw
import pytest

from core.db import atomic, database, is_postgres
from modules.base.models import Tag
from modules.base.services import create_division
from security import audit
from security.audit.chain import GENESIS
from security.context import Context, system_context
from security.crypto import active_keyring


# ------------------------------------------------------------------ helpers (also used by
# the CLI/API tests): an attacker with database access, who removes the triggers first.
def drop_guards() -> None:
    """Remove the append-only triggers, as someone with direct database access could."""
    if is_postgres():
        database.execute_sql("DROP TRIGGER IF EXISTS security_audit_append_only ON security_audit")
    else:
        database.execute_sql("DROP TRIGGER IF EXISTS security_audit_no_update")
        database.execute_sql("DROP TRIGGER IF EXISTS security_audit_no_delete")


def raw_update(seq: int, /, **values) -> None:
    audit.AuditEntry.update(**values).where(audit.AuditEntry.seq == seq).execute()


def raw_delete(seq: int) -> None:
    audit.AuditEntry.delete().where(audit.AuditEntry.seq == seq).execute()


def fill(ctx, n: int) -> list:
    return [audit.record(ctx, "update", model="base_tag", res_id=i, details={"i": i})
            for i in range(1, n + 1)]


def user_ctx(install, **kwargs) -> Context:
    return Context(registry=install.registry, user=install.admin, ip="10.1.2.3",
                   request_id="req-1", via="api", **kwargs)


# ------------------------------------------------------------------ appends
def test_empty_log_verifies(install):
    result = audit.verify()
    assert result.ok and result.entries == 0 and result.last_hash == GENESIS


def test_record_fills_every_column_and_chains(install):
    ctx = user_ctx(install, division_id=7)
    first = audit.record(ctx, "login")
    second = audit.record(ctx, "export", model="base_user", res_id=3,
                          details={"rows": 12, "format": "xlsx"})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    stored = audit.AuditEntry.get(audit.AuditEntry.seq == 2)
    assert (stored.actor_id, stored.actor_login) == (install.admin.id, "admin")
    assert (stored.ip, stored.request_id, stored.via, stored.division_id) == (
        "10.1.2.3", "req-1", "api", 7)
    assert stored.details == {"rows": 12, "format": "xlsx"}
    assert stored.hash == audit.entry_hash(stored.__data__)
    result = audit.verify()
    assert result.ok and result.entries == 2 and result.last_hash == second.hash


def test_anonymous_failed_login_has_no_actor(install):
    entry = audit.record(Context(registry=install.registry, ip="192.0.2.9"), "login_failed",
                         details={"login": "mallory"})
    assert entry.actor_id is None and entry.actor_login == ""
    assert entry.details == {"login": "mallory"}


def test_invalid_action_is_refused(install):
    for bad in ("", "Login", "drop table", None):
        with pytest.raises(ValueError):
            audit.record(system_context(install.registry), bad)
    assert audit.AuditEntry.select().count() == 0


def test_sensitive_values_are_stored_only_as_hashes(install):
    ctx = user_ctx(install)
    audit.record(ctx, "reveal", model="crm_lead", res_id=5,
                 details={"field": "phone", "phone": "13800138000",
                          "changes": {"id_number": {"old": None, "new": "110101199003071234"}}},
                 sensitive={"phone", "id_number"})
    stored = audit.AuditEntry.get()
    keyring = active_keyring()
    expected = "hmac-sha256:" + keyring.index("audit.value", "13800138000")
    assert stored.details["phone"] == expected == audit.hash_value("13800138000")
    plain = hashlib.sha256("13800138000".encode()).hexdigest()
    assert plain not in expected  # keyed: guessing numbers and hashing them finds nothing
    assert stored.details["field"] == "phone"
    assert audit.hash_value(b"\x00\x01") == "hmac-sha256:" + keyring.index("audit.value",
                                                                         "bytes:0001")
    assert audit.hash_value(42) == "hmac-sha256:" + keyring.index("audit.value", "42")
    assert stored.details["changes"]["id_number"]["old"] is None
    assert stored.details["changes"]["id_number"]["new"].startswith("hmac-sha256:")
    raw = database.execute_sql("SELECT details FROM security_audit").fetchone()[0]
    assert "13800138000" not in raw and "110101199003071234" not in raw
    assert audit.verify().ok


def test_record_change_create_update_delete(install):
    ctx = user_ctx(install)
    division = create_division("EAST", "华东")
    tag = Tag.create(name="VIP", color="#ff0000")
    created = audit.record_change(ctx, tag, None, audit.snapshot(tag, ["name", "color"]))
    assert created.action == "create" and (created.model, created.res_id) == ("base_tag", tag.id)
    assert created.details == {"changes": {"color": {"old": None, "new": "#ff0000"},
                                           "name": {"old": None, "new": "VIP"}}}
    before = audit.snapshot(tag)
    tag.color = "#00ff00"
    tag.save()
    updated = audit.record_change(ctx, tag, before, audit.snapshot(tag), sensitive={"color"})
    assert updated.action == "update"
    assert set(updated.details["changes"]) == {"color", "updated_at"}
    assert updated.details["changes"]["color"] == {
        "old": audit.hash_value("#ff0000"), "new": audit.hash_value("#00ff00")}
    assert audit.record_change(ctx, tag, audit.snapshot(tag), audit.snapshot(tag)) is None
    deleted = audit.record_change(ctx, division, audit.snapshot(division, ["code"]), None)
    assert deleted.action == "delete" and deleted.details["changes"]["code"]["old"] == "EAST"
    assert [e.action for e in audit.AuditEntry.select().order_by(audit.AuditEntry.seq)] == [
        "create", "update", "delete"]
    assert audit.verify().ok


def test_entry_rolls_back_with_the_callers_transaction(install):
    ctx = user_ctx(install)
    audit.record(ctx, "login")
    with pytest.raises(RuntimeError):
        with atomic():
            Tag.create(name="temp")
            audit.record(ctx, "create", model="base_tag")
            raise RuntimeError("business failure")
    assert audit.AuditEntry.select().count() == 1 and Tag.select().count() == 0
    with atomic():
        tag = Tag.create(name="kept")
        entry = audit.record(ctx, "create", model="base_tag", res_id=tag.id)
        audit.record(ctx, "update", model="base_tag", res_id=tag.id)
    assert entry.seq == 2
    result = audit.verify()
    assert result.ok and result.entries == 3


# ------------------------------------------------------------------ append-only triggers
def test_database_refuses_update_and_delete(install):
    audit.record(user_ctx(install), "login")
    with pytest.raises(pw.DatabaseError, match="append-only"):
        with atomic():
            raw_update(1, action="logout")
    with pytest.raises(pw.DatabaseError, match="append-only"):
        with atomic():
            raw_delete(1)
    if is_postgres():
        with pytest.raises(pw.DatabaseError, match="append-only"):
            with atomic():
                database.execute_sql("TRUNCATE security_audit")
    assert audit.AuditEntry.get().action == "login" and audit.verify().ok


# ------------------------------------------------------------------ tampering
BATCHES = [2, 2000]  # a tiny batch size puts tampered rows on page boundaries too


@pytest.fixture
def chain(install):
    fill(user_ctx(install), 6)
    drop_guards()
    return {e.seq: e for e in audit.AuditEntry.select()}


@pytest.mark.parametrize("batch", BATCHES)
def test_edited_details_name_that_entry(chain, batch):
    raw_update(3, details={"i": 999})
    result = audit.verify(batch_size=batch)
    assert not result.ok
    assert (result.broken_seq, result.broken_id, result.code) == (3, chain[3].id, "edited")
    assert result.entries == 2 and "seq 3" in result.summary()


@pytest.mark.parametrize("batch", BATCHES)
def test_edited_time_or_actor_is_caught(chain, batch):
    raw_update(5, actor_login="someone-else")
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.code) == (5, "edited")


def test_garbled_details_are_reported_not_crashed_on(chain):
    database.execute_sql("UPDATE security_audit SET details = '{not json' WHERE seq = 4")
    result = audit.verify()
    assert (result.broken_seq, result.code) == (4, "edited")


@pytest.mark.parametrize("batch", BATCHES)
def test_edit_with_recomputed_hash_breaks_the_next_link(chain, batch):
    forged = dict(chain[3].__data__, details={"i": 999})
    raw_update(3, details={"i": 999}, hash=audit.entry_hash(forged))
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.broken_id, result.code) == (4, chain[4].id, "relinked")


@pytest.mark.parametrize("batch", BATCHES)
def test_deleted_middle_entry_names_the_next(chain, batch):
    raw_delete(3)
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.broken_id, result.code) == (4, chain[4].id, "missing")


@pytest.mark.parametrize("batch", BATCHES)
def test_deleted_first_entry_names_the_second(chain, batch):
    raw_delete(1)
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.code) == (2, "missing")


@pytest.mark.parametrize("batch", BATCHES)
def test_deleted_and_renumbered_is_caught_by_the_link(chain, batch):
    raw_delete(3)
    for seq in (4, 5, 6):
        raw_update(seq, seq=seq - 1)
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.broken_id, result.code) == (3, chain[4].id, "relinked")


@pytest.mark.parametrize("batch", BATCHES)
def test_swapped_entries_name_the_first_out_of_place(chain, batch):
    raw_update(2, seq=-2)
    raw_update(4, seq=2)
    raw_update(-2, seq=4)
    result = audit.verify(batch_size=batch)
    assert (result.broken_seq, result.broken_id, result.code) == (2, chain[4].id, "relinked")


@pytest.mark.parametrize("batch", BATCHES)
def test_removed_tail_is_caught_by_the_head(chain, batch):
    raw_delete(6)
    raw_delete(5)
    result = audit.verify(batch_size=batch)
    assert (result.ok, result.broken_seq, result.code, result.entries) == (
        False, 5, "truncated", 4)


def test_duplicated_seq_is_caught(chain):
    database.execute_sql("DROP INDEX security_audit_seq")  # the attacker drops the constraint
    copy = dict(chain[3].__data__)
    copy.pop("id")
    audit.AuditEntry.insert(**copy).execute()
    result = audit.verify(batch_size=2)
    assert (result.broken_seq, result.code) == (3, "duplicate")


def test_lost_head_is_reported_and_rebuilt_from_the_last_entry(install, chain):
    audit.AuditHead.delete().execute()
    assert audit.verify().code == "head_missing"
    entry = audit.record(system_context(install.registry), "login")
    assert entry.seq == 7 and entry.prev_hash == chain[6].hash
    assert audit.verify().ok
