"""Follows README's "Add a module in 7 steps" literally: every ```… file=PATH block becomes a file,
the module is enabled through `[modules] paths`, installed, and answers as a logged-in user."""
from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

from tests.support import ADMIN_PASSWORD, HttpClient, LiveServer, make_install

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```\w+ file=(\S+)\n(.*?)```", re.S)


def readme_files() -> dict[str, str]:
    section = README.read_text(encoding="utf-8").split("## Add a module in 7 steps", 1)[1]
    return dict(BLOCK.findall(section))


def test_readme_has_the_module_files():
    assert set(readme_files()) == {"visits/module.toml", "visits/models.py", "visits/services.py",
                                   "visits/handlers.py", "visits/__init__.py",
                                   "visits/security/access.csv"}


def test_following_the_readme_gives_a_working_module(tmp_path, database_url):
    import tests.support as support

    root = tmp_path / "extra"
    for relative, text in readme_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name in [m for m in sys.modules if m == "visits" or m.startswith("visits.")]:
        del sys.modules[name]  # another test may have imported an older copy
    with make_install(tmp_path / "data", database_url,
                      extra_config={"modules": {"paths": [str(root)]}}) as inst:
        assert "visits" in inst.registry.module_names
        from modules.base import services
        division = services.create_division("VS", "拜访事业部")
        with LiveServer(inst.registry) as live:
            http = HttpClient(live.base_url)
            assert http.get("/api/v1/visits").status_code == 401
            support.login(http, "admin", ADMIN_PASSWORD)
            created = http.post("/api/v1/visits", json={"customer": "上海振华重工", "note": "演示"})
            assert created.status_code == 201, created.text
            assert http.post(
                "/api/v1/visits", json={"customer": " "}).json()["error"]["fields"] == {
                "customer": "required"}
            items = http.get("/api/v1/visits").json()["items"]
            assert [i["customer"] for i in items] == ["上海振华重工"]
            _a_rep_sees_only_own_visits(live, division)


def _a_rep_sees_only_own_visits(live, division):
    """The access.csv of step 5 holds: a sales rep lists their own visits, not the admin's."""
    import tests.support as support
    from modules.base import services

    dept = services.create_department(division, "vs1", "拜访一部")
    rep = services.create_user("li.lei", "李雷", "Visits-rep-2026", department=dept)
    services.assign_role(rep, "sales_rep", division)
    http = HttpClient(live.base_url)
    support.login(http, "li.lei", "Visits-rep-2026")
    assert http.get("/api/v1/visits").json()["items"] == []
    assert http.post("/api/v1/visits", json={"customer": "徐工集团"}).status_code == 201
    assert [i["customer"] for i in http.get("/api/v1/visits").json()["items"]] == ["徐工集团"]
