"""Policy changes reach every process: at once in the changing process, within the 1 s
version re-read elsewhere, and at once through NOTIFY on PostgreSQL."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import security
from core.db import atomic, database, is_postgres
from security.policy import admin, watch
from security.policy.models import PolicyVersion
from tests.test_policy_kit import org  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent

WATCHER_SCRIPT = textwrap.dedent('''
    """Second process: report whether `login` may write base_tag, before and after the
    parent changes the policy (waits at most `deadline` seconds for the change)."""
    import json, sys, time
    data_dir, login = sys.argv[1], sys.argv[2]
    interval, deadline = float(sys.argv[3]), float(sys.argv[4])
    from core.config import load_settings
    from core.db import database, is_postgres
    from core.registry import Registry
    import security
    from security.context import Context
    from security.policy import watch
    from modules.base.models import User

    watch.CHECK_INTERVAL = interval
    registry = Registry.build(load_settings(data_dir, environ={}))
    database.connect()
    user = User.get(User.login == login)

    def allowed():
        return security.can(Context(registry=registry, user=user, via="api"), "write",
                            "model/base_tag")

    state = watch.state_for()
    print(json.dumps({"phase": "before", "allowed": allowed(), "version": state.version,
                      "listening": state.listener is not None}), flush=True)
    sys.stdin.readline()  # the parent has committed its change
    started = time.monotonic()
    seen = allowed()
    while not seen and time.monotonic() - started < deadline:
        time.sleep(0.02)
        seen = allowed()
    print(json.dumps({"phase": "after", "allowed": seen, "version": state.version,
                      "seconds": round(time.monotonic() - started, 3),
                      "notifications": state.listener.received if state.listener else 0}),
          flush=True)
''')


def test_a_change_is_seen_at_once_by_the_changing_process(org):
    assert not security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    before = watch.read_version()
    admin.put_rules(org.ctx("admin"), "sales_rep", "IA",
                    {"models": {"base_tag": ["write"]}})
    assert watch.read_version()[1] == before[1] + 1
    assert security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    admin.put_rules(org.ctx("admin"), "sales_rep", "IA", {})
    assert not security.can(org.ctx("rep_ia"), "write", "model/base_tag")


def test_an_assignment_change_is_seen_at_once(org):
    assert not security.can(org.ctx("rep_ia"), "read", "model/security_audit")
    admin.assign(org.ctx("admin"), {"user": "rep_ia", "role": "auditor", "division": "*"})
    assert security.can(org.ctx("rep_ia"), "read", "model/security_audit")
    admin.unassign(org.ctx("admin"), {"user": "rep_ia", "role": "auditor", "division": "*"})
    assert not security.can(org.ctx("rep_ia"), "read", "model/security_audit")


def test_a_rolled_back_change_changes_nothing(org):
    before = watch.read_version()
    with pytest.raises(RuntimeError):
        with atomic():
            admin.put_rules(org.ctx("admin"), "sales_rep", "IA",
                            {"models": {"base_tag": ["write"]}})
            raise RuntimeError("abort")
    assert watch.read_version() == before
    assert not security.can(org.ctx("rep_ia"), "write", "model/base_tag")


def test_other_processes_changes_are_reread_after_the_check_interval(org, monkeypatch):
    """A bump made behind this process's back (as another process would) is picked up at
    the first request after CHECK_INTERVAL — not before (a fake clock, no sleeping)."""
    now = [1000.0]
    monkeypatch.setattr(watch, "clock", lambda: now[0])
    state = watch.state_for()
    state.stale = True
    assert not security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    seen = state.version
    from security.policy.adapter import PeeweeAdapter
    PeeweeAdapter().add_policy("p", "p", ["sales_rep", "*", "model/base_tag", "write"])
    PolicyVersion.update(version=PolicyVersion.version + 1).execute()  # no local stale mark
    now[0] += watch.CHECK_INTERVAL / 2
    assert not security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    assert state.version == seen
    now[0] += watch.CHECK_INTERVAL / 2
    assert security.can(org.ctx("rep_ia"), "write", "model/base_tag")
    assert state.version == seen + 1


def run_second_process(install, tmp_path, interval: float) -> tuple[dict, dict]:
    """Start the watcher script against the same database, change the policy here once it
    reported, and return its before/after reports."""
    script = tmp_path / "policy_watcher.py"
    script.write_text(WATCHER_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUIKE_")}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, str(script), str(install.data_dir), "rep_ia", str(interval), "15"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=str(ROOT))
    try:
        before = json.loads(child.stdout.readline() or "{}")
        assert before.get("phase") == "before", child.stderr.read()
        from security.context import Context
        admin.put_rules(Context(registry=install.registry, user=install.admin), "sales_rep", "*",
                        {"models": {"base_tag": ["write"]}})
        child.stdin.write("changed\n")
        child.stdin.flush()
        after = json.loads(child.stdout.readline() or "{}")
        assert after.get("phase") == "after", child.stderr.read()
    finally:
        child.stdin.close()
        child.wait(30)
    print(f"second process saw the change after {after['seconds']} s "
          f"(interval {interval}, notifications {after['notifications']})")
    return before, after


def test_a_policy_change_is_seen_by_a_second_process(org, install, tmp_path):
    before, after = run_second_process(install, tmp_path, watch.CHECK_INTERVAL)
    assert before["allowed"] is False
    assert after["allowed"] is True
    assert after["version"] == before["version"] + 1


@pytest.mark.skipif(not os.environ.get("HUIKE_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_postgres_notify_reaches_a_second_process_without_the_version_poll(org, install,
                                                                          tmp_path):
    """With the 1 s re-read pushed out to an hour, only LISTEN/NOTIFY can deliver."""
    assert is_postgres(database.obj)
    before, after = run_second_process(install, tmp_path, 3600.0)
    assert before["listening"] is True
    assert before["allowed"] is False
    assert after["allowed"] is True
    assert after["notifications"] >= 1
