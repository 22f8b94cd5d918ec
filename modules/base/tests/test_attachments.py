"""Attachments at the service level: limits (size 413, type 415, bytes vs declared type 415),
safe filenames, content-addressed storage, and deleting the file with its last row."""
from __future__ import annotations

import pytest

from modules.base import attachments as att
from modules.base import services
from modules.base.tests import files
from security.context import Context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def ctx(install):
    return Context(registry=install.registry, user=install.admin)


def upload(ctx, data, content_type, filename="file.bin", model="base_user", res_id=None):
    return att.upload(ctx, model=model, res_id=res_id or ctx.user.id, filename=filename,
                      content_type=content_type, data=data)


@pytest.mark.parametrize("maker, ctype, name", [
    (files.pdf, "application/pdf", "报价单.pdf"),
    (files.png, "image/png", "logo.png"),
    (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", "photo.jpg"),
    (lambda: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif", "a.gif"),
    (files.plain_zip, "application/zip", "a.zip"),
    (files.xlsx, XLSX, "客户清单.xlsx"),
    (lambda: "客户,金额\n上海宏泰,128000\n".encode("utf-8"), "text/csv", "客户.csv"),
    (lambda: "客户名单：华东区".encode("gbk"), "text/plain", "名单.txt"),
])
def test_accepted_types_are_stored_and_read_back(ctx, install, maker, ctype, name):
    data = maker()
    row = upload(ctx, data, ctype, name)
    assert (row.filename, row.content_type, row.size) == (name, ctype, len(data))
    path = att.blob_path(install.settings, row.sha256)
    assert path == install.data_dir / "attachments" / row.sha256[:2] / row.sha256
    assert path.read_bytes() == data
    assert att.read(install.settings, att.get(row.id)) == data


def test_text_encoding_is_recorded(ctx):
    assert upload(ctx, "华东".encode("gbk"), "text/plain").meta == {"encoding": "gbk"}
    assert upload(ctx, "华东".encode("utf-8"), "text/plain").meta == {"encoding": "utf-8"}


def test_octet_stream_falls_back_to_the_extension(ctx):
    assert upload(ctx, files.pdf(), "application/octet-stream", "合同.pdf").content_type == \
        "application/pdf"
    assert upload(ctx, files.pdf(), None, "合同.PDF").content_type == "application/pdf"


def test_size_limit_is_413(ctx, install):
    limit = install.settings["attachments"]["max_bytes"]
    with pytest.raises(att.TooLarge) as caught:
        upload(ctx, b"%PDF-" + b"0" * limit, "application/pdf", "big.pdf")
    assert caught.value.status == 413 and caught.value.field == "file"
    assert not (install.data_dir / "attachments").exists()


@pytest.mark.parametrize("ctype", ["application/x-msdownload", "text/html", "image/svg+xml"])
def test_type_not_allowed_is_415(ctx, ctype):
    with pytest.raises(att.UnsupportedType) as caught:
        upload(ctx, b"MZ\x90\x00", ctype, "x")
    assert caught.value.status == 415 and caught.value.field == "file"


@pytest.mark.parametrize("maker, ctype", [
    (files.png, "application/pdf"),
    (files.pdf, "image/png"),
    (lambda: b"plain words", "image/jpeg"),
    (files.plain_zip, XLSX),
    (files.xlsx, DOCX),
    (lambda: b"PK\x03\x04 not really a zip", XLSX),
    (files.png, "text/plain"),
    (lambda: b"abc\x00def", "text/plain"),
    (lambda: b"\xff\xfe\xfd\xfc\x80\x81", "text/csv"),
])
def test_bytes_not_matching_the_declared_type_are_415(ctx, maker, ctype):
    with pytest.raises(att.UnsupportedType) as caught:
        upload(ctx, maker(), ctype)
    assert caught.value.field == "file"


def test_empty_file_and_unknown_record_are_refused(ctx):
    with pytest.raises(services.BaseError) as caught:
        upload(ctx, b"", "text/plain")
    assert caught.value.field == "file"
    with pytest.raises(services.BaseError) as caught:
        upload(ctx, files.pdf(), "application/pdf", model="no_such_model")
    assert caught.value.field == "model"
    with pytest.raises(services.BaseError) as caught:
        upload(ctx, files.pdf(), "application/pdf", res_id=987654)
    assert caught.value.field == "res_id"


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
    ("/abs/path/报价单.pdf", "报价单.pdf"),
    ("..", "file"),
    ("", "file"),
    (None, "file"),
    (".hidden", "hidden"),
    ('a<b>:"c|d?*.txt', "a_b___c_d__.txt"),
    ("line\nbreak\x00.txt", "line_break_.txt"),
    ("汇客 2026 年度合同（终版）.docx", "汇客 2026 年度合同（终版）.docx"),
])
def test_filenames_are_sanitised_and_chinese_kept(raw, expected):
    assert att.sanitise_filename(raw) == expected


def test_long_filenames_keep_their_extension():
    name = att.sanitise_filename("合" * 300 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= 255


def test_content_disposition_is_rfc5987():
    header = att.content_disposition("报价单 v2.pdf")
    assert header == ("attachment; filename=\"___ v2.pdf\"; "
                      "filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%20v2.pdf")


def test_identical_files_share_storage_and_the_last_delete_removes_it(ctx, install):
    data = files.pdf()
    first = upload(ctx, data, "application/pdf", "a.pdf")
    second = upload(ctx, data, "application/pdf", "b.pdf")
    path = att.blob_path(install.settings, first.sha256)
    assert first.sha256 == second.sha256 and path.exists()
    att.delete(ctx, first)
    assert path.exists()
    att.delete(ctx, second)
    assert not path.exists()
    assert not list(path.parent.glob(".upload-*"))


def test_only_the_uploader_or_an_admin_may_delete(ctx, install):
    from modules.base.tests.conftest import make_rep

    rep = make_rep()
    other = services.create_user("wang.fang", "王芳")
    rep_ctx = Context(registry=install.registry, user=rep)
    row = att.upload(rep_ctx, model="contacts_account", res_id=rep.account_id, filename="a.pdf",
                     content_type="application/pdf", data=files.pdf())
    with pytest.raises(services.Forbidden):
        att.delete(Context(registry=install.registry, user=other), row)
    att.delete(ctx, row)  # the admin may
    assert att.for_record("contacts_account", rep.account_id) == []


def test_a_failed_insert_leaves_no_orphan_file(install):
    """The row cannot be written (the uploader was deleted meanwhile): the file goes too."""
    import peewee

    from modules.base.models import User
    ghost = services.create_user("ghost", "离职员工", is_admin=True)  # passes the door
    User.delete().where(User.id == ghost.id).execute()
    ghost_ctx = Context(registry=install.registry, user=ghost)
    with pytest.raises(peewee.IntegrityError):
        att.upload(ghost_ctx, model="base_user", res_id=install.admin.id, filename="a.pdf",
                   content_type="application/pdf", data=files.pdf())
    stored = [p for p in (install.data_dir / "attachments").rglob("*") if p.is_file()]
    assert stored == []
