"""Lead import over HTTP.

    POST /api/v1/leads/imports              multipart: `file` + optional `policy`
                                            (skip|merge|create), `dry_run`, `mapping` (saved
                                            name), `columns` (JSON header→field),
                                            `save_mapping` (name), `owner` (user id)
                                            → 202 {"run": {...}, "resumed": bool}
    GET  /api/v1/leads/imports              the caller's runs (scoped)
    GET  /api/v1/leads/imports/<id>         progress: status, total, processed, percent, counts
    POST /api/v1/leads/imports/<id>/resume  restart an interrupted or failed run → 202
    GET  /api/v1/leads/imports/<id>/errors  the error report (CSV, UTF-8 with BOM)
    GET/POST /api/v1/leads/import-mappings  saved column mappings of the division

An oversize file answers 413, an unreadable one 422 (nothing is kept either way).
"""
from __future__ import annotations

import json

from core.web.base import APIError
from modules.leads.handlers import LeadsApiHandler


class ImportsHandler(LeadsApiHandler):
    def get(self) -> None:
        from modules.leads.importer.service import list_runs

        self.write_json({"items": list_runs(self.ctx)})

    def _options(self) -> dict:
        options = {}
        for name in ("policy", "dry_run", "mapping", "save_mapping", "owner"):
            value = self.get_body_argument(name, None)
            if value not in (None, ""):
                options[name] = value
        raw = self.get_body_argument("columns", None)
        if raw:
            try:
                options["columns"] = json.loads(raw)
            except json.JSONDecodeError:
                raise APIError(422, "columns 不是合法 JSON / columns is not valid JSON",
                               fields={"columns": "invalid"}) from None
        return options

    def post(self) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        files = self.request.files.get("file") or []
        if len(files) != 1:
            raise APIError(400, "请上传一个文件（字段 file）/ upload one file as `file`",
                           fields={"file": "required"})
        upload = files[0]
        options = self._options()
        run, resumed = service.start_upload(self.ctx, upload["body"], upload["filename"],
                                            options)
        service.enqueue(self.registry, run.id)
        self.write_json({"run": service.as_dict(service.get_run(self.ctx, run.id)),
                         "resumed": resumed}, 202)


class ImportHandler(LeadsApiHandler):
    def get(self, run_id: str) -> None:
        from modules.leads.importer.service import as_dict, get_run

        self.write_json(as_dict(get_run(self.ctx, self.pk(run_id))))


class ResumeHandler(LeadsApiHandler):
    def post(self, run_id: str) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        run = service.get_run(self.ctx, self.pk(run_id))
        if run.status == "done":
            raise APIError(409, "导入已完成 / the import is finished", code="conflict")
        service.enqueue(self.registry, run.id)
        self.write_json({"run": service.as_dict(service.get_run(self.ctx, run.id))}, 202)


class ErrorsHandler(LeadsApiHandler):
    def get(self, run_id: str) -> None:
        from modules.leads.importer.report import write_csv

        write_csv(self, run_id)


class MappingsHandler(LeadsApiHandler):
    def get(self) -> None:
        from modules.leads.importer.mapping import list_saved

        self.write_json({"items": list_saved(self.ctx)})

    def post(self) -> None:
        from modules.leads.importer.mapping import save

        data = self.json_body()
        self.write_json(save(self.ctx, data.get("name"), data.get("columns")), 201)
