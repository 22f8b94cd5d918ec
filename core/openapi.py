"""The OpenAPI 3.1 document of every route, generated from the running application's routes.

`GET /api/v1/openapi.json` (signed-in callers) answers `document_for_app(app)`, built once per
application from its URL rules — core routes and every module's `register_routes` — so the
document always describes exactly what is served:

- tornado URL patterns become OpenAPI paths: each capturing group is a path parameter named
  after the handler method's argument (`def get(self, account_id)` → `{account_id}`) or the
  group's name; `\\d+` groups are non-negative integers, others strings with the group's
  regex as `pattern`. Patterns that cannot be written as a path template are left out and
  listed under `x-huike-unlisted`.
- the methods are the ones the handler class implements (`get post put patch delete`);
  `summary`/`description` come from the method's docstring (else the class's).
- every operation lists the error responses, all with the shared error body
  `{"error": {"code", "message", "fields"}}` (`components/schemas/Error`).
- `post`/`put`/`patch` take an optional JSON object body; `delete` does when its code reads
  one. Query parameters named in the method's code (`get_query_argument("x")`,
  `self.arg("x")`, `int_arg("x")`, ...) are listed as optional strings.

A handler class with `openapi_exclude = True` (the web UI's pages and static files) is not
API and is left out. A handler may describe itself more precisely with an optional class
attribute, merged over the generated operation (responses key by key, parameters by name):

    class AccountsHandler(BaseHandler):
        openapi = {
            "get": {"parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}]},
            "post": {"requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"type": "object", "required": ["name"],
                                    "properties": {"name": {"type": "string"}}}}}},
                     "responses": {"201": {"description": "created", "content": {
                         "application/json": {"schema": {"$ref": "#/components/schemas/..."}}}}}},
        }
        # optional: extra named schemas for components/schemas
        openapi_components = {"Account": {"type": "object", ...}}
"""
from __future__ import annotations

import copy
import inspect
import re
from typing import Any, Iterable

import tornado.web
from tornado.routing import PathMatches, Rule

from core.web.base import ERROR_CODES, APIError, BaseHandler

METHODS = ("get", "post", "put", "patch", "delete")
BODY_METHODS = ("post", "put", "patch")
OPENAPI_VERSION = "3.1.0"
ERROR_REF = "#/components/schemas/Error"
_QUERY_CALL = re.compile(
    r"\b(?:get_query_argument|get_query_arguments|get_argument|get_arguments|arg|int_arg|"
    r"bool_arg|flag_arg|date_arg)\(\s*[\"']([A-Za-z_][A-Za-z0-9_\-]*)[\"']")
_BODY_CALL = re.compile(r"\b(?:json_body|body)\(")
_UNREVERSIBLE = re.compile(r"[\\?*+|()\[\]{}^$]")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "description": "机器可读的错误码 / machine-readable code"},
            "message": {"type": "string", "description": "中文 / English message"},
            "fields": {"type": ["object", "array"],
                       "description": "出错的字段 / the offending input, by field"},
            "request_id": {"type": ["string", "null"]},
        },
    }},
}
ANY_JSON: dict = {}  # any JSON value: handlers declare precise schemas through `openapi`


