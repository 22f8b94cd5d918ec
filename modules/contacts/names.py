"""`name_key`: a company name reduced to what tells companies apart, for duplicate warnings.

    上海振华重工（集团）股份有限公司   → 上海振华重工
    上海振华重工(集团)股份有限公司     → 上海振华重工
    深圳市汇川技术股份有限公司苏州分公司 → 深圳市汇川技术
    西门子（中国）有限公司              → 西门子
    ＡＢＢ　Ｃｏ．，Ｌｔｄ．            → abb

Steps: NFKC (full-width letters, digits, brackets and spaces become half-width); a branch
(…公司XX分公司) is cut back to its parent company; legal-form suffixes (有限责任公司, 股份有限公司,
有限公司, 公司, Co., Ltd., Inc., …) and the markers (集团) / (中国) / 集团 are stripped repeatedly
from the end (and the bracketed markers anywhere); then every punctuation and space goes and
Latin letters are lower-cased. Place names are kept: 北京华为 and 深圳华为 may be different
companies, and a warning is only a hint.
"""
from __future__ import annotations

import re
import unicodedata

LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "总公司", "公司", "集团", "厂")
LATIN_SUFFIXES = re.compile(
    r"(?:\b(?:co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|"
    r"group|holdings?)\b[\s.,&]*)+$")
MARKERS = re.compile(r"\((?:集团|中国|控股|china|group)\)")
BRANCH = re.compile(r"^(.+?公司).+分公司$")
PUNCTUATION = re.compile(r"[\W_]+")


def _strip_suffixes(text: str) -> str:
    """Remove legal-form suffixes and latin company words from the end until none is left
    (but never strip a name down to nothing)."""
    while True:
        before = text
        text = text.rstrip(" .,&-")
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        latin = LATIN_SUFFIXES.sub("", text).rstrip(" .,&-")
        if latin:
            text = latin
        text = MARKERS.sub("", text)
        if text == before:
            return text


def name_key(name: str) -> str:
    """The duplicate-detection key of a company name ("" for an empty name)."""
    text = unicodedata.normalize("NFKC", name or "").strip().casefold()
    text = re.sub(r"\s+", " ", text)
    branch = BRANCH.match(text)
    if branch:
        text = branch.group(1)
    text = MARKERS.sub("", text)
    text = _strip_suffixes(text)
    key = PUNCTUATION.sub("", text)
    return key or PUNCTUATION.sub("", unicodedata.normalize("NFKC", name or "").casefold())
