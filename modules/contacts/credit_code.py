"""统一社会信用代码 (unified social credit code, GB 32100-2015): validation and the check char.

Layout of the 18 characters:

    1      registration authority (登记管理部门): 1 机构编制, 5 民政, 9 工商, Y 其他, ...
    2      organisation type under that authority (9 then 1 = 企业, 2 = 个体工商户, ...)
    3-8    administrative division code of the registering authority (6 digits)
    9-17   organisation code (主体标识码, GB 11714 body)
    18     check character over the first 17

Every character comes from `ALPHABET` (digits and upper-case letters without I, O, Z, S, V);
the check character is `ALPHABET[(31 - sum(value * weight) % 31) % 31]`. The organisation-code
body keeps its own GB 11714 check, but codes issued to 个体工商户 and older registrations do not
always honour it, so it is not enforced here (a false rejection would block a real customer).
"""
from __future__ import annotations

import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: index for index, char in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

# registration authority → the organisation type characters it issues (GB 32100-2015 表 1)
AUTHORITY_TYPES = {
    "1": "1239",    # 机构编制：机关、事业单位、中央编办直管群众团体、其他
    "2": "19",      # 外交
    "3": "123459",  # 司法行政：律所、公证处、基层法律服务所、司法鉴定机构、仲裁委员会、其他
    "4": "19",      # 文化
    "5": "1239",    # 民政：社会团体、民办非企业单位、基金会、其他
    "6": "129",     # 旅游
    "7": "129",     # 宗教
    "8": "19",      # 工会
    "9": "123",     # 工商：企业、个体工商户、农民专业合作社
    "A": "19",      # 中央军委改革和编制办公室
    "N": "1239",    # 农业：组级、村级、乡镇级集体经济组织、其他
    "Y": "1",       # 其他
}


class CreditCodeError(ValueError):
    """Why a credit code is invalid (zh_CN first, then English)."""


def normalise(value: str) -> str:
    """Full-width to half-width (NFKC), spaces removed, upper-cased: what people paste."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def check_char(first17: str) -> str:
    """The check character for the first 17 characters (which must be in `ALPHABET`)."""
    total = sum(VALUES[char] * weight for char, weight in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(value: str) -> str:
    """The normalised code if `value` is a valid 统一社会信用代码, else `CreditCodeError`."""
    if not isinstance(value, str):
        raise CreditCodeError("统一社会信用代码必须是文本 / the credit code must be text")
    code = normalise(value)
    if len(code) != LENGTH:
        raise CreditCodeError(f"统一社会信用代码应为 18 位，实际 {len(code)} 位 / the credit code "
                              f"must have 18 characters, got {len(code)}")
    bad = sorted({char for char in code if char not in VALUES})
    if bad:
        raise CreditCodeError("统一社会信用代码含非法字符 / the credit code contains characters "
                              f"outside the GB 32100 alphabet (no I, O, Z, S, V): {''.join(bad)}")
    types = AUTHORITY_TYPES.get(code[0])
    if types is None:
        raise CreditCodeError(f"登记管理部门代码无效 / unknown registration authority {code[0]!r}")
    if code[1] not in types:
        raise CreditCodeError(f"机构类别代码无效 / organisation type {code[1]!r} is not issued "
                              f"by registration authority {code[0]!r}")
    if not code[2:8].isdigit():
        raise CreditCodeError("登记管理机关行政区划码应为 6 位数字 / the administrative division "
                              "code (characters 3-8) must be 6 digits")
    expected = check_char(code[:17])
    if code[17] != expected:
        raise CreditCodeError("统一社会信用代码校验位错误 / wrong check character "
                              f"{code[17]!r}, expected {expected!r}")
    return code


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except CreditCodeError:
        return False
    return True


def complete(first17: str) -> str:
    """The full code for 17 leading characters (used by demo data and tests)."""
    first17 = normalise(first17)
    if len(first17) != LENGTH - 1 or any(char not in VALUES for char in first17):
        raise CreditCodeError("需要 17 位合法字符 / need 17 characters of the alphabet")
    return first17 + check_char(first17)
