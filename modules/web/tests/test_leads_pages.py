"""The leads pages over HTTP (requests sessions signed in through the UI's login form), on the
demo data: every page renders for a rep and a manager without untranslated keys, and the door
holds in the HTML — hidden fields absent, read-only fields not editable, a forbidden write
refused by the server with its 403 message shown, user strings escaped, XSRF required.
Browser flows are in `test_leads_browser.py`; the import wizard in `test_leads_import.py`."""
from __future__ import annotations

import re

import pytest

from modules.base.demo import DEMO_PASSWORD

MISSING = "X-Huike-I18n-Missing"


def lead_id(answer) -> int:
    """The lead id a successful form post redirected to."""
    assert answer.status_code == 303, f"{answer.status_code}: {answer.text[:400]}"
    match = re.match(r"^/leads/(\d+)", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return int(match.group(1))


def owned_by(login: str) -> list[int]:
    from modules.base.models import User
    from modules.leads.models import Lead

    user = User.get(User.login == login)
    return [r.id for r in Lead.select(Lead.id).where(Lead.owner == user.id).order_by(Lead.id)]


@pytest.fixture(scope="module")
def restricted(web_install):
    """`web.budgetless`: a role that reads the IA leads with `budget` and `need` hidden and
    `mobile` masked, held by a new user of IA's sales department."""
    from modules.base import services
    from modules.base.models import Division, User
    from security.context import system_context
    from security.policy import admin

    ctx = system_context(web_install.registry)
    admin.create_role(ctx, {"code": "web_budgetless", "name": "无预算视图", "name_en": "No budget"})
    admin.put_rules(ctx, "web_budgetless", "*", {
        "models": {"lead": ["read"]}, "scopes": {"lead": {"read": "division"}},
        "fields": {"lead": {"budget": "hidden", "need": "hidden", "mobile": "masked"}}})
    user = services.create_user("web.budgetless", "预算不可见", DEMO_PASSWORD,
                                department=User.get(User.login == "li.na").department)
    services.assign_role(user, "web_budgetless", Division.get(Division.code == "IA"))
    return user


def test_every_leads_page_renders_translated(page_client):
    for login in ("li.na", "wang.fang"):
        http = page_client(login)
        pk = owned_by("li.na")[0]
        paths = ["/leads", "/leads?status=new&sort=-score", "/leads/new", "/leads/pool",
                 f"/leads/{pk}", f"/leads/{pk}/convert"]
        if login == "wang.fang":
            paths += ["/leads/import", f"/leads/merge?ids={pk},{owned_by('li.na')[1]}"]
        for path in paths:
            for lang in ("zh_CN", "en"):
                http.session.cookies.set("huike_lang", lang)
                answer = http.get(path)
                assert answer.status_code == 200, f"{login} {path}: {answer.status_code} " \
                                                  f"{answer.text[:300]}"
                assert MISSING not in answer.headers, f"{path}: {answer.headers.get(MISSING)}"
                assert answer.headers["Content-Type"].startswith("text/html")
        assert "Quick create" in http.get("/leads").text  # still English


def test_list_filters_and_search(page_client):
    http = page_client("li.na")
    everything = http.get("/leads").text
    assert "苏州精工机械有限公司" in everything
    narrowed = http.get("/leads?q=" + "振华").text
    assert "上海振华重工" in narrowed and "苏州精工机械有限公司" not in narrowed
    assert http.get("/leads?status=bogus").status_code == 400
    fragment = http.htmx("GET", "/leads?q=振华", headers={"HX-Target": "ld-rows"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "上海振华重工" in fragment.text


def test_saved_views_are_per_user(page_client):
    http = page_client("li.na")
    saved = http.post("/leads/views", data={"name": "我的新线索", "query": "status=new&x=1"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/leads?status=new"
    page = http.get("/leads").text
    assert 'data-view="我的新线索"' in page and "/leads?status=new" in page
    other = page_client("liu.yang")  # another user with this cookie set is not shown it
    other.session.cookies.set("huike_lead_views", http.session.cookies.get("huike_lead_views"))
    assert "我的新线索" not in other.get("/leads").text
    assert http.post("/leads/views", data={"name": "", "query": ""}).status_code == 422
    http.post("/leads/views/delete", data={"name": "我的新线索"})
    assert 'data-view="我的新线索"' not in http.get("/leads").text


def test_quick_create_escapes_user_strings(page_client):
    http = page_client("li.na")
    form = http.get("/leads/new").text
    assert 'name="owner"' not in form  # a rep may not set the owner on creation
    pk = lead_id(http.post("/leads/new", data={
        "name": "<script>alert('x')</script>", "company": "<b>杭州</b>测试公司",
        "mobile": "139 1111 2222", "source": "website"}))
    page = http.get(f"/leads/{pk}?created=1").text
    assert "<script>alert(" not in page and "<b>杭州</b>" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;b&gt;杭州&lt;/b&gt;" in page
    listing = http.get("/leads?q=%3Cscript").text
    assert "&lt;script&gt;alert(" in listing and "<script>alert(" not in listing


def test_quick_create_reports_bad_fields(page_client):
    http = page_client("li.na")
    answer = http.post("/leads/new", data={"name": "", "mobile": "12", "source": "website"})
    assert answer.status_code == 422
    assert 'data-error="name"' in answer.text and 'data-error="mobile"' in answer.text
    htmx = http.htmx("POST", "/leads/new", data={"name": "王五", "email": "not-an-email"})
    assert htmx.status_code == 422 and 'data-error="email"' in htmx.text


def test_xsrf_missing_is_refused(page_client):
    http = page_client("li.na")
    del http.session.headers["X-XSRF-Token"]
    before = len(owned_by("li.na"))
    answer = http.post("/leads/new", data={"name": "无令牌", "source": "website"})
    assert answer.status_code == 403 and "XSRF" in answer.text
    wrong = http.post("/leads/new", data={"name": "错令牌", "_xsrf": "0" * 64})
    assert wrong.status_code == 403
    assert len(owned_by("li.na")) == before


def test_read_only_owner_is_text_and_a_forged_write_is_refused(page_client):
    from modules.base.models import User

    http = page_client("li.na")
    pk = owned_by("li.na")[0]
    page = http.get(f"/leads/{pk}").text
    assert 'name="owner"' not in page and 'data-field="owner" data-level="read"' in page
    assert 'name="company"' in page  # writable fields are inputs
    someone = User.get(User.login == "liu.yang").id
    refused = http.post(f"/leads/{pk}", data={"name": "张伟", "owner": str(someone)})
    assert refused.status_code == 403
    assert "无权修改这些字段" in refused.text and "<code>owner</code>" in refused.text
    assert owned_by("li.na")[0] == pk  # still li.na's


def test_manager_edits_owner(page_client):
    from modules.base.models import User
    from modules.leads.models import Lead

    http = page_client("wang.fang")
    pk = owned_by("li.na")[-1]
    page = http.get(f"/leads/{pk}").text
    assert 'name="owner"' in page
    target = User.get(User.login == "chen.jing").id
    lead = Lead.get_by_id(pk)
    answer = http.post(f"/leads/{pk}", data={"name": lead.name, "owner": str(target)})
    assert answer.status_code == 303, answer.text[:300]
    assert Lead.get_by_id(pk).owner_id == target


def test_hidden_fields_are_absent_and_masked_show_the_mask(page_client, restricted):
    from modules.leads.models import Lead

    lead = Lead.get(Lead.budget == 800000)  # IA demo lead 张伟, need "产线 PLC 改造，20 台"
    http = page_client("web.budgetless")
    for path in ("/leads", f"/leads/{lead.id}"):
        page = http.get(path)
        assert page.status_code == 200, page.text[:300]
        assert "800,000" not in page.text and "800000" not in page.text
        assert "产线 PLC" not in page.text
        assert 'name="budget"' not in page.text and 'data-field="budget"' not in page.text
        assert "13800138001" not in page.text.replace(" ", "").replace("-", "")
    detail = http.get(f"/leads/{lead.id}").text
    assert 'data-field="mobile" data-level="masked"' in detail
    info = detail.split('id="ld-info"')[1].split("</form>")[0]
    assert not re.search(r'<(input|select|textarea)(?![^>]*name="_xsrf")', info)  # read-only


def test_status_move_asks_for_missing_fields_in_place(page_client):
    from modules.leads.models import Lead

    http = page_client("li.na")
    pk = lead_id(http.post("/leads/new", data={"name": "状态测试", "mobile": "13922223333",
                                               "source": "website"}))
    refused = http.htmx("POST", f"/leads/{pk}/status", data={"status": "lost"})
    assert refused.status_code == 422
    assert 'id="ld-status"' in refused.text and 'name="lost_reason"' in refused.text
    assert 'data-missing="lost_reason"' in refused.text
    done = http.post(f"/leads/{pk}/status", data={"status": "lost", "lost_reason": "预算不足"})
    assert done.status_code == 303
    assert Lead.get_by_id(pk).status == "lost"


def test_activity_logged_on_the_timeline(page_client):
    http = page_client("li.na")
    pk = owned_by("li.na")[0]
    answer = http.post(f"/leads/{pk}/activities", data={"kind": "call", "subject": "首次电话<i>"})
    assert answer.status_code == 303, answer.text[:300]
    page = http.get(f"/leads/{pk}").text
    assert "首次电话&lt;i&gt;" in page
    missing = http.post(f"/leads/{pk}/activities", data={"kind": "visit", "subject": "拜访"})
    assert missing.status_code == 422 and "address" in missing.text


def test_pool_claim_and_release(page_client):
    from modules.leads.models import Lead

    http = page_client("li.na")
    pk = lead_id(http.post("/leads/new", data={"name": "公海测试", "mobile": "13933334444",
                                               "source": "website"}))
    assert http.post(f"/leads/{pk}/release", data={"reason": "不跟了"}).status_code == 303
    assert Lead.get_by_id(pk).owner_id is None
    other = page_client("liu.yang")
    pool = other.get("/leads/pool")
    assert pool.status_code == 200 and f'data-lead="{pk}"' in pool.text
    claimed = other.htmx("POST", f"/leads/{pk}/claim")
    assert claimed.status_code == 200 and 'data-claimed="1"' in claimed.text
    again = http.htmx("POST", f"/leads/{pk}/claim")
    assert again.status_code == 409
    assert page_client("hu.bin").get("/leads/pool").status_code == 403


def test_merge_picks_each_field(page_client):
    from modules.leads.models import Lead

    rep = page_client("li.na")
    first = lead_id(rep.post("/leads/new", data={"name": "合并甲", "company": "甲公司",
                                                 "mobile": "13944445555", "source": "expo"}))
    second = lead_id(rep.post("/leads/new", data={"name": "合并乙", "company": "乙公司",
                                                  "email": "yi@example.com",
                                                  "source": "website"}))
    assert rep.get(f"/leads/merge?ids={first},{second}").status_code == 403  # reps: no right
    http = page_client("wang.fang")
    page = http.get(f"/leads/merge?ids={first},{second}").text
    assert 'name="pick_company"' in page
    answer = http.post("/leads/merge", data={"ids": [str(first), str(second)],
                                             "target": str(first),
                                             "pick_company": str(second),
                                             "pick_email": str(second)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"/leads/{first}")
    assert Lead.get_by_id(first).company == "乙公司"
    assert Lead.get_by_id(second).merged_into == first
    assert http.get("/leads/merge?ids=1").status_code == 400


def test_convert_creates_account_contact_and_deal(page_client):
    from modules.leads.models import Lead

    http = page_client("li.na")
    pk = lead_id(http.post("/leads/new", data={"name": "转化测试", "company": "转化测试科技有限公司",
                                               "mobile": "13955556666", "source": "referral",
                                               "need": "十台设备"}))
    early = http.post(f"/leads/{pk}/convert", data={"account": "auto"})
    assert early.status_code == 422 and "data-refusal" in early.text  # SOP: not from new
    for status in ("contacted", "qualified"):
        assert http.post(f"/leads/{pk}/status", data={"status": status}).status_code == 303
    answer = http.post(f"/leads/{pk}/convert", data={
        "account": "auto", "with_opportunity": "1", "opportunity_name": "十台设备",
        "opportunity_amount": "200000"})
    assert answer.status_code == 200, answer.text[:400]
    lead = Lead.get_by_id(pk)
    assert lead.status == "converted" and lead.account_id and lead.opportunity_id
    assert f'data-account="{lead.account_id}"' in answer.text
    assert http.post(f"/leads/{pk}/convert", data={"account": "auto"}).status_code == 409
