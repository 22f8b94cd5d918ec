"""`GET /api/v1/export/<model>?format=csv|xlsx` — any business model exported through the door.

The same door as every other output: the `export` right on the model, the read scope in SQL,
hidden fields never selected, masked fields masked, and the export itself audited
(`security.crud.export_rows`). CSV is UTF-8 with a BOM so Excel in China opens it correctly;
XLSX is written with openpyxl in write-only mode (rows streamed, not held twice).
"""
from __future__ import annotations

import csv
import io

from core.web.base import APIError, BaseHandler
from security import crud
from security.reveals import find_model

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAX_ROWS = 200_000  # larger exports belong in a background job


def _is_business(model) -> bool:
    return bool(getattr(model, "__scope__", None) or getattr(model, "__scope_parent__", None))


def rows_for(ctx, model) -> tuple[list[str], list[dict]]:
    rows = []
    for row in crud.export_rows(ctx, model):
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise APIError(413, f"导出超过 {MAX_ROWS} 行，请加筛选或使用后台导出 / export exceeds "
                                f"{MAX_ROWS} rows", code="payload_too_large")
    columns = list(rows[0]) if rows else []
    return columns, rows


def to_csv(columns: list[str], rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: list[str], rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c) if isinstance(row.get(c), (int, float)) or row.get(c) is None
                      else str(row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ExportHandler(BaseHandler):
    """`GET /api/v1/export/<model>?format=csv|xlsx`: the caller's view of a model, as a file."""

    def get(self, name: str) -> None:
        self.require_user()
        fmt = self.get_query_argument("format", "csv")
        if fmt not in FORMATS:
            raise APIError(400, "format 须为 csv 或 xlsx / format must be csv or xlsx",
                           fields={"format": "csv|xlsx"})
        model = find_model(self.registry, name)
        if not _is_business(model):
            raise APIError(404, f"不可导出 / {name} cannot be exported")
        columns, rows = rows_for(self.ctx, model)
        data = to_csv(columns, rows) if fmt == "csv" else to_xlsx(columns, rows)
        self.set_header("Content-Type", FORMATS[fmt])
        self.set_header("Content-Disposition", f'attachment; filename="{name}.{fmt}"')
        self.finish(data)


ROUTES = [(r"/api/v1/export/([a-z_]+)", ExportHandler)]
