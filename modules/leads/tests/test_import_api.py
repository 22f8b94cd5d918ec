"""Lead import over HTTP as real users: multipart upload → 202 with the run, progress,
the error report as CSV with BOM, saved mappings, and rights and scopes on every import route."""
from __future__ import annotations

import csv
import io
import json

from modules.leads.models import Lead
from modules.leads.models_capture import ImportRun
from modules.leads.tests.capture_org import *  # noqa: F401,F403


def upload(client, data: bytes, name: str = "leads.csv", **fields):
    form = {k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in fields.items()}
    return client.post("/api/v1/leads/imports", files={"file": (name, data)}, data=form)


def test_upload_progress_and_error_report(clients, org):
    mgr = clients("mgr")
    data = csv_bytes([row("王芳", "13800138001", email="wf@example.com"), row("", "13800138002"),
                      row("李雷", "12-34"), row("韩梅梅", "138 0013 8001")], encoding="gbk")
    response = upload(mgr, data, "展会.csv")
    assert response.status_code == 202, response.text
    run = response.json()["run"]
    assert (run["status"], run["percent"], run["encoding"], run["created_by"]) == (
        "done", 100, "gb18030", org.id("mgr"))  # jobs run at once in tests
    progress = mgr.get(f"/api/v1/leads/imports/{run['id']}").json()
    assert (progress["total"], progress["processed"], progress["created"], progress["failed"],
            progress["skipped"]) == (4, 4, 1, 2, 1)
    report = mgr.get(f"/api/v1/leads/imports/{run['id']}/errors")
    assert report.status_code == 200
    assert report.headers["Content-Type"].startswith("text/csv")
    assert report.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    records = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert [r[0] for r in records[1:]] == ["3", "4", "5"]
    assert records[0][3:] == HEADERS_ZH
    assert [r["id"] for r in mgr.get("/api/v1/leads/imports").json()["items"]] == [run["id"]]
    assert not list((org.data_dir / "imports" / "uploads").glob("*.csv"))  # upload dropped


def test_import_routes_follow_rights_and_scopes(clients, org):
    data = csv_bytes([row("王芳", "13800138001")])
    refused = upload(clients("rep1"), data)
    assert refused.status_code == 403 and ImportRun.select().count() == 0
    run = upload(clients("mkt"), data).json()["run"]
    path = f"/api/v1/leads/imports/{run['id']}"
    assert clients("mkt").get(path).status_code == 200
    for login_ in ("mgr", "rep1", "md_rep"):  # not the marketer's manager: out of scope
        assert clients(login_).get(path).status_code in (403, 404), login_
        assert clients(login_).get(path + "/errors").status_code in (403, 404), login_
    assert clients("mgr").post(path + "/resume").status_code == 404
    assert clients("mkt").post(path + "/resume").status_code == 409  # finished
    lead = clients("mkt").get("/api/v1/leads").json()["items"][0]
    assert lead["mobile"] == "138****8001"  # marketing imports, but sees channels masked
    owned = upload(clients("mkt"), csv_bytes([row("李雷", "13800138002")]),
                   owner=org.id("rep1"))
    assert owned.status_code == 403 and owned.json()["error"]["fields"] == {"owner": "read-only"}


def test_uploading_an_unfinished_file_again_resumes_it(clients, org):
    data = csv_bytes([row(f"客户{n}", f"1380013{n:04d}") for n in range(10)])
    mgr = clients("mgr")
    first = upload(mgr, data).json()["run"]
    ImportRun.update(status="failed", processed=4, created=4, message="worker lost").where(
        ImportRun.id == first["id"]).execute()
    Lead.delete().where(Lead.id.not_in(
        Lead.select(Lead.id).order_by(Lead.id).limit(4))).execute()  # as if killed after 4
    again = upload(mgr, data)
    assert again.status_code == 202 and again.json()["resumed"] is True
    assert again.json()["run"]["id"] == first["id"]
    run = ImportRun.get_by_id(first["id"])
    assert (run.status, run.processed, run.created) == ("done", 10, 10)
    assert Lead.select().count() == 10


def test_mappings_api_and_options(clients, org):
    mgr = clients("mgr")
    saved = mgr.post("/api/v1/leads/import-mappings", json={
        "name": "展会模板", "columns": {"客户": "name", "电话1": "mobile"}})
    assert saved.status_code == 201
    assert clients("rep1").get("/api/v1/leads/import-mappings").status_code == 403
    assert clients("other_mgr").post("/api/v1/leads/import-mappings", json={
        "name": "展会模板", "columns": {"客户": "name"}}).status_code == 409  # mgr's own
    assert [m["name"] for m in clients("mkt").get(
        "/api/v1/leads/import-mappings").json()["items"]] == ["展会模板"]
    data = csv_bytes([["陈静", "13800138000", "x"]], headers=["客户", "电话1", "备用"])
    run = upload(mgr, data, mapping="展会模板", policy="merge").json()["run"]
    assert (run["created"], run["unmapped"], run["policy"]) == (1, ["备用"], "merge")
    explicit = upload(mgr, csv_bytes([["周", "13900139000"]], headers=["甲", "乙"]),
                      columns={"甲": "name", "乙": "mobile"}, save_mapping="甲乙")
    assert explicit.status_code == 202 and explicit.json()["run"]["created"] == 1
    assert upload(mgr, data, policy="overwrite").status_code == 422
    assert upload(mgr, data, columns="{bad").status_code == 422
    dry = upload(mgr, csv_bytes([row("新人", "13700137000")]), dry_run="true").json()["run"]
    assert dry["dry_run"] is True and dry["created"] == 1
    assert not Lead.select().where(Lead.name == "新人").exists()
    none = clients("mgr").post("/api/v1/leads/imports", data={"policy": "skip"})
    assert none.status_code == 400


def test_error_report_follows_field_rules(clients, org):
    from security.policy.adapter import PeeweeAdapter
    from security.policy.watch import bump_version

    mkt = clients("mkt")
    run = upload(mkt, csv_bytes([row("坏行", "12-34"), row("好", "13800138000")])).json()["run"]
    path = f"/api/v1/leads/imports/{run['id']}/errors"
    assert "12-34" in mkt.get(path).content.decode("utf-8-sig")
    PeeweeAdapter().add_policy("p", "p", ["marketing", "*", "field/lead_import_error/raw",
                                          "hidden"])
    bump_version()
    records = list(csv.reader(io.StringIO(mkt.get(path).content.decode("utf-8-sig"))))
    assert records[0] == ["行号 / row", "类型 / kind", "原因 / reason"]  # no file columns
    assert records[1][:2] == ["2", "错误 / error"] and "mobile" in records[1][2]
    assert "12-34" not in str(records) and "坏行" not in str(records)
