"""The import as a service for the API and the CLI: rights, options, storing the upload,
enqueueing the job, progress, listing.

Rights: a signed-in caller needs `action/lead.import` and `model/lead` create; the leads go
to the caller's current division. Setting a default `owner` for the imported leads needs the
`owner` field right (a rep may only name themself). Without an owner the leads are left to
the assignment rules (`pipeline.after_create`). The CLI acts as the system and names the
division (`--division`).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.web.base import APIError
from modules.base.models import User
from modules.contacts.common import as_pk, division_id as current_division
from modules.leads.importer import mapping as mappings
from modules.leads.importer.run import check_size, create_run, file_sha256
from modules.leads.models import Lead
from modules.leads.models_capture import ImportRun

IMPORT_ACTION = "action/lead.import"
TASK = "leads.leads.import_run"
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx"}


def check_rights(ctx) -> None:
    import security
    from security.crud import require_model

    if ctx.user is None:
        return
    require_model(ctx, Lead, "create")
    security.require(ctx, "execute", IMPORT_ACTION)


def check_owner(ctx, owner, division: int) -> int | None:
    """The default owner of the imported leads (None: assignment rules decide): an active
    user, set only with the `owner` field right, and inside the caller's write scope."""
    import security
    from modules.leads.services import owner_in_scope

    if owner in (None, ""):
        return None
    pk = as_pk(owner)
    active = User.select().where((User.id == pk) & (User.active == True))  # noqa: E712
    if pk is None or not active.exists():
        raise APIError(422, "没有这个在职用户 / no such active user", code="validation_failed",
                       fields={"owner": "unknown"})
    if ctx.user is not None and pk != ctx.user_id and \
            security.permitted_fields(ctx, Lead, "write").level("owner") != "write":
        raise APIError(403, "无权指定负责人 / not allowed to set the owner",
                       code="forbidden_fields", fields={"owner": "read-only"})
    if not owner_in_scope(ctx, pk, division):
        raise APIError(403, "负责人超出你的数据范围 / the owner is outside your data scope",
                       code="out_of_scope", fields={"owner": "out of scope"})
    return pk


def store_upload(settings, data: bytes, file_name: str) -> Path:
    """Keep an uploaded file under `<data dir>/imports/uploads/<sha256><ext>` (the job and a
    resume read it from there)."""
    check_size(settings, len(data))
    folder = settings.data_dir / "imports" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    sha, _ = file_sha256(Path(temp))
    kind = "xlsx" if data[:4] == b"PK\x03\x04" else "csv"
    final = folder / f"{sha}{EXTENSIONS[kind]}"
    os.replace(temp, final)
    return final


def columns_for(ctx, options: dict, division: int) -> tuple[dict | None, str | None]:
    """The explicit mapping: a saved one (`mapping`), overridden by `columns`; saved under
    `save_mapping` when asked."""
    columns: dict = {}
    name = options.get("mapping") or None
    if name:
        columns.update(mappings.find_saved(ctx, name, division))
    if options.get("columns"):
        if not isinstance(options["columns"], dict):
            raise APIError(422, "columns 必须是 表头→字段 对象 / columns must map headers to fields",
                           code="validation_failed", fields={"columns": "invalid"})
        columns.update(options["columns"])
    if options.get("save_mapping"):
        mappings.save(ctx, options["save_mapping"], columns, division)
    return (columns or None), name


def start(ctx, path: Path, file_name: str, options: dict, division: int | None = None):
    """Check rights and options and open (or resume) a run; returns `(run, resumed)`."""
    check_rights(ctx)
    division = division or current_division(ctx)
    policy = options.get("policy") or "skip"
    dry_run = options.get("dry_run") in (True, "1", "true", "yes")
    owner = check_owner(ctx, options.get("owner"), division)
    columns, name = columns_for(ctx, options, division)
    return create_run(ctx, path, file_name=file_name, division_id=division, policy=policy,
                      dry_run=dry_run, owner_id=owner, columns=columns, mapping_name=name)


def start_upload(ctx, data: bytes, file_name: str, options: dict,
                 division: int | None = None):
    """`start` for uploaded bytes (the API, the wizard): store them, open the run; a refused
    run leaves no copy behind — an uploaded file is customer data in clear text."""
    from modules.leads.importer.run import drop_upload

    settings = ctx.registry.settings
    path = store_upload(settings, data, file_name)
    try:
        return start(ctx, path, file_name or path.name, options, division)
    except Exception:
        drop_upload(settings, path)
        raise


def enqueue(registry, run_id: int) -> None:
    """Hand the run to the job queue (in tests and `jobs.immediate` it runs at once)."""
    from core.jobs import build_huey

    build_huey(registry).huike_tasks[TASK](run_id)


# ------------------------------------------------------------------ reading runs
FIELDS = ("id", "file_name", "file_sha256", "file_size", "file_type", "encoding", "headers",
          "mapping", "mapping_name", "unmapped", "policy", "dry_run", "status", "total",
          "processed", "created", "merged", "skipped", "failed", "message", "owner",
          "created_by", "division", "started_at", "finished_at", "created_at")


def as_dict(run: ImportRun) -> dict:
    data = {name: run.__data__.get(name) for name in FIELDS}
    for name in ("started_at", "finished_at", "created_at"):
        if data[name] is not None:
            data[name] = data[name].isoformat()
    total = max(run.total, run.processed)
    data["percent"] = 100 if run.status == "done" else (
        int(run.processed * 100 / total) if total else 0)
    data["has_errors"] = bool(run.failed or run.skipped)
    return data


def get_run(ctx, run_id) -> ImportRun:
    from security.crud import get_or_404

    return get_or_404(ctx, ImportRun, run_id, "read")


def list_runs(ctx, limit: int = 50) -> list[dict]:
    from security.crud import scoped_select

    rows = scoped_select(ctx, ImportRun, "list").order_by(ImportRun.id.desc()).limit(limit)
    return [as_dict(run) for run in rows]
