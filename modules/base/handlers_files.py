"""`/api/v1/attachments` and `/api/v1/tags`.

Until the security door's record scopes exist, any signed-in user may list, download and
upload attachments and tags of any existing record; deleting an attachment is for its
uploader or an administrator, renaming or deleting a tag for administrators."""
from __future__ import annotations

from core.web.base import APIError
from modules.base import attachments, tags
from modules.base.handlers import BaseApiHandler, service_errors
from modules.base.services import as_id, get_record


class AttachmentsHandler(BaseApiHandler):
    """`GET ?model=&res_id=` lists a record's attachments; `POST` multipart form with fields
    `model`, `res_id` and file `file` uploads one (201)."""

    def get(self) -> None:
        self.require_user()
        model = self.get_query_argument("model", "")
        with service_errors():
            record = get_record(self.registry, model, self.get_query_argument("res_id", ""),
                                self.ctx)
        rows = attachments.for_record(model, record._pk)
        self.write_json({"attachments": [attachments.serialise(r) for r in rows]})

    def post(self) -> None:
        self.require_user()
        files = self.request.files.get("file") or []
        if len(files) != 1:
            raise APIError(400, "须上传一个文件（表单字段 file） / send exactly one file in form "
                                "field 'file'", fields={"file": "required"})
        upload = files[0]
        with service_errors():
            row = attachments.upload(
                self.ctx, model=self.get_body_argument("model", ""),
                res_id=self.get_body_argument("res_id", ""), filename=upload.filename,
                content_type=upload.content_type, data=upload.body)
        self.write_json(attachments.serialise(row), 201)


class AttachmentHandler(BaseApiHandler):
    """`GET` downloads the file (as an attachment, RFC 5987 filename); `DELETE` removes it."""

    def get(self, attachment_id: str) -> None:
        self.require_user()
        with service_errors():
            row = attachments.get(int(attachment_id))
            get_record(self.registry, row.model, row.res_id, self.ctx)  # the parent's door
            data = attachments.read(self.app_settings, row)
        content_type = row.content_type
        if row.meta.get("encoding"):
            content_type += f"; charset={row.meta['encoding']}"
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", attachments.content_disposition(row.filename))
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("X-Attachment-Sha256", row.sha256)
        self.finish(data)

    def delete(self, attachment_id: str) -> None:
        self.require_user()
        with service_errors():
            attachments.delete(self.ctx, attachments.get(int(attachment_id)))
        self.set_status(204)
        self.finish()


class TagsHandler(BaseApiHandler):
    """`GET ?model=` the tags usable on a model (all without it), or `?model=&res_id=` the
    tags on one record; `POST {"name", "model"?, "color"?}` creates a tag (201)."""

    def get(self) -> None:
        self.require_user()
        model = self.get_query_argument("model", "")
        res_id = self.get_query_argument("res_id", None)
        if res_id is not None:
            with service_errors():
                record = get_record(self.registry, model, res_id, self.ctx)
            rows = tags.tags_of(model, record._pk)
        else:
            rows = tags.list_tags(model or None)
        self.write_json({"tags": [tags.serialise(t) for t in rows]})

    def post(self) -> None:
        self.require_user()
        data = self.body({"name", "model", "color"}, {"name"})
        with service_errors():
            tag = tags.create_tag(self.registry, data["name"], model=data.get("model"),
                                  color=data.get("color"))
        self.write_json(tags.serialise(tag), 201)


class TagHandler(BaseApiHandler):
    """`PATCH {"name"?, "color"?}` renames or recolours; `DELETE` removes the tag and its
    links (administrators: a tag is shared by everyone)."""

    def patch(self, tag_id: str) -> None:
        self.require_admin()
        data = self.body({"name", "color"})
        with service_errors():
            tag = tags.update_tag(tags.get_tag(int(tag_id)), data)
        self.write_json(tags.serialise(tag))

    def delete(self, tag_id: str) -> None:
        self.require_admin()
        with service_errors():
            tags.delete_tag(tags.get_tag(int(tag_id)))
        self.set_status(204)
        self.finish()


class TagLinksHandler(BaseApiHandler):
    """`POST {"model", "res_id"}` puts the tag on a record (idempotent, 201)."""

    def post(self, tag_id: str) -> None:
        self.require_user()
        data = self.body({"model", "res_id"}, {"model", "res_id"})
        with service_errors():
            tags.attach(self.registry, tags.get_tag(int(tag_id)), data["model"], data["res_id"],
                        self.ctx)
        self.write_json({"tag_id": int(tag_id), "model": data["model"],
                         "res_id": as_id(data["res_id"], "res_id")}, 201)


class TagLinkHandler(BaseApiHandler):
    """`DELETE /api/v1/tags/<id>/links/<model>/<res_id>` takes the tag off (204, 404 if it
    was not there)."""

    def delete(self, tag_id: str, model: str, res_id: str) -> None:
        self.require_user()
        with service_errors():
            get_record(self.registry, model, res_id, self.ctx, "write")
            removed = tags.detach(tags.get_tag(int(tag_id)), model, int(res_id))
        if not removed:
            raise APIError(404, "该记录没有这个标签 / the record does not carry this tag")
        self.set_status(204)
        self.finish()
