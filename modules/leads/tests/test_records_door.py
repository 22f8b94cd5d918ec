"""Every capture-side lead endpoint (records, duplicates, merge, convert, imports, mappings,
form administration) goes through the door, like the automation ones (`test_scoring_door`):
anonymous callers get 401, a signed-in user holding no role gets 403 and never a byte of
lead data, on every method of every route. The public web-form route is public by design
(form key, origin list, honeypot, rate limit: `test_forms`)."""
from __future__ import annotations

import datetime as dt
import re

from core.db import utcnow
from modules.base import services
from modules.leads.handlers import leads_routes
from modules.leads.handlers_capture import PublicFormHandler
from modules.leads.tests.automation_org import (  # noqa: F401
    PASSWORD, _clean_env, clients, clock, database_url, install, org, server)
from tests.support import HttpClient, login

METHODS = ("get", "post", "put", "patch", "delete")


def sample_requests(record_id: int) -> list[tuple[str, str]]:
    """(method, path) for every method of every non-public route, ids set to `record_id`."""
    found = []
    for pattern, handler in leads_routes():
        if issubclass(handler, PublicFormHandler):
            continue
        path = re.sub(r"\(\\d\+\)", str(record_id), pattern)
        assert "(" not in path, pattern
        found += [(m, path) for m in METHODS if m in vars(handler)]
    return found


def test_the_sample_covers_every_route_and_method(org):
    requests = sample_requests(1)
    assert len(requests) == 19
    assert len({path for _, path in requests}) == 12


def test_anonymous_callers_get_401_on_every_route(org, server):
    lead = org.lead(owner=org.id("rep1"))
    anonymous = HttpClient(server.base_url)
    for method, path in sample_requests(lead.id):
        answer = anonymous.request(method.upper(), path, json={"name": "x"})
        assert answer.status_code == 401, (method, path, answer.text)


def test_users_without_a_role_get_403_and_no_data_on_every_route(org, server, clock):
    lead = org.lead(owner=org.id("rep1"), name="机密客户", company="保密公司")
    services.create_user("nobody", "无角色", PASSWORD, department=org.departments["IA-S1"])
    clock.set(utcnow() + dt.timedelta(seconds=1))  # the session starts after the password
    client = HttpClient(server.base_url)
    login(client, "nobody", PASSWORD)
    for method, path in sample_requests(lead.id):
        answer = client.request(method.upper(), path,
                                json={"name": "改名", "leads": [lead.id], "target": lead.id})
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text)
        assert "机密" not in answer.text and "保密" not in answer.text, (method, path)
    stored = org.reload(lead)
    assert (stored.name, stored.status) == ("机密客户", "new")  # nothing was written
