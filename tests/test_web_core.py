"""The web core answers every client error in the documented shape, with a request id."""
from __future__ import annotations

import pytest


def assert_error_shape(response, status: int, code: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("X-Request-Id")
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_healthz_checks_the_database(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.headers["X-Request-Id"]


def test_request_id_is_echoed_when_supplied(http):
    response = http.get("/healthz", headers={"X-Request-Id": "abc123"})
    assert response.headers["X-Request-Id"] == "abc123"


def test_meta_modules_lists_load_order(http):
    modules = http.get("/api/v1/meta/modules").json()["modules"]
    names = [m["name"] for m in modules]
    assert names[0] == "base"
    assert all(m["state"] == "installed" for m in modules)


def test_unknown_route_is_json_404(http):
    assert_error_shape(http.get("/no/such/route"), 404, "not_found")


def test_wrong_method_is_json_405(http):
    assert_error_shape(http.request("DELETE", "/healthz"), 405, "method_not_allowed")


ECHO_MODULE = '''
from core.hooks import hookimpl
from core.web.base import APIError, BaseHandler


class EchoHandler(BaseHandler):
    def post(self):
        body = self.json_body()
        if "name" not in body:
            raise APIError(422, "name is required", fields={"name": "required"})
        self.write_json({"echo": body}, 201)


class BoomHandler(BaseHandler):
    def get(self):
        raise ZeroDivisionError("secret internals")

    def delete(self):
        import peewee
        raise peewee.IntegrityError("FOREIGN KEY constraint failed on secret_table")


@hookimpl
def register_routes(registry):
    return [(r"/api/v1/echo", EchoHandler), (r"/api/v1/boom", BoomHandler)]
'''


@pytest.fixture
def echo_http(tmp_path, database_url):
    import uuid

    from tests.modkit import write_module
    from tests.support import HttpClient, LiveServer, make_install

    name = f"echo{uuid.uuid4().hex[:8]}"
    write_module(tmp_path / "extra", name, depends=["base"], init_py=ECHO_MODULE)
    config = {"modules": {"paths": [str(tmp_path / "extra")]}, "server": {"max_json_bytes": 2048}}
    with make_install(tmp_path / "data", database_url, extra_config=config) as inst:
        with LiveServer(inst.registry) as live:
            yield HttpClient(live.base_url)


def test_json_round_trip(echo_http):
    response = echo_http.post("/api/v1/echo", json={"name": "华为技术有限公司"})
    assert response.status_code == 201
    assert response.json() == {"echo": {"name": "华为技术有限公司"}}


def test_malformed_json_is_400(echo_http):
    error = assert_error_shape(echo_http.post("/api/v1/echo", data=b'{"name": '), 400,
                               "malformed_json")
    assert "JSON" in error["message"]


def test_non_object_json_is_400(echo_http):
    assert_error_shape(echo_http.post("/api/v1/echo", data=b'[1, 2]'), 400, "malformed_json")


def test_invalid_utf8_is_400(echo_http):
    assert_error_shape(echo_http.post("/api/v1/echo", data=b'{"name": "\xff"}'), 400)


def test_oversize_body_is_413(echo_http):
    error = assert_error_shape(echo_http.post("/api/v1/echo", json={"name": "x" * 5000}), 413,
                               "payload_too_large")
    assert "2048" in error["message"]


def test_validation_error_names_the_field(echo_http):
    error = assert_error_shape(echo_http.post("/api/v1/echo", json={}), 422, "validation_failed")
    assert error["fields"] == {"name": "required"}


def test_server_error_is_json_without_internals(echo_http):
    response = echo_http.get("/api/v1/boom")
    error = assert_error_shape(response, 500, "internal_error")
    assert "secret internals" not in response.text and "ZeroDivision" not in response.text
    assert error["request_id"] == response.headers["X-Request-Id"]


def test_a_constraint_violation_is_a_409_without_internals(echo_http):
    response = echo_http.delete("/api/v1/boom")
    assert_error_shape(response, 409, "conflict")
    assert "secret_table" not in response.text
