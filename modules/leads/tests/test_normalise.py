"""Normalisation without a database: phones (one number however it is typed, and the same
key contacts' normaliser gives), e-mails, budgets, source labels, regions, headers."""
from __future__ import annotations

import decimal
from types import SimpleNamespace

import pytest

from modules.leads.importer.mapping import detect, header_key
from modules.leads.normalise import (clean_email, company_key, parse_budget, phone_display,
                                     phone_e164, phone_key, region_id, region_index,
                                     source_code)
from modules.leads.validation import Refs, clean
from security.crypto import normalise_phone

SPELLINGS = ["+86 138-0013-8000", "13800138000", "138 0013 8000", "0086 138 0013 8000",
             "86 13800138000", "(+86)138.0013.8000", "１３８００１３８０００"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_messy_mobiles_are_one_number(spelling):
    assert phone_e164(spelling) == "+8613800138000"
    assert phone_display(spelling) == "13800138000"
    assert phone_key(spelling) == "13800138000" == normalise_phone(spelling)


def test_landlines_foreign_numbers_and_garbage():
    assert phone_display("010-12345678") == "01012345678" == phone_key("(010) 1234 5678")
    assert phone_key("010-12345678") == normalise_phone("010-12345678")
    assert phone_display("+44 20 7946 0000") == "+442079460000"
    assert phone_key("+44 20 7946 0000") == normalise_phone("+44 20 7946 0000")
    for bad in ("", "   ", "abc", "12345", "12-34"):
        assert phone_display(bad) is None and phone_key(bad) == ""


def test_emails_budgets_and_company_keys():
    assert clean_email(" Wang.Fang@Example.COM ") == "wang.fang@example.com"
    with pytest.raises(ValueError):
        clean_email("wang@")
    assert parse_budget("¥50万") == decimal.Decimal("500000.00")
    assert parse_budget("1,200,000.5元") == decimal.Decimal("1200000.50")
    assert parse_budget("30w") == decimal.Decimal("300000.00")
    assert parse_budget("") is None
    for bad in ("很多", "-5", "1e20"):
        with pytest.raises(ValueError):
            parse_budget(bad)
    assert company_key("上海振华重工（集团）股份有限公司") == company_key("上海振华重工股份有限公司")


def test_source_labels_and_regions():
    assert [source_code(x) for x in ("官网", "Website", "抖音", "微信公众号", "展会", "转介绍",
                                      "百度推广", "来电", "其它", "未知渠道")] == [
        "website", "website", "douyin", "wechat_mp", "expo", "referral", "sem", "phone",
        "other", None]
    regions = [SimpleNamespace(id=1, code="east", name="华东", name_en="East China")]
    index = region_index(regions)
    assert [region_id(index, x) for x in ("华东", "华东区", "East China", "east", "西北")] == [
        1, 1, 1, 1, None]


def test_clean_collects_every_problem_and_keeps_unknown_sources_when_lenient():
    refs = Refs({"华东": 1}, frozenset({1}))
    values, errors = clean({"name": "", "mobile": "12", "email": "x@", "budget": "abc",
                            "region": "火星", "source": "火星"}, refs)
    assert set(errors) == {"name", "mobile", "email", "budget", "region", "source"}
    values, errors = clean({"name": "王芳", "source": "百度信息流", "company": "ABB Co., Ltd."},
                           refs, lenient_source=True)
    assert not errors
    assert (values["source"], values["source_label"], values["company_key"]) == (
        "other", "百度信息流", "abb")


def test_headers_in_chinese_and_english_are_recognised():
    mapping, unmapped = detect(["姓名*", "公司名称", "手机号码（必填）", "E-mail", "WeChat ID",
                                "线索来源", "所属区域", "预算(元)", "备注", "身份证"])
    assert mapping == {"姓名*": "name", "公司名称": "company", "手机号码（必填）": "mobile",
                       "E-mail": "email", "WeChat ID": "wechat", "线索来源": "source",
                       "所属区域": "region", "预算(元)": "budget", "备注": "need"}
    assert unmapped == ["身份证"]
    assert header_key("Mobile_Phone") == header_key("mobile phone")
    explicit, _ = detect(["客户", "电话1", "电话2"], {"客户": "name", "电话2": "mobile",
                                                   "电话1": None})
    assert explicit == {"客户": "name", "电话2": "mobile"}


def test_bare_mobile_shortcut_agrees_with_the_full_path(monkeypatch):
    """The 11-digit shortcut of `phone_display` gives what the regex / phonenumbers path
    gives, and leaves everything it does not recognise to that path."""
    import random

    from modules.leads import normalise

    rng = random.Random(5)
    samples = ["13800138000", "19912345678", "12800138000", "10123456789", "23800138000",
               "1380013800", "138001380001", "１３８００１３８０００", "1380013800x", "14512345678"]
    samples += [f"1{rng.randrange(10)}{rng.randrange(10 ** 9):09d}" for _ in range(300)]
    fast = [phone_display(s) for s in samples]
    monkeypatch.setattr(normalise, "_bare_mobile", lambda value: False)
    assert fast == [phone_display(s) for s in samples]
    assert fast[0] == "13800138000" and fast[7] == "13800138000"
