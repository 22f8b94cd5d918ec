"""The import wizard over HTTP: upload a GBK CSV → the mapping step (Chinese headers
recognised) → a dry run listing the bad rows → the real run → progress, counts and the error
report; the upload reference cannot be forged and reps without the import right are refused."""
from __future__ import annotations

import csv
import io
import re

ROWS = [("客户姓名", "单位名称", "手机号码", "邮箱", "来源", "备注"),
        ("钱多多", "无锡测试精密有限公司", "13812340001", "qdd@example.com", "展会", "要报价"),
        ("孙小美", "常州测试电气有限公司", "13812340002", "", "官网", ""),
        ("", "缺姓名公司", "13812340003", "", "展会", "没有姓名"),
        ("周大福", "南通测试机械有限公司", "12", "", "展会", "手机号错")]


def gbk_csv(rows=ROWS) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("gbk")


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def upload(http, data: bytes, name: str = "展会名单.csv"):
    return http.post("/leads/import", files={"file": (name, data, "text/csv")},
                     data={"policy": "skip"})


def test_wizard_imports_a_gbk_csv(page_client):
    from modules.leads.models import Lead

    http = page_client("wang.fang")
    assert http.get("/leads/import").status_code == 200
    mapped = upload(http, gbk_csv())
    assert mapped.status_code == 200, mapped.text[:400]
    page = mapped.text
    assert "gb18030" in page and "无锡测试精密有限公司" in page
    selects = dict(re.findall(r'<tr data-header="([^"]+)">.*?<option value="(\w+)" selected',
                              page, re.S))
    assert selects["客户姓名"] == "name" and selects["手机号码"] == "mobile"
    assert selects["单位名称"] == "company" and selects["备注"] == "need"
    form = {"file": hidden(page, "file"), "name": hidden(page, "name"),
            "sig": hidden(page, "sig"), "policy": "skip"}
    headers = re.findall(r'<tr data-header="([^"]+)">', page)
    for index, header in enumerate(headers):
        form[f"col_{index}"] = selects.get(header, "")
    form["col_4"] = ""  # ignore 来源 on purpose
    preview = http.post("/leads/import/preview", data=form)
    assert preview.status_code == 303, preview.text[:400]
    run_page = http.get(preview.headers["Location"]).text
    assert 'data-status="done"' in run_page and 'data-action="commit"' in run_page
    assert 'data-count="created">2<' in run_page and 'data-count="failed">2<' in run_page
    assert Lead.select().where(Lead.company == "无锡测试精密有限公司").count() == 0  # dry run
    dry_id = int(preview.headers["Location"].rsplit("/", 1)[1])
    real = http.post(f"/leads/import/{dry_id}/commit")
    assert real.status_code == 303, real.text[:400]
    run_id = int(real.headers["Location"].rsplit("/", 1)[1])
    progress = http.htmx("GET", f"/leads/import/{run_id}/progress")
    assert progress.status_code == 200 and 'aria-valuenow="100"' in progress.text
    assert "data-finished" in progress.text and "<html" not in progress.text
    lead = Lead.get(Lead.company == "无锡测试精密有限公司")
    assert lead.name == "钱多多" and lead.source == "other"  # 来源 was ignored
    report = http.get(f"/leads/import/{run_id}/errors.csv")
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")
    text = report.content.decode("utf-8-sig")
    assert "缺姓名公司" in text and "手机号错" in text and "钱多多" not in text
    assert http.post(f"/leads/import/{dry_id}/commit").status_code in (409, 410)


def test_upload_reference_cannot_be_forged_or_reused_by_others(page_client):
    http = page_client("wang.fang")
    page = upload(http, gbk_csv(ROWS[:2])).text
    form = {"file": hidden(page, "file"), "name": hidden(page, "name"), "sig": "0" * 64,
            "col_0": "name"}
    assert http.post("/leads/import/preview", data=form).status_code == 400
    form["sig"] = hidden(page, "sig")
    other = page_client("zhou.jie")  # another manager, another session
    assert other.post("/leads/import/preview", data=form).status_code == 400


def test_mapping_without_a_name_column_is_refused_in_place(page_client):
    http = page_client("wang.fang")
    page = upload(http, gbk_csv(ROWS[:2])).text
    form = {"file": hidden(page, "file"), "name": hidden(page, "name"),
            "sig": hidden(page, "sig"), "col_0": "", "col_1": "company"}
    answer = http.post("/leads/import/preview", data=form)
    assert answer.status_code == 422 and "data-refusal" in answer.text
    assert 'data-header="客户姓名"' in answer.text  # the mapping step again


def test_reps_may_not_import(page_client):
    http = page_client("li.na")
    assert http.get("/leads/import").status_code == 403
    assert upload(http, gbk_csv()).status_code == 403


def test_xlsx_upload_reaches_the_mapping_step(page_client):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Company", "Mobile Phone", "Budget (CNY)"])
    sheet.append(["Ada", "表格测试有限公司", 13812349999, 50000])
    buffer = io.BytesIO()
    book.save(buffer)
    http = page_client("wang.fang")
    page = upload(http, buffer.getvalue(), "leads.xlsx").text
    selects = dict(re.findall(r'<tr data-header="([^"]+)">.*?<option value="(\w+)" selected',
                              page, re.S))
    assert selects == {"Name": "name", "Company": "company", "Mobile Phone": "mobile",
                       "Budget (CNY)": "budget"}
    assert "13812349999" in page  # the sample row, as typed (not 1.38e10)
