"""The error report of an import run: one CSV line per rejected or skipped row, with the row
number, the reason and the original cells — UTF-8 with a BOM, so Excel (which assumes GBK
without one) opens it correctly. Built from `ImportRowError` (exact even across resumes:
those rows are committed with their batch)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Iterator

from modules.leads.models_capture import ImportRowError, ImportRun

BOM = "\ufeff"
HEAD = ["行号 / row", "类型 / kind", "原因 / reason"]
KINDS = {"error": "错误 / error", "skipped": "跳过 / skipped"}
CHUNK = 1000


def _problems(run_id: int, where=None, raw: bool = True) -> Iterator[ImportRowError]:
    """Every problem of the run in row order, fetched in keyset pages (bounded memory);
    `where` is the caller's row scope on the problems (the run's, inherited)."""
    last = 0
    while True:
        columns = [f for f in ImportRowError._meta.sorted_fields
                   if raw or f is not ImportRowError.raw]  # hidden: never even decrypted
        query = ImportRowError.select(*columns).where((ImportRowError.run == run_id)
                                              & (ImportRowError.row > last))
        if where is not None:
            query = query.where(where)
        page = list(query.order_by(ImportRowError.row).limit(CHUNK))
        if not page:
            return
        yield from page
        last = page[-1].row


def _columns(run: ImportRun) -> list[str]:
    """The file's header row (cells beyond it are appended as `#n=value`)."""
    return list(run.headers or run.mapping)


def _visible(ctx) -> tuple[object, bool, bool]:
    """`(row scope, message shown, original cells shown)` for the caller (None: the system
    writing the report file)."""
    if ctx is None:
        return None, True, True
    import security

    security.require(ctx, "read", "model/" + security.model_name(ImportRowError))
    fields = security.permitted_fields(ctx, ImportRowError, "read")
    return (security.scope(ctx, ImportRowError, "read"),
            fields.level("message") in ("read", "write"), fields.level("raw") in ("read", "write"))


def lines(run: ImportRun, ctx=None) -> Iterator[str]:
    """The report as text chunks (BOM first); with `ctx`, under the caller's door: their
    scope on the problems, and the reason / original cells only if those fields are theirs
    to read in clear."""
    where, show_message, show_cells = _visible(ctx)
    columns = _columns(run) if show_cells else []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEAD + columns)
    yield BOM + buffer.getvalue()
    for problem in _problems(run.id, where, raw=show_cells):
        buffer.seek(0)
        buffer.truncate()
        raw = json.loads(problem.raw) if show_cells and problem.raw else {}
        extra = [f"{k}={v}" for k, v in raw.items() if k not in columns and v]
        writer.writerow([problem.row, KINDS.get(problem.kind, problem.kind),
                         problem.message if show_message else ""]
                        + [raw.get(name, "") for name in columns] + extra)
        yield buffer.getvalue()


def write_report(settings, run: ImportRun) -> Path | None:
    """Write the report under `<data dir>/imports/<run id>/errors.csv` (None: no problems)."""
    if not ImportRowError.select().where(ImportRowError.run == run.id).exists():
        return None
    folder = settings.data_dir / "imports" / str(run.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "errors.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for chunk in lines(run):
            handle.write(chunk)
    return path


def write_csv(handler, run_id) -> None:
    """Answer `handler`'s request with run `run_id`'s error report as a CSV download, under
    the caller's door (`get_run` is scoped: another's run is 404) — the one body of the API
    (`/api/v1/leads/imports/<id>/errors`) and the web page (`/leads/import/<id>/errors.csv`)."""
    from modules.leads.importer.service import get_run

    run = get_run(handler.ctx, handler.pk(run_id))
    handler.set_header("Content-Type", "text/csv; charset=utf-8")
    handler.set_header("Content-Disposition", f'attachment; filename="import-{run.id}-errors.csv"')
    for chunk in lines(run, handler.ctx):
        handler.write(chunk)
    handler.finish()
