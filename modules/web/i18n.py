"""Translations of the web UI: catalogs `modules/web/i18n/<area>.toml`, each with a `[zh_CN]`
and an `[en]` table of `key = "text"` (dotted ascii keys such as `leads.list.title`).

zh_CN is the default language; English is switchable (cookie `huike_lang`). A `Translator` is
made per request: `_("key")` (or `_("key", name=...)` to fill `{name}` placeholders) returns
the text in the request's language, and an unknown key returns the key itself and is recorded
in `translator.missing`, so tests can fail on any untranslated key (the page handler sends them
in the `X-Huike-I18n-Missing` header when the app setting `huike_i18n_strict` is on)."""
from __future__ import annotations

import tomllib
from pathlib import Path

DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
CATALOG_DIR = Path(__file__).resolve().parent / "i18n"

_cache: dict = {"stamp": None, "catalogs": None}


def _stamp() -> tuple:
    """Names and mtimes of the catalog files: catalogs reload when a file changes."""
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in CATALOG_DIR.glob("*.toml")))


def read_catalog_files() -> dict[str, dict[str, dict[str, str]]]:
    """`{file name: {language: {key: text}}}` exactly as written (for the completeness test)."""
    files = {}
    for path in sorted(CATALOG_DIR.glob("*.toml")):
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        files[path.name] = {lang: dict(data.get(lang, {})) for lang in LANGUAGES}
        unknown = set(data) - set(LANGUAGES)
        if unknown:
            raise ValueError(f"{path.name}: unknown language table(s) {sorted(unknown)}")
    return files


def catalogs() -> dict[str, dict[str, str]]:
    """`{language: {key: text}}` merged over every catalog file (reloaded when one changes)."""
    stamp = _stamp()
    if _cache["stamp"] != stamp:
        merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        for tables in read_catalog_files().values():
            for lang, entries in tables.items():
                merged[lang].update(entries)
        _cache["catalogs"], _cache["stamp"] = merged, stamp
    return _cache["catalogs"]


def normalise_language(code: str | None) -> str:
    """A supported language code for `code` (`en`, `en-US`, `zh_CN`, `zh-cn`...), else default."""
    text = (code or "").strip().replace("-", "_").lower()
    if text.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


class Translator:
    """`_` of one request: looks keys up in one language, remembers the keys it lacked."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.table = catalogs()[self.lang]
        self.missing: set[str] = set()

    def __call__(self, key: str, **values) -> str:
        text = self.table.get(key)
        if text is None:
            self.missing.add(key)
            return key
        if values:
            try:
                return text.format(**values)
            except (KeyError, IndexError, ValueError):
                self.missing.add(f"{key}(placeholders)")
                return text
        return text

    def pick(self, zh: str | None, en: str | None) -> str:
        """Choose between a record's Chinese and English labels (e.g. menu `label`/`label_en`)."""
        if self.lang == "en" and en:
            return en
        return zh or en or ""
