"""Normalisation for matching and storage: phones (via `phonenumbers`, CN by default), e-mails,
company names, source labels, regions and budgets.

Phones: `+86 138-0013-8000`, `13800138000`, `138 0013 8000` and `0086 138 0013 8000` are one
number. `phone_key` is the blind-index key: for mainland numbers the national digits (with the
trunk `0` of a landline, as people type it: `01012345678`), for others the E.164 digits —
exactly what contacts' `security.crypto.normalise_phone` gives for the same numbers, so a
lead's phone index matches a contact's. The common case (an 11-digit mobile, optionally with
`+86`/`0086`) is recognised by one regex; everything else goes through `phonenumbers` (about
30 µs a number — too slow to run on every row of a million-row import).
"""
from __future__ import annotations

import decimal
import functools
import re
import unicodedata

import phonenumbers

from modules.contacts.names import name_key

_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_SEPARATORS = re.compile(r"[\s\-().]+")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(value) -> str:
    text = str(value).strip()
    return text if text.isascii() else unicodedata.normalize("NFKC", text).strip()


def _parse(value, region: str = "CN"):
    """The parsed number, or None if it is not a plausible phone number."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if len(str(parsed.national_number)) < 7 or not phonenumbers.is_possible_number(parsed):
        return None  # 5-digit service numbers and the like are not a lead's phone
    return parsed


def phone_e164(value: str | None, region: str = "CN") -> str | None:
    """`+86 138-0013-8000`, `13800138000`, `138 0013 8000` → `+8613800138000`; None if not a
    plausible number."""
    if not value or not str(value).strip():
        return None
    text = _text(value)
    mobile = _MOBILE.fullmatch(_SEPARATORS.sub("", text))
    if mobile:
        return "+86" + mobile.group(1)
    parsed = _parse(text, region)
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _bare_mobile(value) -> bool:
    """An 11-digit mainland mobile already in its stored form (`13800138000`) — what an
    import's stored value is when it is indexed, and a quarter of the cells of a file: what
    `_MOBILE` would match with nothing to strip, without the regular expressions."""
    return value.__class__ is str and len(value) == 11 and value.isascii() \
        and value.isdigit() and value[0] == "1" and value[1] in "3456789"


def phone_display(value: str | None, region: str = "CN") -> str | None:
    """The form a phone is stored in: mainland numbers as national digits (`13800138000`,
    `01012345678`), others as E.164 (`+442079460000`); None if not a plausible number."""
    if _bare_mobile(value):
        return value
    if not value or not str(value).strip():
        return None
    text = _text(value)
    mobile = _MOBILE.fullmatch(_SEPARATORS.sub("", text))
    if mobile:
        return mobile.group(1)
    parsed = _parse(text, region)
    if parsed is None:
        return None
    if parsed.country_code == 86:
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"\D", "", national)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_key(value) -> str:
    """The blind-index key of a phone ("" when it is not a plausible number)."""
    if value is None:
        return ""
    shown = phone_display(value)
    if shown is None:
        return ""
    return shown.lstrip("+")


def clean_email(value: str | None) -> str | None:
    """Trimmed, lower-cased e-mail, or None when empty. Raises ValueError when malformed."""
    if value is None:
        return None
    text = _text(value).lower()
    if not text:
        return None
    if len(text) > 200 or not EMAIL_RE.match(text):
        raise ValueError("邮箱格式不正确 / malformed e-mail address")
    return text


def company_key(name: str | None) -> str | None:
    """The normalised company name used for duplicate checks (contacts' `name_key`, so a
    lead's company matches an account's `name_key`)."""
    if not name or not str(name).strip():
        return None
    return _company_key(str(name))


@functools.lru_cache(maxsize=65_536)
def _company_key(name: str) -> str | None:
    """Cached: an import file names the same companies over and over."""
    return name_key(name)[:200] or None


# ------------------------------------------------------------------ sources
SOURCE_ALIASES = {
    "website": ("官网", "官方网站", "网站", "website", "web", "site", "官网表单"),
    "sem": ("sem", "百度推广", "搜索推广", "竞价", "百度竞价", "付费搜索"),
    "seo": ("seo", "自然搜索", "搜索引擎"),
    "douyin": ("抖音", "douyin", "tiktok"),
    "wechat_mp": ("微信公众号", "公众号", "wechat official account", "wechat_mp", "wechat mp"),
    "expo": ("展会", "会展", "展览会", "expo", "trade show", "exhibition"),
    "referral": ("转介绍", "推荐", "介绍", "客户推荐", "referral"),
    "ads": ("广告", "ads", "ad", "advertising", "信息流"),
    "phone": ("电话", "来电", "400电话", "电话咨询", "phone", "call"),
    "other": ("其他", "其它", "other", "others"),
}


_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def _key(label: str) -> str:
    """A label as looked up (NFKC, single spaces, case-folded). Cached: an import file spells
    its sources and regions the same few ways on every row (two lookups a row)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", label)).strip().casefold()


SOURCE_INDEX = {_key(alias): code for code, aliases in SOURCE_ALIASES.items()
                for alias in aliases}


def source_code(label: str | None) -> str | None:
    """`官网` / `Website` / `website` → `website`; None for an unknown label."""
    if label is None or not str(label).strip():
        return None
    return SOURCE_INDEX.get(_key(str(label)))


# ------------------------------------------------------------------ regions
def region_index(regions) -> dict[str, int]:
    """Every way a region is written → its id: code, Chinese name (`华东`, `华东区`,
    `华东地区`) and English name (`East China`, `east`)."""
    index: dict[str, int] = {}
    for region in regions:
        names = [region.code, region.name, region.name_en, f"{region.name}区",
                 f"{region.name}地区", f"{region.name}大区"]
        for name in names:
            if name:
                index[_key(name)] = region.id
    return index


def region_id(index: dict[str, int], label) -> int | None:
    if label is None or not str(label).strip():
        return None
    return index.get(_key(str(label)))


# ------------------------------------------------------------------ money
_WAN = re.compile(r"^([0-9.]+)\s*(万|w|万元)$", re.IGNORECASE)


def parse_budget(value) -> decimal.Decimal | None:
    """`500000`, `500,000.00`, `¥50万`, `50w` → Decimal('500000.00'); None when empty.
    Raises ValueError for anything else (or a negative / too large amount)."""
    if value is None:
        return None
    if value.__class__ is str:
        return _budget_text(value)
    return _parse_budget(value)


@functools.lru_cache(maxsize=65_536)
def _budget_text(value: str) -> decimal.Decimal | None:
    """Cached (a Decimal is immutable; a refused text is not cached and raises again): the
    amounts of an import file repeat."""
    return _parse_budget(value)


def _parse_budget(value) -> decimal.Decimal | None:
    text = _text(value).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    text = text.removesuffix("元").strip()
    if not text:
        return None
    factor = 1
    wan = _WAN.match(text)
    if wan:
        text, factor = wan.group(1), 10_000
    try:
        amount = decimal.Decimal(text) * factor
    except decimal.InvalidOperation:
        raise ValueError("预算不是金额 / budget is not an amount") from None
    if not amount.is_finite() or amount < 0 or amount >= 10 ** 14:
        raise ValueError("预算超出范围 / budget out of range")
    return amount.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)
