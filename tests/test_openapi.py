"""The OpenAPI 3.1 document: generated from every registered route, valid per
openapi-spec-validator, served at `/api/v1/openapi.json`, honouring handlers' declarations."""
from __future__ import annotations

import jsonschema
import pytest
import tornado.web
from openapi_spec_validator import validate

from core.openapi import (ERROR_SCHEMA, build_document, capture_groups, document_for_app,
                          implemented_methods)
from core.web.app import make_app
from core.web.base import ERROR_CODES, BaseHandler
from tests.support import ADMIN_PASSWORD, TEST_PG_URL, login, make_install, pg_schema_url


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One install for the module's document tests (the document needs routes, not data)."""
    import contextlib

    with contextlib.ExitStack() as stack:
        data_dir = tmp_path_factory.mktemp("openapi") / "data"
        url = (stack.enter_context(pg_schema_url(TEST_PG_URL)) if TEST_PG_URL
               else f"sqlite:///{data_dir / 'huike.db'}")
        installed = stack.enter_context(make_install(data_dir, url))
        yield make_app(installed.registry)


@pytest.fixture(scope="module")
def document(app):
    return document_for_app(app)


def test_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert "x-huike-unlisted" not in document  # every route could be written as a path


def test_every_route_and_method_is_documented(app, document):
    routes = [rule for rule in app.wildcard_router.rules
              if not getattr(rule.target, "openapi_exclude", False)]  # web pages: not API
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert len(documented) == sum(len(implemented_methods(r.target)) for r in routes)
    assert ("get", "/api/v1/openapi.json") in documented
    assert ("post", "/api/v1/auth/login") in documented
    assert ("get", "/healthz") in documented
    module_tags = {op["tags"][0] for item in document["paths"].values()
                   for key, op in item.items() if key != "parameters"}
    assert {"core", "base", "security.auth"} <= module_tags


def test_path_parameters_are_named_after_the_handler_arguments(document):
    item = document["paths"]["/api/v1/auth/tokens/{token_id}"]
    assert item["parameters"] == [{"name": "token_id", "in": "path", "required": True,
                                   "schema": {"type": "integer", "minimum": 0}}]
    for path, item in document["paths"].items():
        names = [p["name"] for p in item.get("parameters", [])]
        assert names == [part[1:-1] for part in path.split("/") if part.startswith("{")], path


def test_every_operation_lists_the_shared_error_responses(document):
    schema = document["components"]["schemas"]["Error"]
    assert schema == ERROR_SCHEMA
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"] and op["operationId"], (method, path)
            for status in ERROR_CODES:
                ref = op["responses"][str(status)]["$ref"]
                response = document["components"]["responses"][ref.rsplit("/", 1)[1]]
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}


def test_query_arguments_read_by_a_handler_are_listed(document):
    params = document["paths"]["/api/v1/outbox"]["get"]["parameters"]
    assert {(p["name"], p["in"]) for p in params} == {("status", "query"), ("limit", "query")}
    assert "requestBody" not in document["paths"]["/api/v1/outbox"]["get"]
    assert document["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"][
        "application/json"]["schema"] == {"type": "object"}


class DeclaredHandler(BaseHandler):
    """Things (a test handler)."""

    openapi = {"post": {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}},
        "parameters": [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}]}}
    openapi_components = {"Thing": {"type": "object", "required": ["name"],
                                    "properties": {"name": {"type": "string"}}}}

    def get(self, group: str, thing_id: str) -> None:
        """Read one thing.

        Longer text."""
        self.write_json({"q": self.get_query_argument("q", "")})

    def post(self, group: str, thing_id: str) -> None:
        self.write_json(self.json_body(), 201)


def test_a_handler_declaration_is_merged_over_the_generated_operation():
    specs = [tornado.web.URLSpec(r"/api/v1/groups/(?P<group>[a-z]+)/things/(?P<thing_id>\d+)",
                                 DeclaredHandler)]
    document = build_document(specs)
    validate(document)
    item = document["paths"]["/api/v1/groups/{group}/things/{thing_id}"]
    assert [p["name"] for p in item["parameters"]] == ["group", "thing_id"]
    assert item["parameters"][0]["schema"] == {"type": "string", "pattern": "^(?:[a-z]+)$"}
    assert item["get"]["summary"] == "Read one thing."
    assert "Longer text." in item["get"]["description"]
    assert [p["name"] for p in item["get"]["parameters"]] == ["q"]
    post = item["post"]
    assert post["requestBody"]["required"] is True
    assert post["responses"]["201"]["description"] == "created"
    assert post["responses"]["422"] == {"$ref": "#/components/responses/E422"}  # kept
    assert [p["name"] for p in post["parameters"]] == ["dry_run"]
    assert "Thing" in document["components"]["schemas"]


def test_capture_groups_reads_nested_named_and_class_groups():
    assert capture_groups(r"/a/(\d+)/b/(?P<code>[a-z(]+)/(?:x|y)/(\w+)$") == [
        (None, r"\d+"), ("code", "[a-z(]+"), (None, r"\w+")]
    assert capture_groups(r"/a/((\d+)-(\d+))") == [(None, r"(\d+)-(\d+)"), (None, r"\d+"),
                                                   (None, r"\d+")]


def test_served_document_needs_a_signed_in_user_and_matches(http, document):
    assert http.get("/api/v1/openapi.json").status_code == 401
    login(http, "admin", ADMIN_PASSWORD)
    answer = http.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["paths"].keys() == document["paths"].keys()
    validate(answer.json())


def test_real_error_bodies_match_the_documented_error_schema(http):
    login(http, "admin", ADMIN_PASSWORD)
    for answer in (http.get("/api/v1/users/99999999999999999999999"),  # beyond 64 bits: 404
                   http.post("/api/v1/auth/tokens", data="{oops",
                             headers={"Content-Type": "application/json"}),
                   http.get("/api/v1/outbox?limit=abc")):
        assert 400 <= answer.status_code < 500, answer.text
        jsonschema.validate(answer.json(), ERROR_SCHEMA)
