"""User-supplied strings render as text: `<script>` in a task title, a lead name or a stage name
never becomes markup — neither in HTML nor inside the JSON that feeds the charts."""
from __future__ import annotations

import datetime as dt
import json
import re

from tests.support import HttpClient, login

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_task_title_and_lead_name_render_escaped(page_client, web_server):
    http = HttpClient(web_server.base_url)
    me = login(http, "li.na", "Huike-demo-2026")
    due = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    task = http.post("/api/v1/tasks", json={"title": EVIL, "assignee": me["user"]["id"],
                                            "due_at": due})
    assert task.status_code == 201, task.text
    lead = http.post("/api/v1/leads", json={"name": EVIL, "company": "转义测试有限公司"})
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["lead"]["id"]

    client = page_client("li.na")
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert EVIL not in dashboard.text and "<img src=x" not in dashboard.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in dashboard.text
    detail = client.get(f"/leads/{lead_id}")
    if detail.status_code != 404:  # the leads pages exist: the name must be text there too
        assert detail.status_code == 200, detail.status_code
        assert EVIL not in detail.text and "&lt;script&gt;" in detail.text


def _pipeline_labels(html: str) -> list[str]:
    body = re.search(r'id="chart-pipeline">(.*?)</script>', html, re.S).group(1)
    return json.loads(body)["xAxis"]["data"]


def test_stage_name_cannot_break_out_of_the_chart_json(page_client):
    from modules.opportunities.models import Stage

    client = page_client("wang.fang")
    first = _pipeline_labels(client.get("/").text)[0]
    stage = Stage.select().where(Stage.name == first).order_by(Stage.id).first()
    hostile = "</script><script>alert(1)</script>"
    Stage.update(name=hostile).where(Stage.id == stage.id).execute()
    try:
        html = client.get("/").text
        assert "</script><script>alert(1)" not in html
        assert hostile in _pipeline_labels(html)  # intact as data, inert as markup
    finally:
        Stage.update(name=first).where(Stage.id == stage.id).execute()
