"""Attachments: files hung on any record `(model, res_id)`, stored content-addressed under
`<data-dir>/attachments/<sha256[:2]>/<sha256>` (written to a temp file, then renamed, so a
reader never sees half a file; identical uploads share one file).

An upload is refused when it is larger than `attachments.max_bytes` (413), when its type is
not in `attachments.allowed_types` (415), or when its bytes are not what the declared type
says (415: magic numbers for PDF/PNG/JPEG/GIF/ZIP/OOXML; text must decode as UTF-8 or GBK).
"""
from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

from core.db import atomic, on_commit
from modules.base.models import Attachment
from modules.base.services import BaseError, Forbidden, NotFound, get_record

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
OOXML_PARTS = {  # an Office Open XML file is a zip holding these parts
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        "word/document.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation":
        "ppt/presentation.xml",
}
TEXT_TYPES = {"text/plain", "text/csv"}
TEXT_ENCODINGS = ("utf-8-sig", "gbk")
ALL_SIGNATURES = tuple(s for sigs in SIGNATURES.values() for s in sigs)
FORBIDDEN_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


class TooLarge(BaseError):
    status = 413


class UnsupportedType(BaseError):
    status = 415


# ---------------------------------------------------------------- names and types
def sanitise_filename(raw: str | None) -> str:
    """A safe display name: no directories (`../`, `C:\\`), no control or reserved
    characters, no leading dots, at most 255 UTF-8 bytes; Chinese characters are kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = FORBIDDEN_CHARS.sub("_", name).strip().lstrip(".").strip()
    if not name:
        return "file"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:32]
    while len(f"{stem}.{ext}".encode("utf-8")) > 255 and len(stem) > 1:
        stem = stem[:-1]
    name = f"{stem}.{ext}" if ext else stem
    return name or "file"


def declared_type(content_type: str | None, filename: str) -> str:
    """The type the client declared (parameters dropped); a missing or generic
    `application/octet-stream` falls back to the filename's extension."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if not ctype or ctype == "application/octet-stream":
        ctype = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
    return ctype


def check_content(ctype: str, data: bytes) -> dict:
    """Raise `UnsupportedType` unless `data` really is `ctype`; return facts worth keeping
    (the text encoding). Types without a rule here are accepted on the allowed list alone."""
    mismatch = UnsupportedType(f"文件内容与类型 {ctype} 不符 / the file's bytes are not {ctype}",
                               "file")
    if ctype in SIGNATURES:
        if not data.startswith(SIGNATURES[ctype]):
            raise mismatch
    elif ctype in OOXML_PARTS:
        if not data.startswith(SIGNATURES["application/zip"]):
            raise mismatch
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError):
            raise mismatch from None
        if "[Content_Types].xml" not in names or OOXML_PARTS[ctype] not in names:
            raise mismatch
    elif ctype in TEXT_TYPES:
        encoding = text_encoding(data)
        if encoding is None:
            raise UnsupportedType("文本文件须为 UTF-8 或 GBK 编码 / text must be UTF-8 or GBK",
                                  "file")
        return {"encoding": encoding}
    return {}


def text_encoding(data: bytes) -> str | None:
    """`utf-8` or `gbk` when `data` is text in that encoding (no binary signature, no
    control characters besides tab, newlines and form feed); else None."""
    if data.startswith(ALL_SIGNATURES):
        return None
    for encoding in TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text) or "\x7f" in text:
            return None
        return "utf-8" if encoding == "utf-8-sig" else encoding
    return None


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the RFC 5987 `filename*` for the rest."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return (f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")


# ---------------------------------------------------------------- storage
def storage_root(settings) -> Path:
    return Path(settings.data_dir) / "attachments"


def blob_path(settings, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return storage_root(settings) / sha256[:2] / sha256


def write_blob(settings, data: bytes) -> str:
    """Store `data` under its digest (temp file in the same folder, fsync, rename)."""
    sha = hashlib.sha256(data).hexdigest()
    target = blob_path(settings, sha)
    if target.exists() and target.stat().st_size == len(data):
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return sha


def _drop_blob_if_unused(settings, sha: str) -> None:
    if not Attachment.select().where(Attachment.sha256 == sha).exists():
        blob_path(settings, sha).unlink(missing_ok=True)


# ---------------------------------------------------------------- services
def upload(ctx, *, model: str, res_id, filename: str | None, content_type: str | None,
           data: bytes) -> Attachment:
    """Check and store one file for record `(model, res_id)`; return the new row."""
    settings = ctx.registry.settings
    limits = settings["attachments"]
    if len(data) > limits["max_bytes"]:
        raise TooLarge(f"文件过大 / file exceeds {limits['max_bytes']} bytes", "file")
    if not data:
        raise BaseError("文件为空 / the file is empty", "file")
    record = get_record(ctx.registry, model, res_id, ctx, "write")
    name = sanitise_filename(filename)
    ctype = declared_type(content_type, name)
    if ctype not in limits["allowed_types"]:
        raise UnsupportedType(f"不允许的文件类型 / file type {ctype} is not allowed", "file")
    meta = check_content(ctype, data)
    sha = write_blob(settings, data)
    try:
        with atomic():
            row = Attachment.create(model=model, res_id=record._pk, filename=name,
                                    content_type=ctype, size=len(data), sha256=sha,
                                    created_by=ctx.user_id, meta=meta)
            # A concurrent delete of the last row sharing this digest may have removed the
            # file between write and commit: put it back once this row is visible.
            on_commit(lambda: blob_path(settings, sha).exists() or write_blob(settings, data))
    except Exception:
        _drop_blob_if_unused(settings, sha)  # no row ended up pointing at it
        raise
    return row


def for_record(model: str, res_id: int) -> list[Attachment]:
    return list(Attachment.select().where((Attachment.model == model)
                                          & (Attachment.res_id == res_id))
                .order_by(Attachment.created_at, Attachment.id))


def get(attachment_id) -> Attachment:
    row = Attachment.get_or_none(Attachment.id == attachment_id)
    if row is None:
        raise NotFound(f"没有这个附件 / no attachment {attachment_id}", "id")
    return row


def read(settings, row: Attachment) -> bytes:
    path = blob_path(settings, row.sha256)
    if not path.exists():
        raise NotFound(f"附件文件缺失 / the stored file of attachment {row.id} is missing", "id")
    return path.read_bytes()


def delete(ctx, row: Attachment) -> None:
    """Delete an attachment (its uploader or an administrator); the file goes when no other
    attachment shares it."""
    if not (ctx.is_admin or (ctx.user_id is not None and row.created_by_id == ctx.user_id)):
        raise Forbidden("只有上传者或管理员可以删除附件 / only the uploader or an administrator "
                        "may delete an attachment", "id")
    settings, sha = ctx.registry.settings, row.sha256
    with atomic():
        row.delete_instance()
        on_commit(lambda: _drop_blob_if_unused(settings, sha))


def serialise(row: Attachment) -> dict:
    return {"id": row.id, "model": row.model, "res_id": row.res_id, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
            "created_by": row.created_by_id, "created_at": row.created_at.isoformat(),
            "url": f"/api/v1/attachments/{row.id}"}
