"""Build the tornado application from a registry: core routes plus every module's routes."""
from __future__ import annotations

import json
import logging
import time

import tornado.web

from core.db import database
from core.migrate import installed_versions
from core.web.base import APIError, BaseHandler, NotFoundHandler

access_log = logging.getLogger("huike.access")


class HealthHandler(BaseHandler):
    """`GET /healthz`: 200 when the database answers a query, 503 otherwise."""

    def get(self) -> None:
        started = time.perf_counter()
        try:
            database.execute_sql("SELECT 1").fetchone()
        except Exception as exc:  # any driver error means "not healthy"
            raise APIError(503, f"数据库不可用 / database unavailable: {type(exc).__name__}")
        self.write_json({"status": "ok", "database": "ok",
                         "db_ms": round((time.perf_counter() - started) * 1000, 2)})


class ModulesMetaHandler(BaseHandler):
    """`GET /api/v1/meta/modules`: the loaded modules in load order with their versions."""

    def get(self) -> None:
        installed = installed_versions()
        self.write_json({"modules": [{
            "name": m.name, "version": m.version, "summary": m.summary,
            "depends": list(m.depends), "origin": m.origin,
            "installed_version": installed.get(m.name),
            "state": _state(m.version, installed.get(m.name)),
        } for m in self.registry.manifests]})


def _state(version: str, installed: str | None) -> str:
    if installed is None:
        return "not installed"
    return "installed" if installed == version else "to upgrade"


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Structured access log: one JSON line per request, carrying the request id."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    user = getattr(handler, "_current_user", None)
    access_log.log(level, json.dumps({
        "request_id": getattr(handler, "request_id", None) or handler._headers.get("X-Request-Id"),
        "method": handler.request.method, "path": handler.request.path, "status": status,
        "ms": round(handler.request.request_time() * 1000, 2),
        "ip": handler.request.remote_ip, "user": getattr(user, "login", None),
    }, ensure_ascii=False))


def core_routes() -> list:
    from core.openapi import OpenAPIHandler  # the document of every route (core/openapi.py)

    return [
        (r"/healthz", HealthHandler),
        (r"/api/v1/meta/modules", ModulesMetaHandler),
        (r"/api/v1/openapi.json", OpenAPIHandler),
    ]


def _normalise(route) -> tornado.web.URLSpec:
    if isinstance(route, tornado.web.URLSpec):
        return route
    pattern, handler, *rest = route
    return tornado.web.URLSpec(pattern, handler, rest[0] if rest else None)


def make_app(registry, **overrides) -> tornado.web.Application:
    """The application: core routes, then module routes in load order, JSON 404 for the rest."""
    from core.web.outbox import outbox_routes  # core feature, registered like a module's routes

    routes = [*core_routes(), *outbox_routes(),
              *registry.collect_list("register_routes", registry=registry)]
    settings = dict(
        huike_settings=registry.settings,
        huike_registry=registry,
        huike_authenticators=registry.collect_list("register_authenticators", registry=registry),
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        xsrf_cookies=False,
        compress_response=True,
    )
    settings.update(overrides)
    return tornado.web.Application([_normalise(r) for r in routes], **settings)
