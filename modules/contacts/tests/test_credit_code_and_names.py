"""统一社会信用代码 validation (GB 32100-2015) and the duplicate name key."""
from __future__ import annotations

import pytest

from modules.contacts import credit_code as uscc
from modules.contacts.names import name_key


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",
    "91110000600037341L",
    "914403007261824992",
    "91440300192317458F",
    "９１３５０１００Ｍ０００１００Ｙ４３",   # full-width, as pasted from a PDF
    " 91350100m000100y43 ",                  # spaces and lower case
])
def test_valid_codes(code):
    assert uscc.is_valid(code)
    assert uscc.validate(code) == uscc.normalise(code)


def test_computed_codes_validate_and_the_check_char_is_sensitive_to_every_position():
    bodies = ("91310115MA1K3YJ85", "52100000500000781", "12100000400010398", "Y1110000000000001")
    for body in bodies:
        code = uscc.complete(body)
        assert uscc.is_valid(code), code
        for position in range(17):
            changed = list(code)
            changed[position] = "1" if code[position] != "1" else "2"
            if position in (0, 1):  # might turn into another valid authority/type
                continue
            assert not uscc.is_valid("".join(changed)), (code, position)


@pytest.mark.parametrize("code, reason", [
    ("91350100M000100Y44", "校验位"),            # wrong check character
    ("91110000600037341X", "校验位"),
    ("91350100M000100Y4", "18 位"),              # 17 characters
    ("91350100M000100Y433", "18 位"),            # 19 characters
    ("91350100I000100Y43", "非法字符"),           # I is not in the alphabet
    ("91350100O000100Y43", "非法字符"),           # O
    ("91350100Z000100Y43", "非法字符"),           # Z
    ("91350100S000100Y43", "非法字符"),           # S
    ("91350100V000100Y43", "非法字符"),           # V
    ("B1350100M000100Y43", "登记管理部门"),        # unknown registration authority
    ("94350100M000100Y43", "机构类别"),           # 工商 issues types 1-3 only
    ("913501A0M000100Y43", "行政区划"),           # admin-division code must be digits
])
def test_invalid_codes(code, reason):
    with pytest.raises(uscc.CreditCodeError) as err:
        uscc.validate(code)
    assert reason in str(err.value)


def test_the_check_char_follows_the_standard_weights():
    # 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + ... worked out for the first sample: check = 3
    assert uscc.check_char("91350100M000100Y4") == "3"
    assert uscc.check_char("91110000600037341") == "L"
    assert uscc.ALPHABET[(31 - 0) % 31] == "0"  # 31 maps to 0


@pytest.mark.parametrize("left, right", [
    ("上海振华重工（集团）股份有限公司", "上海振华重工(集团)股份有限公司"),
    ("上海振华重工（集团）股份有限公司", "上海振华重工"),
    ("深圳市汇川技术股份有限公司", "深圳市汇川技术股份有限公司苏州分公司"),
    ("西门子（中国）有限公司", "西门子有限公司"),
    ("ＡＢＢ　Ｃｏ．，Ｌｔｄ．", "ABB (China) Ltd."),
    ("三一重工股份有限公司", "三一重工有限责任公司"),
    ("海尔集团公司", "海尔"),
])
def test_name_keys_match(left, right):
    assert name_key(left) == name_key(right)


@pytest.mark.parametrize("left, right", [
    ("北京华为技术有限公司", "深圳华为技术有限公司"),  # place names are kept
    ("三一重工股份有限公司", "三一重机股份有限公司"),
])
def test_name_keys_differ(left, right):
    assert name_key(left) != name_key(right)


def test_name_key_never_empty_for_a_name():
    assert name_key("公司") == "公司"
    assert name_key("有限公司") and name_key("(集团)") and name_key("Ltd.")
    assert name_key("上海振华重工（集团）股份有限公司") == "上海振华重工"
