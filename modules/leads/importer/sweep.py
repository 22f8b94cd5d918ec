"""Deleting import files nobody needs any more. An uploaded lead file is customer data in
clear text (names, mobiles, e-mails), so it stays on disk only while an import needs it:

- `<data dir>/imports/web/` — files the import wizard staged between its steps. A wizard
  left at the mapping step or after its preview never comes back for its file.
- `<data dir>/imports/uploads/` — files an import reads; `run.finish` deletes a file when its
  run is done, and `service.start_upload` one whose import it refused to start
  (`run.drop_upload`); a crash in between leaves one that is nobody's.
- `*.part` in both: a write interrupted by a crash.

A file is deleted when it is older than `leads.import_file_hours` (its modification time) and
no unfinished run (pending, running, failed: resumable) names it. The periodic job
`leads.sweep_import_files` runs this every hour; a file of a failed run stays for its resume.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger("huike.leads.import")


def folders(settings) -> list[Path]:
    base = settings.data_dir / "imports"
    return [base / "web", base / "uploads"]


def _needed() -> set[Path]:
    """The files unfinished runs read (resolved paths)."""
    from modules.leads.importer.run import UNFINISHED
    from modules.leads.models_capture import ImportRun

    query = ImportRun.select(ImportRun.file_path).where(ImportRun.status.in_(UNFINISHED))
    return {Path(path).resolve() for (path,) in query.tuples()}


def sweep(settings, now: float | None = None) -> list[Path]:
    """Delete the import files no import needs that are older than the setting; returns them."""
    age = float(settings["leads"]["import_file_hours"]) * 3600
    cutoff = (time.time() if now is None else now) - age
    needed = None
    removed = []
    for folder in folders(settings):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.is_file() or path.stat().st_mtime >= cutoff:
                continue
            if needed is None:
                needed = _needed()
            if path.resolve() in needed:
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("deleted %d import file(s) no import needs: %s", len(removed),
                 ", ".join(p.name for p in removed))
    return removed
