"""Masking functions: the three documented shapes and the fallbacks."""
from __future__ import annotations

import decimal

import pytest

from security.masking import (
    mask_bank_account, mask_email, mask_generic, mask_id_number, mask_kind, mask_name,
    mask_phone, mask_value, masker,
)


def test_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(" 13812345678 ") == "138****5678"
    assert mask_phone("021-62345678") == "021*****5678"
    assert mask_phone("12345") == "1***5"  # too short for the phone shape


def test_email():
    assert mask_email("zhang@example.com") == "z***@example.com"
    assert mask_email("a@b.cn") == "a***@b.cn"
    assert mask_email("no-at-sign") == "n********n"
    assert mask_email("@example.com") == "@**********m"


def test_id_number():
    assert mask_id_number("310101199001011234") == "3101**********1234"
    assert mask_id_number("31010119900101123X") == "3101**********123X"
    assert mask_id_number("1234567") == "1*****7"


def test_generic_keeps_first_and_last():
    assert mask_generic("张三丰") == "张*丰"
    assert mask_generic("ab") == "a*"
    assert mask_generic("a") == "*"
    assert mask_generic("") == ""


def test_bank_account_and_name():
    assert mask_bank_account("6222 0202 0011 2233 445") == "***************3445"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张") == "*"


def test_masker_handles_non_text_and_none():
    generic = masker("generic")
    assert generic(None) is None
    assert generic(decimal.Decimal("1234.50")) == "1*****0"
    assert generic(12) == "1*"
    with pytest.raises(ValueError):
        masker("rot13")


def test_declared_kinds():
    class Thing:
        __masks__ = {"mobile": "phone"}

    assert mask_kind(Thing, "mobile") == "phone"
    assert mask_kind(Thing, "title") == "generic"
    assert mask_value(Thing, "mobile", "13812345678") == "138****5678"
    assert mask_value(Thing, "title", "董事长") == "董*长"