# ------------------------------------------------------------------ route → path
def capture_groups(pattern: str) -> list[tuple[str | None, str]]:
    """`(name or None, body)` of every capturing group of a regex source, left to right."""
    groups: list[tuple[int, str | None, str]] = []
    stack: list[tuple[int, str | None, bool]] = []
    index, escaped, in_class = 0, False, False
    while index < len(pattern):
        char = pattern[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            name, capturing, start = None, True, index + 1
            if pattern.startswith("(?P<", index):
                end = pattern.index(">", index)
                name, start = pattern[index + 4:end], end + 1
            elif pattern.startswith("(?", index):
                capturing = False
            stack.append((start, name, capturing))
        elif char == ")" and stack:
            start, name, capturing = stack.pop()
            if capturing:
                groups.append((start, name, pattern[start:index]))
        index += 1
    return [(name, body) for _, name, body in sorted(groups, key=lambda g: g[0])]


def param_schema(body: str) -> dict:
    """The JSON schema of a path parameter matched by the regex `body`."""
    if body in (r"\d+", "[0-9]+"):
        return {"type": "integer", "minimum": 0}
    return {"type": "string", "pattern": f"^(?:{body})$"}


def _argument_names(handler: type, count: int) -> list[str]:
    """Names of the positional arguments of the first implemented method (path params)."""
    for method in implemented_methods(handler):
        params = list(inspect.signature(getattr(handler, method)).parameters.values())[1:]
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(names) >= count:
            return names[:count]
    return [f"param{n + 1}" for n in range(count)]


def path_template(spec: Rule) -> tuple[str, list[dict]] | None:
    """`("/api/v1/accounts/{account_id}", [parameter, ...])`, or None if not reversible."""
    matcher = spec.matcher
    path = getattr(matcher, "_path", None)
    regex = getattr(matcher, "regex", None)
    if path is None or regex is None:
        return None
    groups = capture_groups(regex.pattern)
    if len(groups) != path.count("%s"):
        return None
    names = _argument_names(spec.target, len(groups))
    params, template = [], path
    for position, (group_name, body) in enumerate(groups):
        name = group_name or names[position]
        template = template.replace("%s", "{" + name + "}", 1)
        params.append({"name": name, "in": "path", "required": True,
                       "schema": param_schema(body)})
    if _UNREVERSIBLE.search(re.sub(r"\{[^}]+\}", "", template)):
        return None
    return template, params


# ------------------------------------------------------------------ handler → operations
def implemented_methods(handler: type) -> list[str]:
    """The HTTP methods a handler class itself answers (not tornado's 405 defaults)."""
    return [m for m in METHODS
            if getattr(handler, m, None) is not getattr(tornado.web.RequestHandler, m)]


def _doc_parts(*objects) -> tuple[str, str]:
    """(summary, description) from the first docstring found: the summary is the first
    paragraph on one line (cut at 160 characters), the description the whole docstring."""
    for obj in objects:
        doc = inspect.getdoc(obj)
        if doc:
            first = " ".join(doc.split("\n\n", 1)[0].split())
            if len(first) > 160:
                first = first[:157].rsplit(" ", 1)[0] + " …"
            return first, doc if doc != first else ""
    return "", ""


def _source(func) -> str:
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return ""


def _tag(handler: type) -> str:
    parts = handler.__module__.split(".")
    if parts[0] == "modules" and len(parts) > 1:
        return parts[1]
    if parts[0] == "security" and len(parts) > 1 and not parts[1].startswith(("crud", "reveals")):
        return f"security.{parts[1]}"
    return parts[0]


def error_responses() -> dict:
    return {str(status): {"$ref": f"#/components/responses/E{status}"}
            for status in sorted(ERROR_CODES)}


def _success(method: str, json_api: bool) -> dict:
    content = {"application/json": {"schema": ANY_JSON}} if json_api else {"*/*": {}}
    responses = {"2XX": {"description": "成功 / success", "content": content}}
    if method == "delete":
        responses["204"] = {"description": "已删除 / deleted, no body"}
    return responses


def operation(handler: type, method: str, operation_id: str) -> dict:
    """One generated operation, with the handler's `openapi` declaration merged over it."""
    func = getattr(handler, method)
    summary, description = _doc_parts(func, handler)
    json_api = issubclass(handler, BaseHandler)
    op: dict[str, Any] = {"operationId": operation_id, "tags": [_tag(handler)],
                          "summary": summary or f"{method.upper()} {handler.__name__}",
                          "responses": {**_success(method, json_api),
                                        **(error_responses() if json_api else {})}}
    if description:
        op["description"] = description
    source = _source(func)
    query = sorted(set(_QUERY_CALL.findall(source)))
    if query:
        op["parameters"] = [{"name": name, "in": "query", "required": False,
                             "schema": {"type": "string"}} for name in query]
    if method in BODY_METHODS or (method == "delete" and _BODY_CALL.search(source)):
        op["requestBody"] = {"required": False, "content": {
            "application/json": {"schema": {"type": "object"}}}}
    declared = (getattr(handler, "openapi", None) or {}).get(method)
    return merge_operation(op, declared) if declared else op


def merge_operation(op: dict, declared: dict) -> dict:
    """`declared` over `op`: responses key by key, parameters by (name, in), the rest replaced."""
    merged = copy.deepcopy(op)
    for key, value in copy.deepcopy(declared).items():
        if key == "responses":
            merged.setdefault("responses", {}).update(value)
        elif key == "parameters":
            keep = {(p.get("name"), p.get("in")): p for p in merged.get("parameters", [])}
            keep.update({(p.get("name"), p.get("in")): p for p in value})
            merged["parameters"] = list(keep.values())
        else:
            merged[key] = value
    return merged


def _operation_id(method: str, template: str, used: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", template.replace("/api/v1/", "/")).strip("_") or "root"
    candidate, counter = f"{method}_{slug}", 2
    while candidate in used:
        candidate, counter = f"{method}_{slug}_{counter}", counter + 1
    used.add(candidate)
    return candidate


# ------------------------------------------------------------------ the document
def components(extra_schemas: dict) -> dict:
    responses = {f"E{status}": {
        "description": f"{status} {code}",
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    } for status, code in sorted(ERROR_CODES.items())}
    return {
        "schemas": {"Error": ERROR_SCHEMA, **extra_schemas},
        "responses": responses,
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "API 令牌 / API token `hk_...` (POST /api/v1/auth/tokens)"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "huike_session",
                              "description": "登录会话；写操作还需 X-XSRF-Token 头 / login "
                                             "session; writes also need the X-XSRF-Token header"},
        },
    }


