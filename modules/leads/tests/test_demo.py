"""`huike demo` for leads: enquiries from every channel (duplicates included), a web form per
division and a saved mapping — reachable through the door, idempotent."""
from __future__ import annotations

from core.demo import load_demo
from modules.base.models import User
from modules.contacts.paging import ListParams
from modules.leads import dedupe, services
from modules.leads.demo import LEADS
from modules.leads.models import Lead
from modules.leads.models_capture import ImportMapping, LeadForm
from modules.leads.tests.capture_org import *  # noqa: F401,F403
from security.context import Context


def test_demo_leads_load_once_and_work_through_the_door(install):
    lines = load_demo(install.registry)
    assert any(line.startswith("leads: ") for line in lines)
    assert Lead.select().count() == len(LEADS)
    assert LeadForm.select().count() == 2 and ImportMapping.select().count() == 2
    load_demo(install.registry)
    assert Lead.select().count() == len(LEADS)

    def ctx(login_):
        return Context(registry=install.registry, user=User.get(User.login == login_))

    get = {}.get
    mine = services.list_leads(ctx("li.na"), ListParams.parse(get), get)["items"]
    assert mine and all(item["owner"] == User.get(User.login == "li.na").id for item in mine)
    first = Lead.get((Lead.name == "张伟") & Lead.email.is_null(False))
    found = dedupe.find(ctx("zhang.wei"), first.id)
    assert found["leads"] and found["leads"][0]["match"] == ["mobile", "company"]
