"""Small pieces of the shell: China formats, safe redirects, JSON inside <script>, the menu."""
from __future__ import annotations

import datetime as dt
import decimal
import json

import pytest

from modules.web.formatting import fmt_date, fmt_datetime, fmt_money
from modules.web.menu import allowed
from modules.web.shell import json_for_script, safe_next, static_url


def test_money_in_china_format():
    assert fmt_money(decimal.Decimal("1234.5")) == "¥1,234.50"
    assert fmt_money("1234567.005") == "¥1,234,567.01"
    assert fmt_money(-20) == "-¥20.00"
    assert fmt_money(99, "USD") == "USD 99.00"
    assert fmt_money(None) == "—"


def test_dates_are_shown_in_shanghai_time():
    utc_evening = dt.datetime(2026, 3, 1, 17, 30)  # naive = UTC: 01:30 next day in Shanghai
    assert fmt_datetime(utc_evening) == "2026-03-02 01:30"
    assert fmt_date(utc_evening) == "2026-03-02"
    assert fmt_datetime("2026-03-01T02:00:00+00:00") == "2026-03-01 10:00"
    assert fmt_date("2026-03-01") == "2026-03-01"
    assert fmt_date(None) == "—"


@pytest.mark.parametrize("target,expected", [
    ("/leads?q=1", "/leads?q=1"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("", "/"), (None, "/"), ("/a\nb", "/"),
])
def test_safe_next_only_allows_same_site_paths(target, expected):
    assert safe_next(target) == expected


def test_json_for_script_cannot_close_the_element():
    data = {"name": "</script><script>alert(1)</script>", "amp": "a&b", "sep": "\u2028"}
    text = json_for_script(data)
    assert "</" not in text and "<" not in text and "&" not in text
    assert json.loads(text) == data


def test_static_urls_are_versioned_and_confined():
    assert static_url("huike.css").startswith("/static/huike.css?v=")
    with pytest.raises(ValueError):
        static_url("../shell.py")
    with pytest.raises(ValueError):
        static_url("no-such.js")


def test_menu_permission_forms():
    class Ctx:
        is_admin = False

    assert allowed(Ctx(), None) is True
    assert allowed(Ctx(), "admin") is False
    with pytest.raises(ValueError):
        allowed(Ctx(), "model/lead")
