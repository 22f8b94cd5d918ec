"""The baselines, served the way Huike is (tornado, same database, same connection handling),
with nothing of Huike's on the request path:

- `GET /hello` — tornado's hello world;
- `GET /bare/<accounts|contacts|opportunities|leads>?owner=<id>&q=<text>` — a bare peewee
  query of 50 rows (newest first) as JSON: the owner's rows (contacts: those of the owner's
  accounts), optionally with the name containing `q`. Encrypted fields are decrypted by the
  peewee fields as in Huike; there are no permission checks, no scopes and no masking.

    python -m bench.baseline_server --data-dir DIR --port 8901 [--processes 1]
"""
from __future__ import annotations

import argparse
import json

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.process
import tornado.web

LIMIT = 50


class HelloHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class BareListHandler(tornado.web.RequestHandler):
    """50 rows of a table as JSON, straight from peewee."""

    def prepare(self) -> None:
        from core.db import database, is_postgres, tune_kept_connection
        if database.connect(reuse_if_open=True) and not is_postgres():
            tune_kept_connection()  # as core.web.base does for Huike's kept connection

    def on_finish(self) -> None:
        """As Huike: PostgreSQL returns the connection to the pool; SQLite keeps it."""
        from core.db import database, is_postgres
        if is_postgres() and not database.is_closed():
            database.close()

    def get(self, kind: str) -> None:
        query = self._query(kind)
        if query is None:
            raise tornado.web.HTTPError(404)
        rows = list(query.order_by(query.model.id.desc()).limit(LIMIT).dicts())
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"items": rows}, ensure_ascii=False, default=str))

    def _query(self, kind: str):
        owner = self.get_query_argument("owner", "")
        text = self.get_query_argument("q", "")
        registry = self.application.settings["huike_registry"]
        tables = {"accounts": "contacts_account", "contacts": "contacts_contact",
                  "opportunities": "opportunities_opportunity", "leads": "leads_lead"}
        present = {m._meta.table_name: m for m in registry.models}
        model = present.get(tables.get(kind, ""))
        if model is None:
            return None
        query = model.select()
        if kind == "contacts":
            account = model.account.rel_model
            if owner:
                query = query.where(model.account.in_(
                    account.select(account.id).where(account.owner == int(owner))))
        elif owner:
            query = query.where(model.owner == int(owner))
        if text:
            query = query.where(model.name.contains(text))
        return query


def make_app(registry) -> tornado.web.Application:
    return tornado.web.Application([(r"/hello", HelloHandler),
                                    (r"/bare/(\w+)", BareListHandler)],
                                   huike_registry=registry,
                                   compress_response=True)  # as Huike's app (core/web/app.py)


def main() -> None:
    from core.config import load_settings
    from core.registry import Registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    sockets = tornado.netutil.bind_sockets(args.port, "127.0.0.1")
    if args.processes != 1:
        tornado.process.fork_processes(args.processes)
    registry = Registry.build(load_settings(args.data_dir))  # binds the database and keyring
    server = tornado.httpserver.HTTPServer(make_app(registry))
    server.add_sockets(sockets)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
