"""The division switcher: a user holding roles in two divisions acts in either through the
`huike_division` cookie; the door's answers follow the division; others see no switcher."""
from __future__ import annotations

import re

from tests.support import HttpClient, login

PASSWORD = "Huike-demo-2026"


def _funnel_total(html: str) -> int:
    return int(re.search(r"共 (\d+) 条线索", html).group(1))


def test_a_two_division_user_switches_and_the_figures_follow(page_client, web_server):
    from modules.base import services
    from modules.base.models import Department, Division

    ia = Division.get(Division.code == "IA")
    md = Division.get(Division.code == "MD")
    user = services.create_user("two.div", "两栖", PASSWORD,
                                department=Department.get(Department.code == "IA-S1"))
    services.assign_role(user, "sales_rep", ia)
    services.assign_role(user, "sales_rep", md)
    http = HttpClient(web_server.base_url)
    login(http, "two.div", PASSWORD)
    made = http.post("/api/v1/leads", json={"name": "医疗线索", "company": "华北医疗器械有限公司"},
                     headers={"X-Division": str(md.id)})
    assert made.status_code == 201, made.text

    client = page_client("two.div")
    home = client.get("/").text
    assert re.findall(r'data-division="(\d+)"', home) == [str(ia.id), str(md.id)]
    assert _funnel_total(home) == 0  # default: the department's division (IA)
    switched = client.get(f"/division/{md.id}?next=/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    in_md = client.get("/").text
    assert _funnel_total(in_md) == 1
    assert re.search(rf'data-division="{md.id}" aria-current="true"', in_md)


def test_no_switcher_for_one_division_and_no_foreign_division(page_client):
    from modules.base.models import Division

    md = Division.get(Division.code == "MD")
    client = page_client("li.na")
    assert 'id="hk-division"' not in client.get("/").text
    refused = client.get(f"/division/{md.id}?next=/")
    assert refused.status_code == 403
    client.session.cookies.set("huike_division", str(md.id))  # forged: ignored, not a 403
    assert client.get("/").status_code == 200
