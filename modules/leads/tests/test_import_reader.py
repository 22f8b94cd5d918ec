"""Counting an import file's data rows: the quick count of a CSV `csv` cannot fail on (each
line one record) gives exactly what parsing every record gives — blank and comma-only lines,
`\\r\\n`, a header after blank lines, whitespace-only cells — and other files are parsed, so
a broken one (a lone `\\r` inside a line) is still refused when it is opened."""
from __future__ import annotations

import pytest

from core.web.base import APIError
from modules.leads.importer.reader import open_table

TEXTS = [  # (text, counted without parsing)
    ("姓名,手机\n张伟,13800138000\n王芳,13900139000\n", True),
    ("\n\n姓名,手机\r\n张伟,13800138000\r\n,,\r\n  , \t\r\n王芳,1\r\n", True),
    ("\n\n姓名,手机\r\n张伟,1\r\n王芳,1\r", False),  # a lone \r at the end: parsed
    ("姓名\n张伟\n\n\n李\n 　\n", True),
    ("姓名,手机\n张伟,1\n\u2028,2\n\x0c\n", True),
    ('姓名,备注\n张伟,"两行\n备注"\n王芳,""\n', False),  # quoted
    ("姓名,手机\n张伟,1\x00\n", False),  # a NUL
    ("姓名,手机\r张伟,1\r\r李,2", False),  # lone \r inside: refused when opened
]


@pytest.mark.parametrize("text, quick", TEXTS)
def test_quick_row_count_equals_the_parsed_count(tmp_path, text, quick):
    path = tmp_path / "leads.csv"
    path.write_bytes(text.encode("utf-8"))
    try:
        table = open_table(path)
    except APIError as exc:
        assert not quick and "cannot be parsed" in exc.message
        return
    parsed = sum(1 for _ in table.rows())
    assert table.total == parsed
    assert table._quick_total() == (parsed if quick else None)


@pytest.mark.parametrize("text, quick", TEXTS)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_stream_with_the_known_encoding_reads_what_decoding_reads(tmp_path, text, quick,
                                                                   encoding):
    """An import run reads its file as a stream in the encoding found when it was created
    (`open_table(path, encoding)`): the same header and records, row numbers included."""
    path = tmp_path / "leads.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        pytest.skip(f"{encoding} cannot hold this text")
    try:
        decoded = open_table(path)
        expected = (decoded.headers, list(decoded.rows()))
    except APIError as exc:
        expected = exc.message
    try:
        streamed = open_table(path, decoded.encoding if not isinstance(expected, str)
                              else "gb18030" if encoding == "gbk" else "utf-8")
        assert streamed._source is None
        got = (streamed.headers, list(streamed.rows()))
        assert list(streamed.rows(skip=1)) == got[1][1:]  # a resumed run's rows
    except APIError as exc:
        got = exc.message
    assert got == expected


def test_a_stream_that_is_not_its_encoding_is_refused_by_row(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("姓名,手机\n张伟,1\n".encode("utf-8") + "王芳,2\n".encode("gbk"))
    with pytest.raises(APIError) as caught:
        list(open_table(path, "utf-8").rows())
    assert caught.value.code == "bad_encoding" and "utf-8" in caught.value.message
