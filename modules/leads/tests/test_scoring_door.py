"""Every lead-automation endpoint goes through the door: anonymous callers get 401, callers
without rights 403 (never data), field rules shape the answers, the division header picks
the pool."""
from __future__ import annotations

import itertools
import re

import pytest

from modules.base import services
from modules.leads import scoring
from modules.leads.handlers_automation import automation_routes
from modules.leads.tests.automation_org import (  # noqa: F401
    PASSWORD, _clean_env, clients, clock, database_url, install, org, server)
from tests.support import HttpClient, login

METHODS = ("get", "post", "put", "patch", "delete")


def sample_requests(lead_id: int) -> list[tuple[str, str]]:
    """(method, path) for every method of every automation route and every alternative of
    its path groups (`(scoring-rules|assignment-rules|…)`), ids replaced by `lead_id`."""
    from modules.leads.handlers_capture import PublicFormHandler

    found = []
    for pattern, handler in automation_routes():
        if issubclass(handler, PublicFormHandler):
            continue  # public by design (form key + token), tested in test_nurture
        groups = [g.split("|") for g in re.findall(r"\(([^)]*)\)", pattern)]
        for choice in itertools.product(*groups):
            parts = iter(choice)
            path = re.sub(r"\([^)]*\)", lambda _: next(parts), pattern)
            path = path.replace(r"\d+", str(lead_id))
            found += [(m, path) for m in METHODS if m in vars(handler)]
    return found


def test_every_route_is_covered_by_the_sample(org):
    requests = sample_requests(1)
    assert len(requests) == 37
    assert all("(" not in path for _, path in requests)


def test_anonymous_callers_get_401_everywhere(org, server):
    lead = org.lead(owner=org.id("rep1"))
    anonymous = HttpClient(server.base_url)
    for method, path in sample_requests(lead.id):
        answer = anonymous.request(method.upper(), path, json={})
        assert answer.status_code == 401, (method, path, answer.text)


def test_callers_without_rights_get_403_and_no_data(org, server):
    lead = org.lead(owner=org.id("rep1"), name="机密客户")
    services.create_user("nobody", "无角色", PASSWORD,
                         department=org.departments["IA-S1"])  # holds no role at all
    client = HttpClient(server.base_url)
    login(client, "nobody", PASSWORD)
    for method, path in sample_requests(lead.id):
        answer = client.request(method.upper(), path, json={"status": "contacted",
                                                           "kind": "web_visit"})
        assert answer.status_code in (403, 404), (method, path, answer.text)
        assert "机密客户" not in answer.text


def test_field_rules_shape_scores_and_notifications(org, clients):
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    lead = org.lead(owner=org.id("rep1"), source="referral")
    scoring.rescore(org.ctx(), [lead.id])
    adapter = PeeweeAdapter()
    adapter.add_policy("p", "p", ["sales_rep", "*", "field/lead/score_breakdown", "hidden"])
    adapter.add_policy("p", "p", ["sales_rep", "*", "field/notification/body", "hidden"])
    bump_version()
    explained = clients("rep1").get(f"/api/v1/leads/{lead.id}/score").json()
    assert explained["score"] == 25 and "score_breakdown" not in explained
    assert "score_breakdown" in clients("mgr").get(f"/api/v1/leads/{lead.id}/score").json()
    from modules.leads.notify import Note, send
    send(org.ctx(), [Note(user_id=org.id("rep1"), kind="test", title="标题", body="机密正文")])
    item = clients("rep1").get("/api/v1/notifications").json()["items"][0]
    assert item["title"] == "标题" and "body" not in item
    assert "机密正文" not in clients("rep1").get("/api/v1/notifications").text


@pytest.mark.parametrize("division", ["IA", "MD"])
def test_the_division_header_selects_the_pool(org, clients, division):
    from modules.leads import assignment

    both = services.create_user("roamer", "两栖", PASSWORD, department=org.departments["IA-S1"])
    services.assign_role(both, "sales_rep", org.divisions["IA"])
    services.assign_role(both, "sales_rep", org.divisions["MD"])
    leads = {code: org.lead(division=code, name=f"{code} 公海") for code in ("IA", "MD")}
    assignment.assign(org.ctx(), [lead.id for lead in leads.values()])
    client = HttpClient(clients("rep1").base_url)
    login(client, "roamer", PASSWORD)
    header = {"X-Division": str(org.divisions[division].id)}
    names = [i["name"] for i in client.get("/api/v1/leads/pool", headers=header).json()["items"]]
    assert names == [f"{division} 公海"]
    other = "MD" if division == "IA" else "IA"
    claim = client.post(f"/api/v1/leads/{leads[other].id}/claim", headers=header)
    assert claim.status_code == 404  # another division's pool is not this one
    assert client.post(f"/api/v1/leads/{leads[division].id}/claim",
                       headers=header).status_code == 200
