"""The shell over HTTP: sign-in (with TOTP for admins), redirects, XSRF, errors, language."""
from __future__ import annotations

import re


def test_rep_logs_in_and_sees_the_dashboard(page_client):
    client = page_client("li.na")
    answer = client.get("/")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "李娜" in answer.text
    assert "X-Huike-I18n-Missing" not in answer.headers


def test_no_session_redirects_to_login_with_next(anon_client):
    client = anon_client()
    answer = client.get("/leads?q=1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=%2Fleads%3Fq%3D1"
    htmx = client.htmx("GET", "/")
    assert htmx.headers.get("HX-Redirect", "").startswith("/login?next=")


def test_wrong_password_is_refused_on_the_form(anon_client):
    client = anon_client()
    token = client.form_token("/login")
    answer = client.post("/login", data={"_xsrf": token, "login": "li.na", "password": "nope"})
    assert answer.status_code == 401
    assert "登录名或密码错误" in answer.text
    assert "huike_session" not in client.session.cookies


def test_login_form_needs_its_xsrf_token(anon_client):
    client = anon_client()
    client.get("/login")
    answer = client.post("/login", data={"login": "li.na", "password": "Huike-demo-2026"})
    assert answer.status_code == 403
    assert "huike_session" not in client.session.cookies


def test_admin_enrols_totp_then_needs_the_code(page_client, anon_client):
    first = page_client("admin")  # enrols a TOTP device through /login/totp
    assert first.get("/").status_code == 200
    client = anon_client()
    token = client.form_token("/login")
    from tests.support import ADMIN_PASSWORD
    answer = client.post("/login", data={"_xsrf": token, "login": "admin",
                                         "password": ADMIN_PASSWORD})
    assert answer.status_code == 401
    assert "动态验证码" in answer.text
    again = page_client("admin")  # the helper answers with a fresh pyotp code
    assert again.get("/").status_code == 200


def test_page_writes_need_the_session_xsrf_token(page_client):
    client = page_client("li.na")
    del client.session.headers["X-XSRF-Token"]
    refused = client.post("/logout", data={})
    assert refused.status_code == 403
    assert client.get("/").status_code == 200
    done = client.post("/logout", data={"_xsrf": client.xsrf})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_errors_render_as_html_pages_and_htmx_fragments(page_client):
    client = page_client("li.na")
    missing = client.get("/static/no-such-file.js")
    assert missing.status_code == 404
    out_of_range = client.get("/lang/xx")
    assert out_of_range.status_code == 404
    assert out_of_range.headers["Content-Type"].startswith("text/html")
    assert 'data-status="404"' in out_of_range.text
    fragment = client.htmx("GET", "/lang/xx")
    assert fragment.status_code == 404
    assert fragment.headers["HX-Retarget"] == "#hk-messages"
    assert "<html" not in fragment.text and 'role="alert"' in fragment.text


def test_language_switch_changes_labels_and_menu(page_client):
    client = page_client("li.na")
    chinese = client.get("/")
    assert 'data-menu="leads"' in chinese.text and ">线索<" in chinese.text
    switched = client.get("/lang/en?next=/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    english = client.get("/")
    assert ">Leads<" in english.text and "Log out" in english.text
    assert 'lang="en"' in english.text
    assert client.get("/lang/en?next=//evil.example/").headers["Location"] == "/"


def test_menu_is_filtered_by_permission(page_client):
    rep = page_client("li.na").get("/").text
    auditor = page_client("deng.li").get("/").text
    assert 'data-menu="admin_roles"' not in rep
    assert 'data-menu="admin_audit"' not in rep
    assert 'data-menu="admin_audit"' in auditor
    assert 'data-menu="leads"' not in auditor


def test_pages_send_security_headers_and_no_cdn(page_client):
    answer = page_client("li.na").get("/")
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert not re.search(r'(src|href)="(https?:)?//', answer.text)  # no CDN, no outside URL
    assert "<script>" not in answer.text  # no inline scripts
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', answer.text):
        assert page_client("li.na").get(asset).status_code == 200, asset


def test_a_pending_second_factor_session_reaches_only_the_enrolment(anon_client):
    import pyotp

    from modules.base import services
    from tests.support import ADMIN_PASSWORD

    services.create_user("ops.admin", "运维管理员", ADMIN_PASSWORD, is_admin=True)
    client = anon_client()
    token = client.form_token("/login")
    answer = client.post("/login", data={"_xsrf": token, "login": "ops.admin",
                                         "password": ADMIN_PASSWORD, "next": "/leads"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/login/totp?next=%2Fleads"
    blocked = client.get("/")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/login/totp")
    assert client.get("/api/v1/leads").status_code == 401  # the API agrees: no full session
    page = client.get("/login/totp?next=/leads")
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page.text).group(1)
    token = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    wrong = client.post("/login/totp?next=/leads", data={"_xsrf": token, "code": "000000"})
    assert wrong.status_code == 422 and "验证码错误" in wrong.text
    right = client.post("/login/totp?next=/leads",
                        data={"_xsrf": token, "code": pyotp.TOTP(secret).now()})
    assert right.status_code == 303 and right.headers["Location"] == "/leads"
    assert client.get("/").status_code == 200


def test_htmx_writes_carry_the_token_in_a_header(page_client):
    client = page_client("wang.fang")
    page = client.get("/").text
    header = re.search(r"hx-headers='\{\"X-XSRF-Token\": \"([0-9a-f]+)\"\}'", page).group(1)
    assert header == client.xsrf
    forged = client.htmx("POST", "/logout", headers={"X-XSRF-Token": "0" * 64})
    assert forged.status_code == 403 and forged.headers["HX-Retarget"] == "#hk-messages"
    done = client.htmx("POST", "/logout", headers={"X-XSRF-Token": header})
    assert done.status_code == 200 and done.headers["HX-Redirect"] == "/login"
