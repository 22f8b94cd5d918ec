"""The lead import wizard: upload → map columns → preview errors (dry run) → run with a live
progress bar → error report. Every step calls the import service the API and CLI use
(`importer.service`: rights, saved mappings, runs as jobs with progress, resumable), so the
wizard adds no rule of its own.

    GET  /leads/import                  upload form, recent runs
    POST /leads/import                  the file (CSV UTF-8/GBK or XLSX) → the mapping step
    POST /leads/import/map              re-show the mapping step with a saved mapping applied
    POST /leads/import/preview          the chosen columns → a dry run → its page
    GET  /leads/import/<id>             a run: progress (polled by htmx), counts, problems
    GET  /leads/import/<id>/progress    the progress fragment alone (what htmx polls)
    POST /leads/import/<id>/commit      a finished dry run → the real run of the same file
    GET  /leads/import/<id>/errors.csv  the error report (UTF-8 with BOM, under the door)

Between the upload and the dry run the file waits under `<data dir>/imports/web/<sha256>.<ext>`
(outside the import's own upload folder, so finishing the dry run does not delete it); the
mapping step refers to it by that name plus an HMAC keyed by the session's XSRF token, so
only the session that uploaded it can use it. The real run copies it into the import's upload
folder (removed when the run finishes) and drops the staged copy.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path

from core.web.base import APIError
from modules.leads.validation import INPUT_FIELDS
from modules.web.pages.leads_common import LeadsPage

TOKEN = re.compile(r"^[0-9a-f]{64}\.(csv|xlsx)$")
SAMPLE_ROWS = 3
PROBLEMS_SHOWN = 100


def staging_dir(settings) -> Path:
    folder = settings.data_dir / "imports" / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage(settings, data: bytes) -> str:
    """Keep an upload for the wizard; returns its token `<sha256>.<ext>`."""
    from modules.leads.importer.run import check_size

    check_size(settings, len(data))
    if not data:
        raise APIError(422, "文件为空 / the file is empty", code="empty_file",
                       fields={"file": "empty"})
    ext = "xlsx" if data[:4] == b"PK\x03\x04" else "csv"
    token = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    folder = staging_dir(settings)
    handle, temp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temp, folder / token)
    return token


def signature(handler, token: str, name: str) -> str:
    key = (handler.session_xsrf_token or "").encode("utf-8")
    return hmac.new(key, f"{token}|{name}".encode("utf-8"), hashlib.sha256).hexdigest()


def staged_path(handler, form: dict) -> tuple[Path, str, str]:
    """`(path, token, file name)` of the staged upload named by the form (400 / 410)."""
    token, name = form.get("file") or "", form.get("name") or "upload.csv"
    sent = form.get("sig") or ""
    if not TOKEN.match(token) or not hmac.compare_digest(sent, signature(handler, token, name)):
        raise APIError(400, "上传标识无效，请重新上传 / invalid upload reference: upload again",
                       code="bad_request", fields={"file": "invalid"})
    path = staging_dir(handler.app_settings) / token
    if not path.is_file():
        raise APIError(410, "上传的文件已过期，请重新上传 / the uploaded file is gone: upload "
                       "again", code="gone", fields={"file": "gone"})
    return path, token, name


def saved_mappings(ctx) -> list[dict]:
    from modules.leads.importer.mapping import list_saved

    try:
        return list_saved(ctx)
    except APIError as exc:
        if exc.status_code == 403:
            return []
        raise


class ImportPage(LeadsPage):
    """Step 1: the upload form (and the caller's recent runs)."""

    def get(self) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        self.render_lead_page("leads/import_upload.html", runs=service.list_runs(self.ctx, 20),
                              mappings=saved_mappings(self.ctx), errors={})

    def post(self) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        files = self.request.files.get("file") or []
        if len(files) != 1 or not files[0]["body"]:
            raise APIError(400, "请选择一个文件 / choose one file", code="bad_request",
                           fields={"file": "required"})
        upload = files[0]
        token = stage(self.app_settings, upload["body"])
        name = (upload["filename"] or f"upload.{token.rsplit('.', 1)[1]}")[-200:]
        form = self.form_dict()
        show_mapping(self, staging_dir(self.app_settings) / token, token, name,
                     form.get("policy") or "skip", form.get("mapping") or None)


class MapPage(LeadsPage):
    """`POST /leads/import/map`: the mapping step again, with a saved mapping applied."""

    def post(self) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        form = self.form_dict()
        path, token, name = staged_path(self, form)
        show_mapping(self, path, token, name, form.get("policy") or "skip",
                     form.get("mapping") or None)


def show_mapping(handler, path: Path, token: str, name: str, policy: str,
                 saved: str | None, errors: dict | None = None, message: str | None = None,
                 chosen: dict | None = None) -> None:
    """Step 2: each file column with the field recognised for it (or the saved mapping's)."""
    from modules.leads.importer.mapping import detect, find_saved
    from modules.leads.importer.reader import open_table

    table = open_table(path)
    explicit = find_saved(handler.ctx, saved) if saved else None
    mapping, _unmapped = detect(table.headers, explicit)
    if chosen is not None:
        mapping = {h: f for h, f in chosen.items() if f}
    samples = []
    for _number, values in table.rows():
        samples.append(values)
        if len(samples) >= SAMPLE_ROWS:
            break
    handler.set_status(handler.refused_status if errors or message else 200)
    handler.render_lead_page(
        "leads/import_map.html", headers=table.headers, mapping=mapping, samples=samples,
        total=table.total, encoding=table.encoding, file_type=table.file_type, token=token,
        name=name, sig=signature(handler, token, name), policy=policy, saved=saved or "",
        mappings=saved_mappings(handler.ctx), fields=INPUT_FIELDS, errors=errors or {},
        message=message)


class PreviewPage(LeadsPage):
    """Step 3: a dry run with the chosen columns (nothing is written but its problems)."""

    def post(self) -> None:
        from modules.leads.importer import service
        from modules.leads.importer.reader import open_table

        service.check_rights(self.ctx)
        form = self.form_dict()
        path, token, name = staged_path(self, form)
        headers = open_table(path).headers
        columns = {header: (form.get(f"col_{i}") or None) for i, header in enumerate(headers)}
        options = {"dry_run": True, "columns": columns, "policy": form.get("policy") or "skip"}
        if form.get("save_mapping"):
            options["save_mapping"] = form["save_mapping"]
        try:
            run, _resumed = service.start(self.ctx, path, name, options)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            show_mapping(self, path, token, name, options["policy"], None,
                         exc.fields if isinstance(exc.fields, dict) else {}, exc.message,
                         chosen=columns)
            return
        service.enqueue(self.registry, run.id)
        self.go(f"/leads/import/{run.id}")


def problems(ctx, run_id: int) -> list[dict]:
    """The first problems of a run, through the door (scope inherited from the run, field
    rules on the message; the encrypted original row is never loaded here)."""
    import security
    from modules.leads.models_capture import ImportRowError

    security.require(ctx, "read", "model/lead_import_error")
    columns = [c for c in security.permitted_columns(ctx, ImportRowError)
               if getattr(c, "name", None) != "raw"]
    rows = (ImportRowError.select(*columns)
            .where((ImportRowError.run == run_id) & security.scope(ctx, ImportRowError, "read"))
            .order_by(ImportRowError.row).limit(PROBLEMS_SHOWN).dicts())
    return security.serialise(ctx, ImportRowError, list(rows))


class RunPage(LeadsPage):
    """Step 4/5: a run's progress (live while pending or running), counts and problems."""

    def get(self, run_id: str, part: str | None = None) -> None:
        from modules.leads.importer.service import as_dict, get_run

        run = as_dict(get_run(self.ctx, self.pk(run_id)))
        finished = run["status"] in ("done", "failed")
        shown = problems(self.ctx, run["id"]) if finished and run["has_errors"] else []
        template = "leads/_import_progress.html" if part else "leads/import_run.html"
        self.render_lead_page(template, run=run, finished=finished, problems=shown,
                              more_problems=len(shown) >= PROBLEMS_SHOWN)


class CommitPage(LeadsPage):
    """`POST /leads/import/<id>/commit`: import for real what the dry run `<id>` previewed."""

    def post(self, run_id: str) -> None:
        from modules.leads.importer import service

        service.check_rights(self.ctx)
        dry = service.get_run(self.ctx, self.pk(run_id))
        if not dry.dry_run or dry.status != "done":
            raise APIError(409, "只能从已完成的预览开始导入 / start from a finished preview",
                           code="conflict")
        staged = staging_dir(self.app_settings) / f"{dry.file_sha256}.{dry.file_type}"
        if not staged.is_file():
            raise APIError(410, "上传的文件已过期，请重新上传 / the uploaded file is gone: "
                           "upload again", code="gone", fields={"file": "gone"})
        columns = {**{h: None for h in dry.unmapped or []}, **(dry.mapping or {})}
        run, _resumed = service.start_upload(self.ctx, staged.read_bytes(), dry.file_name,
                                             {"columns": columns, "policy": dry.policy})
        staged.unlink(missing_ok=True)
        service.enqueue(self.registry, run.id)
        self.go(f"/leads/import/{run.id}")


class ErrorsPage(LeadsPage):
    """`GET /leads/import/<id>/errors.csv`: the run's error report as the caller may see it."""

    def get(self, run_id: str) -> None:
        from modules.leads.importer.report import write_csv

        write_csv(self, run_id)


def routes() -> list:
    return [
        (r"/leads/import", ImportPage),
        (r"/leads/import/map", MapPage),
        (r"/leads/import/preview", PreviewPage),
        (r"/leads/import/(\d+)", RunPage),
        (r"/leads/import/(\d+)/(progress)", RunPage),
        (r"/leads/import/(\d+)/commit", CommitPage),
        (r"/leads/import/(\d+)/errors\.csv", ErrorsPage),
    ]
