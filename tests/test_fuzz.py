"""API fuzzing, short form: schemathesis over every operation of the OpenAPI document against
a live server (with the demo data loaded, so ids in paths find records), signed in as the
administrator through the real login + TOTP + token flow. Fails on any 5xx and on any error
body that is not `{"error": {"code", "message", "fields"}}`.

The long run is `python -m bench fuzz` (docs/benchmarks.md)."""
from __future__ import annotations

import tornado.web

from bench.fuzz import SHORT, run_schemathesis
from core.openapi import OpenAPIHandler
from core.web.base import BaseHandler
from tests.support import ADMIN_PASSWORD, LiveServer, login


def test_fuzz_every_operation_finds_no_server_error(install, server, http):
    from core.demo import load_demo

    load_demo(install.registry)
    login(http, "admin", ADMIN_PASSWORD)
    minted = http.post("/api/v1/auth/tokens", json={"name": "fuzz"})
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]

    result = run_schemathesis(server.base_url, token, user_id=install.admin.id,
                              token_id=minted.json()["id"], timeout=900, **SHORT)

    assert result.operations > 50  # every module's routes are in the document
    assert result.ok, "schemathesis found failures:\n" + result.output[-15000:]
    still = http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert still.status_code == 200, "the fuzz run lost its own access half-way: " + still.text


class BoomHandler(BaseHandler):
    """`GET` fails with an unhandled error for every id but 0 (a planted bug)."""

    def get(self, item_id: str) -> None:
        if int(item_id) != 0:
            raise RuntimeError("planted bug")
        self.write_json({"id": 0})


def test_fuzzer_reports_a_planted_server_error(install, monkeypatch):
    """The harness can fail: a route that answers 500 makes the run fail, naming it."""
    def app(registry, **overrides):
        return tornado.web.Application(
            [(r"/api/v1/openapi.json", OpenAPIHandler), (r"/api/v1/boom/(\d+)", BoomHandler)],
            huike_settings=registry.settings, huike_registry=registry,
            huike_authenticators=[lambda h: "fuzzer" if h.request.headers.get(
                "Authorization") == "Bearer hk_planted" else None])

    monkeypatch.setattr("core.web.app.make_app", app)
    with LiveServer(install.registry) as live:
        result = run_schemathesis(live.base_url, "hk_planted", user_id=0, token_id=0,
                                  timeout=300, **SHORT)
    assert not result.ok
    assert "Server error" in result.output and "/api/v1/boom/" in result.output
