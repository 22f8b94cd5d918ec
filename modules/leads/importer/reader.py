"""Reading an import file: CSV (UTF-8 or GBK/GB18030 — what Excel in China writes) or XLSX.

`open_table(path)` sniffs the type from the content (an XLSX is a zip; legacy `.xls` is
refused with a hint), decodes CSV as UTF-8 (with or without BOM) and falls back to GB18030
(a superset of GBK and GB2312), finds the header row (the first non-empty one) and counts
the data rows. `Table.rows(skip)` yields `(row_number, values)` with spreadsheet row numbers
(the header is row 1, as Excel shows it), skipping the first `skip` data rows — that is how
a resumed import continues.

CSV parsing uses the standard `csv` module rather than pandas: it streams, and a
structurally broken record (more cells than headers) is reported by its row number instead
of aborting the whole file (pandas' C parser either raises or silently drops such lines).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from core.web.base import APIError

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
ENCODINGS = ("utf-8-sig", "gb18030")
FIELD_LIMIT = 1_000_000
csv.field_size_limit(FIELD_LIMIT)


def file_error(message: str, code: str = "bad_file") -> APIError:
    return APIError(422, message, code=code, fields={"file": code})


def sniff(head: bytes) -> str:
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(XLS_MAGIC):
        raise file_error("不支持旧版 .xls，请另存为 .xlsx 或 CSV / legacy .xls is not supported: "
                         "save the sheet as .xlsx or CSV", "unsupported_type")
    return "csv"


def decode(data: bytes) -> tuple[str, str]:
    """`(text, encoding)`: UTF-8 (BOM or not) first, then GB18030."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            continue
    raise file_error("无法识别文件编码（支持 UTF-8 与 GBK）/ unknown text encoding (UTF-8 and GBK "
                     "are supported)", "bad_encoding")


def _codec(encoding: str) -> str:
    """The codec that reads a file `decode` named `encoding` (UTF-8's BOM dropped if any)."""
    return "utf-8-sig" if encoding == "utf-8" else encoding


def cell_text(value) -> str:
    """An XLSX cell as the text a user typed (`13800138000`, not `1.38e10`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


@dataclass
class Table:
    file_type: str
    encoding: str | None
    headers: list[str]
    _source: object = field(repr=False, default=None)
    _header_row: int = 1
    _total: int | None = field(repr=False, default=None)
    _path: Path | None = field(repr=False, default=None)  # a CSV read as a stream (`open_table`)

    @property
    def total(self) -> int:
        """The data rows, counted on first use: the import worker and a resumed run read
        the file without needing it (a full parse: ~2 s at 1M rows)."""
        if self._total is None:
            self._total = self._quick_total()
            if self._total is None:
                self._total = sum(1 for _ in self.rows())
        return self._total

    def _quick_total(self) -> int | None:
        """Rows of a CSV `csv` cannot fail on — no quote, NUL or lone `\r`, no line near the
        field size limit: each `\n`-ended line is one record, and a data row is a line after
        the header with more than commas and whitespace — counted without parsing (2×
        faster); None for any other file (parsed: its errors surface when it is opened)."""
        text = self._source
        if self.file_type != "csv" or text is None or '"' in text or "\x00" in text \
                or text.count("\r") != text.count("\r\n"):
            return None
        lines = text.split("\n")[self._header_row:]
        if len(text) >= FIELD_LIMIT and max(map(len, lines), default=0) >= FIELD_LIMIT:
            return None
        return sum(1 for line in lines if line.replace(",", "").strip())

    def rows(self, skip: int = 0) -> Iterator[tuple[int, list[str]]]:
        """Non-empty data rows after the first `skip` ones, as `(row_number, values)`."""
        records = (self._csv_records() if self.file_type == "csv" else self._xlsx_records())
        seen = 0
        for number, values in records:
            if number <= self._header_row or not any(v.strip() for v in values):
                continue
            seen += 1
            if seen > skip:
                yield number, values

    def _csv_records(self) -> Iterator[tuple[int, list[str]]]:
        streamed = self._source is None
        handle = open(self._path, encoding=_codec(self.encoding), newline="\n") if streamed \
            else io.StringIO(self._source)  # both split lines at `\n` only, translate nothing
        number = 0
        with handle:
            try:
                for number, values in enumerate(csv.reader(handle), start=1):
                    yield number, values
            except csv.Error as exc:
                raise file_error(f"CSV 第 {number + 1} 行无法解析 / CSV row {number + 1} cannot "
                                 f"be parsed: {exc}") from None
            except UnicodeDecodeError:  # read ahead in blocks: no row number to name
                raise file_error(f"文件中有非 {self.encoding} 编码的内容 / the file holds text "
                                 f"that is not {self.encoding}", "bad_encoding") from None

    def _xlsx_records(self) -> Iterator[tuple[int, list[str]]]:
        book = _open_book(self._source)
        try:
            for number, values in enumerate(book.active.iter_rows(values_only=True), start=1):
                yield number, [cell_text(v) for v in values]
        finally:
            book.close()


def _open_book(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile / XML errors: the file is not a readable workbook
        raise file_error(f"无法读取 XLSX 文件 / cannot read the XLSX file: {type(exc).__name__}")


def _header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    for number, values in records:
        if any(v.strip() for v in values):
            headers = [v.strip() for v in values]
            while headers and not headers[-1]:
                headers.pop()
            return number, headers
    raise file_error("文件没有表头行 / the file has no header row", "empty_file")


def open_table(path: Path, encoding: str | None = None) -> Table:
    """Open an import file (its data rows are counted when `total` is first read). A CSV
    is decoded whole to find its encoding — or, given the `encoding` found when it was
    first opened (an import run's, its sha256 checked since), read as a stream: an import
    does not decode the whole file before its first row (~1.3 s and the file's size in
    memory at 1M rows, in the importing and the worker process alike)."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
    kind = sniff(head)
    if kind == "csv" and encoding is not None:
        table = Table("csv", encoding, [], None, _path=path)
    elif kind == "csv":
        text, encoding = decode(path.read_bytes())
        table = Table("csv", encoding, [], text)
    else:
        table = Table("xlsx", None, [], path)
    records = table._csv_records() if kind == "csv" else table._xlsx_records()
    table._header_row, table.headers = _header(records)
    return table
