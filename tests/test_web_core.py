"""The web core answers every client error in the documented shape, with a request id."""
from __future__ import annotations


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
