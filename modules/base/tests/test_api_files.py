"""`/api/v1/attachments` and `/api/v1/tags` over HTTP with real signed-in users."""
from __future__ import annotations

import hashlib
from urllib.parse import unquote

import pytest

from modules.base.models import Tag, TagLink
from modules.base.tests import files
from modules.base.tests.conftest import USER_PASSWORD, make_rep
from tests.support import HttpClient, LiveServer, login, make_install


def post_file(client, data, content_type, filename="file.bin", model="contacts_account",
              res_id=None):
    return client.post("/api/v1/attachments",
                       data={"model": model, "res_id": str(res_id)},
                       files={"file": (filename, data, content_type)})


def test_upload_list_download_delete(rep_http, rep, install):
    data = files.pdf()
    created = post_file(rep_http, data, "application/pdf", "报价单（2026）.pdf", res_id=rep.account_id)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["filename"] == "报价单（2026）.pdf" and body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["created_by"] == rep.id

    listed = rep_http.get(
        f"/api/v1/attachments?model=contacts_account&res_id={rep.account_id}").json()
    assert [a["id"] for a in listed["attachments"]] == [body["id"]]

    download = rep_http.get(body["url"])
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "报价单（2026）.pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    assert rep_http.delete(body["url"]).status_code == 204
    assert rep_http.get(body["url"]).status_code == 404
    assert not (install.data_dir / "attachments" / body["sha256"][:2] / body["sha256"]).exists()


def test_text_download_names_its_charset(rep_http, rep):
    data = "客户名单：华东区\n".encode("gbk")
    body = post_file(rep_http, data, "text/plain", "名单.txt", res_id=rep.account_id).json()
    download = rep_http.get(body["url"])
    assert download.headers["Content-Type"] == "text/plain; charset=gbk"
    assert download.content == data


def test_traversal_filename_is_neutralised(rep_http, rep, install):
    created = post_file(rep_http, b"hello", "text/plain", "../../../../etc/cron.d/evil",
                        res_id=rep.account_id)
    assert created.status_code == 201, created.text
    assert created.json()["filename"] == "evil"
    stored = [p for p in (install.data_dir / "attachments").rglob("*") if p.is_file()]
    assert stored == [install.data_dir / "attachments" / created.json()["sha256"][:2]
                      / created.json()["sha256"]]


def test_bad_type_and_mismatch_are_415(rep_http, rep):
    refused = post_file(rep_http, b"<script>alert(1)</script>", "text/html", "x.html",
                        res_id=rep.account_id)
    assert refused.status_code == 415
    assert refused.json()["error"]["code"] == "unsupported_media_type"
    assert "file" in refused.json()["error"]["fields"]
    mismatch = post_file(rep_http, files.png(), "application/pdf", "fake.pdf",
                         res_id=rep.account_id)
    assert mismatch.status_code == 415
    assert "file" in mismatch.json()["error"]["fields"]


def test_unknown_record_and_missing_file_are_refused(rep_http, rep):
    unknown = post_file(rep_http, files.pdf(), "application/pdf", model="nope", res_id=1)
    assert unknown.status_code == 422 and "model" in unknown.json()["error"]["fields"]
    missing = post_file(rep_http, files.pdf(), "application/pdf", res_id=999999)
    assert missing.status_code == 404  # like a record outside the rep's scope
    no_file = rep_http.post("/api/v1/attachments", data={"model": "base_user", "res_id": "1"})
    assert no_file.status_code == 400 and "file" in no_file.json()["error"]["fields"]


def test_authentication_is_required(http, install):
    assert post_file(http, files.pdf(), "application/pdf", res_id=install.admin.id) \
        .status_code == 401
    assert http.get(f"/api/v1/attachments?model=base_user&res_id={install.admin.id}") \
        .status_code == 401
    assert http.get("/api/v1/tags").status_code == 401


def test_other_users_may_not_delete(rep_http, rep, install, server):
    from modules.base import services
    services.create_user("wang.fang", "王芳", USER_PASSWORD)
    other = HttpClient(server.base_url)
    login(other, "wang.fang", USER_PASSWORD)
    body = post_file(rep_http, files.pdf(), "application/pdf", res_id=rep.account_id).json()
    assert other.delete(body["url"]).status_code == 403
    assert rep_http.get(body["url"]).status_code == 200