def build_document(specs: Iterable[Rule], *, version: str = "0",
                   modules: list[dict] | None = None) -> dict:
    """The OpenAPI 3.1 document of the given URL specs (in route order)."""
    paths: dict[str, dict] = {}
    extra: dict[str, Any] = {}
    unlisted: list[str] = []
    used: set[str] = set()
    for spec in specs:
        handler = spec.target
        if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
            continue
        if getattr(handler, "openapi_exclude", False):
            continue  # not API: the web UI's HTML pages and static files (modules/web)
        found = path_template(spec)
        if found is None:
            unlisted.append(spec.matcher.regex.pattern)
            continue
        template, params = found
        item = paths.setdefault(template, {})
        if params:
            item.setdefault("parameters", params)
        for method in implemented_methods(handler):
            if method not in item:
                item[method] = operation(handler, method, _operation_id(method, template, used))
        extra.update(getattr(handler, "openapi_components", None) or {})
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "汇客 Huike API", "version": version,
                 "description": "由已注册的路由生成 / generated from the registered routes. "
                                "Errors: {\"error\": {\"code\", \"message\", \"fields\"}}."},
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": components(extra),
    }
    if modules is not None:
        document["info"]["x-huike-modules"] = modules
    if unlisted:
        document["x-huike-unlisted"] = unlisted
    return document


def app_specs(app: tornado.web.Application) -> list[Rule]:
    """The application's path rules (URLSpecs, or rules tornado built from tuples)."""
    return [rule for rule in app.wildcard_router.rules if isinstance(rule.matcher, PathMatches)]


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("huike")
    except metadata.PackageNotFoundError:
        return "0"


def document_for_app(app: tornado.web.Application) -> dict:
    """The document of everything `app` serves (computed once per application)."""
    cached = app.settings.get("_huike_openapi")
    if cached is None:
        registry = app.settings.get("huike_registry")
        modules = None if registry is None else [
            {"name": m.name, "version": m.version} for m in registry.manifests]
        cached = build_document(app_specs(app), version=_package_version(), modules=modules)
        app.settings["_huike_openapi"] = cached
    return cached


class OpenAPIHandler(BaseHandler):
    """`GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every route (signed-in users)."""

    def get(self) -> None:
        if self.current_user is None:
            raise APIError(401, "请先登录 / authentication required")
        self.write_json(document_for_app(self.application))
