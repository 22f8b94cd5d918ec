"""Every page, as every demo role: crawl each same-origin GET link reachable from `/` (detail
pages included, up to `CAP` pages per user) and fail on any server error, any error page with
status 500, or any i18n key without a translation (the live server runs with
`huike_i18n_strict`, so pages name their missing keys in `X-Huike-I18n-Missing`) — in zh_CN and
in English. Also: every key of every catalog exists in both languages."""
from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlparse

import pytest

from modules.web import i18n
from modules.web.tests.conftest import ROLE_USERS

CAP = 150
HREF_RE = re.compile(r'href="([^"#]*)"')
ERROR_RE = re.compile(r'class="hk-error-message">(.*?)</p>', re.S)
SKIP_PREFIXES = ("/logout", "/lang/", "/division/", "/static/", "/api/", "/login")
PER_LIST_DETAILS = 3  # detail links followed per distinct path pattern (/leads/1, /leads/2...)


def _pattern(path: str) -> str:
    return re.sub(r"/\d+", "/<id>", path)


def crawl(client, base_url: str) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Breadth-first over same-origin links; returns (status per url, missing keys per url,
    server errors)."""
    seen: dict[str, int] = {}
    missing: dict[str, str] = {}
    errors: list[str] = []
    per_pattern: dict[str, int] = {}
    queue = deque(["/"])
    while queue and len(seen) < CAP:
        url = queue.popleft()
        if url in seen:
            continue
        answer = client.get(url)
        seen[url] = answer.status_code
        if answer.status_code >= 500 or 'data-status="500"' in answer.text:
            message = ERROR_RE.search(answer.text)
            errors.append(f"{url} -> {answer.status_code}: "
                          f"{message.group(1) if message else answer.text[:300]}")
        if answer.headers.get("X-Huike-I18n-Missing"):
            missing[url] = answer.headers["X-Huike-I18n-Missing"]
        if not answer.headers.get("Content-Type", "").startswith("text/html"):
            continue
        for href in HREF_RE.findall(answer.text):
            link = urljoin(base_url + url, href.replace("&amp;", "&"))
            parsed = urlparse(link)
            if f"{parsed.scheme}://{parsed.netloc}" != base_url:
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if parsed.path.startswith(SKIP_PREFIXES) or path in seen:
                continue
            pattern = _pattern(parsed.path)
            if pattern != parsed.path:
                if per_pattern.get(pattern, 0) >= PER_LIST_DETAILS:
                    continue
                per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
            queue.append(path)
    return seen, missing, errors


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_reachable_page_renders_for_every_role(role, page_client, web_server):
    client = page_client(ROLE_USERS[role])
    for lang in ("zh_CN", "en"):
        client.get(f"/lang/{lang}?next=/")
        seen, missing, errors = crawl(client, web_server.base_url)
        assert seen.get("/") == 200, f"{role}: dashboard {seen.get('/')}"
        assert not errors, f"{role} ({lang}) server errors:\n" + "\n".join(errors)
        assert not missing, f"{role} ({lang}) untranslated keys: {missing}"


def test_crawl_reaches_the_menu_pages(page_client, web_server):
    """The crawl is not vacuous: a manager reaches every menu entry they are shown."""
    client = page_client("wang.fang")
    seen, _missing, _errors = crawl(client, web_server.base_url)
    menu = re.findall(r'data-menu="[a-z_]+" *href="([^"]+)"|href="([^"]+)" data-menu=',
                      client.get("/").text)
    urls = {a or b for a, b in menu}
    assert urls and urls <= set(seen), urls - set(seen)
    assert len(seen) > len(urls)


def test_every_catalog_key_exists_in_both_languages():
    files = i18n.read_catalog_files()
    assert {"shell.toml", "dashboard.toml"} <= set(files)
    problems = []
    owners: dict[str, str] = {}
    for name, tables in files.items():
        zh, en = set(tables["zh_CN"]), set(tables["en"])
        problems += [f"{name}: {key} has no English" for key in sorted(zh - en)]
        problems += [f"{name}: {key} has no zh_CN" for key in sorted(en - zh)]
        problems += [f"{name}: {key} is empty" for lang in tables
                     for key, text in tables[lang].items() if not str(text).strip()]
        for key in zh | en:
            if key in owners and owners[key] != name:
                problems.append(f"{key} is in both {owners[key]} and {name}")
            owners[key] = name
            if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+", key):
                problems.append(f"{name}: key {key!r} is not dotted ascii")
    assert not problems, "\n".join(problems)


def test_unknown_key_is_returned_and_recorded():
    translator = i18n.Translator("en")
    assert translator("shell.logout") == "Log out"
    assert translator("no.such.key") == "no.such.key"
    assert translator.missing == {"no.such.key"}
    assert i18n.Translator("zh_CN")("dashboard.sla.decided", n=3) == "（已判定 3 条）"
