"""离职交接 moves a departing user's open leads (not converted or lost ones), each audited."""
from __future__ import annotations

from modules.base import services
from modules.base.models import Division
from modules.contacts import handover
from modules.leads.models import Lead
from security.audit import AuditEntry
from security.context import system_context
from tests.conftest import _clean_env, database_url, install  # noqa: F401


def test_handover_moves_open_leads_only(install):
    division = services.create_division("HO", "交接事业部")
    dept = services.create_department(division, "ho1", "销售部")
    leaving = services.create_user("li.bai", "李白", None, department=dept)
    taker = services.create_user("du.fu", "杜甫", None, department=dept)
    open_ids = [Lead.create(name=f"线索{i}", division=division, owner=leaving, status=status).id
                for i, status in enumerate(["new", "contacted", "quoting"])]
    closed = [Lead.create(name="已成交", division=division, owner=leaving, status="converted"),
              Lead.create(name="已流失", division=division, owner=leaving, status="lost",
                          lost_reason="预算取消")]
    ctx = system_context(install.registry)
    preview = handover.preview(ctx, "li.bai", ["du.fu"])
    assert {c["label"]: c["count"] for c in preview["counts"]}["leads"] == 3
    handover.execute(ctx, "li.bai", ["du.fu"])
    assert sorted(l.id for l in Lead.select().where(Lead.owner == taker.id)) == sorted(open_ids)
    assert all(Lead.get_by_id(l.id).owner_id == leaving.id for l in closed)
    audited = {e.res_id for e in AuditEntry.select().where(AuditEntry.action == "handover",
                                                           AuditEntry.model == "leads_lead")}
    assert audited == set(open_ids)
    assert Division.get_by_id(division.id)  # nothing else disturbed
