"""The dashboard: four ECharts panels over figures scoped to the viewer."""
from __future__ import annotations

import json
import re

from tests.support import HttpClient, login

CHART_RE = re.compile(r'<script type="application/json" id="(chart-[a-z]+)">(.*?)</script>', re.S)


def charts_of(html: str) -> dict:
    return {name: json.loads(body) for name, body in CHART_RE.findall(html)}


def api_count(base_url: str, user: str, path: str) -> int:
    http = HttpClient(base_url)
    login(http, user, "Huike-demo-2026")
    total, after = 0, None
    while True:
        answer = http.get(path, params={"limit": 200, **({"after": after} if after else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        total += len(body["items"])
        after = body.get("next")
        if not after:
            return total


def sla_values(html: str) -> dict:
    chart = charts_of(html).get("chart-sla")
    if chart is None:
        return {}
    return {d["name"]: d["value"] for d in chart["series"][0]["data"]}


def test_rep_sees_four_panels_with_their_own_figures(page_client, web_server):
    html = page_client("li.na").get("/").text
    for panel in ("funnel", "sla", "pipeline", "tasks"):
        assert f'id="panel-{panel}"' in html
    charts = charts_of(html)
    assert {"chart-funnel", "chart-pipeline", "chart-tasks"} <= set(charts)
    funnel = charts["chart-funnel"]["series"][0]["data"]
    assert [d["name"] for d in funnel] == ["新线索", "初步沟通", "意向明确", "报价阶段", "已转化"]
    shown = sum(d["value"] for d in funnel)
    found = re.search(r"共 (\d+) 条线索，其中已流失 (\d+) 条", html)
    total, lost = int(found.group(1)), int(found.group(2))
    assert shown + lost == total
    assert total == api_count(web_server.base_url, "li.na", "/api/v1/leads")
    assert 'src="/static/vendor/echarts.min.js' in html


def test_sla_panel_counts_the_viewers_clocks(page_client, web_server):
    import datetime as dt

    from modules.leads.models import Lead

    client = page_client("li.na")
    before = sla_values(client.get("/").text)
    http = HttpClient(web_server.base_url)
    login(http, "li.na", "Huike-demo-2026")
    ids = []
    for name in ("时效甲", "时效乙"):
        made = http.post("/api/v1/leads", json={"name": name, "company": f"{name}科技有限公司"})
        assert made.status_code == 201, made.text
        ids.append(made.json()["lead"]["id"])
    past = dt.datetime.utcnow() - dt.timedelta(hours=1)
    Lead.update(first_response_due_at=past,
                first_response_met=True).where(Lead.id == ids[0]).execute()
    Lead.update(first_response_due_at=past,
                first_response_met=False).where(Lead.id == ids[1]).execute()
    after_html = client.get("/").text
    after = sla_values(after_html)
    assert after.get("按时响应", 0) == before.get("按时响应", 0) + 1
    assert after.get("超时响应", 0) == before.get("超时响应", 0) + 1
    met, late = after["按时响应"], after["超时响应"]
    assert f"{round(100.0 * met / (met + late), 1)}%" in after_html
    other = sla_values(page_client("gao.feng").get("/").text)  # another division: not counted
    assert other.get("超时响应", 0) < late or other == {}


def test_manager_sees_more_than_one_rep_and_other_division_differs(page_client):
    def total(user: str) -> int:
        html = page_client(user).get("/").text
        return int(re.search(r"共 (\d+) 条线索", html).group(1))

    rep, manager = total("li.na"), total("wang.fang")
    assert manager >= rep
    pipeline_ia = charts_of(page_client("li.na").get("/").text)["chart-pipeline"]
    pipeline_md = charts_of(page_client("gao.feng").get("/").text)["chart-pipeline"]
    assert pipeline_ia["series"][0]["data"] != [] and pipeline_md["series"][0]["data"] != []


def test_roles_without_leads_get_no_lead_panels(page_client):
    html = page_client("deng.li").get("/").text  # auditor: audit log only
    assert 'id="panel-funnel"' not in html and 'id="panel-sla"' not in html
    answer = page_client("hu.bin").get("/")
    assert answer.status_code == 200


def test_dashboard_in_english(page_client):
    client = page_client("li.na")
    client.get("/lang/en?next=/")
    charts = charts_of(client.get("/").text)
    assert charts["chart-funnel"]["title"]["text"] == "Lead funnel"
    assert [d["name"] for d in charts["chart-funnel"]["series"][0]["data"]][0] == "New"


def test_pipeline_panel_matches_the_kanban_api_for_each_viewer(page_client, web_server):
    for user in ("li.na", "wang.fang", "gao.feng"):
        http = HttpClient(web_server.base_url)
        login(http, user, "Huike-demo-2026")
        board = http.get("/api/v1/opportunities/kanban").json()
        open_stages = [s for s in board["stages"] if s["kind"] == "open"]
        chart = charts_of(page_client(user).get("/").text)["chart-pipeline"]
        assert chart["series"][0]["data"] == [s["count"] for s in open_stages], user
        assert chart["xAxis"]["data"] == [s["name"] for s in open_stages], user