@pytest.fixture
def small_server(tmp_path, database_url):
    """An install whose attachments may be at most 1 KiB."""
    with make_install(tmp_path / "small", database_url,
                      extra_config={"attachments": {"max_bytes": 1024}}) as inst:
        with LiveServer(inst.registry) as live:
            yield inst, live


def test_size_limit_is_413(small_server):
    from modules.base import services
    inst, live = small_server
    user = make_rep()
    client = HttpClient(live.base_url)
    login(client, "li.na", USER_PASSWORD)
    ok = post_file(client, b"x" * 1024, "text/plain", "ok.txt", res_id=user.account_id)
    assert ok.status_code == 201, ok.text
    big = post_file(client, b"x" * 1025, "text/plain", "big.txt", res_id=user.account_id)
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"
    assert "file" in big.json()["error"]["fields"]


def test_tags_lifecycle(admin_http, rep_http, rep):
    created = rep_http.post("/api/v1/tags", json={"name": "重点客户", "color": "#F5222D"})
    assert created.status_code == 201, created.text
    tag = created.json()
    assert tag == {"id": tag["id"], "name": "重点客户", "model": "", "color": "#f5222d"}
    assert rep_http.post("/api/v1/tags", json={"name": "重点客户"}).status_code == 409
    scoped = rep_http.post("/api/v1/tags", json={"name": "重点客户", "model": "base_division"})
    assert scoped.status_code == 201  # unique per model, not globally
    bad = rep_http.post("/api/v1/tags", json={"name": " ", "color": "red", "extra": 1})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"extra"}
    bad = rep_http.post("/api/v1/tags", json={"name": " ", "color": "red"})
    assert bad.status_code == 422 and "name" in bad.json()["error"]["fields"]

    link = rep_http.post(f"/api/v1/tags/{tag['id']}/links",
                         json={"model": "contacts_account", "res_id": rep.account_id})
    assert link.status_code == 201, link.text
    again = rep_http.post(f"/api/v1/tags/{tag['id']}/links",
                          json={"model": "contacts_account", "res_id": rep.account_id})
    assert again.status_code == 201 and TagLink.select().count() == 1
    wrong_model = rep_http.post(f"/api/v1/tags/{scoped.json()['id']}/links",
                                json={"model": "contacts_account", "res_id": rep.account_id})
    assert wrong_model.status_code == 422 and "model" in wrong_model.json()["error"]["fields"]
    on_record = rep_http.get(
        f"/api/v1/tags?model=contacts_account&res_id={rep.account_id}").json()["tags"]
    assert [t["name"] for t in on_record] == ["重点客户"]
    usable = rep_http.get("/api/v1/tags?model=contacts_account").json()["tags"]
    assert [t["id"] for t in usable] == [tag["id"]]

    assert rep_http.patch(f"/api/v1/tags/{tag['id']}", json={"name": "VIP"}).status_code == 403
    renamed = admin_http.patch(f"/api/v1/tags/{tag['id']}", json={"name": "战略客户"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "战略客户"

    path = f"/api/v1/tags/{tag['id']}/links/contacts_account/{rep.account_id}"
    assert rep_http.delete(path).status_code == 204
    assert rep_http.delete(path).status_code == 404
    assert admin_http.delete(f"/api/v1/tags/{tag['id']}").status_code == 204
    assert Tag.get_or_none(Tag.id == tag["id"]) is None


def test_attachments_and_tags_follow_the_parent_records_scope(rep_http, rep, server):
    """Another rep cannot list, download, upload or tag on an account outside their scope:
    404, as if it did not exist."""
    body = post_file(rep_http, files.pdf(), "application/pdf", res_id=rep.account_id).json()
    make_rep("zhao.min", "赵敏")
    other = HttpClient(server.base_url)
    login(other, "zhao.min", USER_PASSWORD)
    listing = f"/api/v1/attachments?model=contacts_account&res_id={rep.account_id}"
    assert other.get(listing).status_code == 404
    assert other.get(body["url"]).status_code == 404
    assert post_file(other, files.pdf(), "application/pdf",
                     res_id=rep.account_id).status_code == 404
    tag = other.post("/api/v1/tags", json={"name": "试探"}).json()
    assert other.post(f"/api/v1/tags/{tag['id']}/links",
                      json={"model": "contacts_account",
                            "res_id": rep.account_id}).status_code == 404
    assert other.get(
        f"/api/v1/tags?model=contacts_account&res_id={rep.account_id}").status_code == 404
