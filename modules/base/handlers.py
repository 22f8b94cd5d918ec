"""HTTP API of the `base` module: shared helpers and the route table.

The handlers themselves live in `handlers_org.py` (divisions, departments, regions, roles),
`handlers_users.py` and `handlers_files.py` (attachments, tags). Services raise
`services.BaseError` subclasses; `service_errors()` turns them into the JSON error shape with
`fields` naming the bad input.
"""
from __future__ import annotations

import contextlib

import peewee as pw

from core.web.base import APIError, BaseHandler
from modules.base.services import BaseError
from security.passwords import PasswordPolicyError


@contextlib.contextmanager
def service_errors():
    """Map service errors to API errors: 422/404/409/403/413/415 with `fields`."""
    try:
        yield
    except BaseError as exc:
        raise APIError(exc.status, str(exc),
                       fields={exc.field: str(exc)} if exc.field else {}) from None
    except PasswordPolicyError as exc:
        raise APIError(422, str(exc), fields={"password": str(exc)}) from None
    except pw.IntegrityError:
        raise APIError(409, "与已有记录冲突 / conflicts with an existing record") from None


class BaseApiHandler(BaseHandler):
    """Helpers shared by the base module's handlers."""

    def body(self, allowed: set[str], required: set[str] = frozenset()) -> dict:
        """The JSON body, refusing unknown keys (400) and missing required ones (400)."""
        data = self.json_body()
        unknown = sorted(set(data) - allowed)
        missing = sorted(k for k in required if data.get(k) in (None, ""))
        if unknown or missing:
            fields = {k: "未知字段 / unknown field" for k in unknown}
            fields.update({k: "必填 / required" for k in missing})
            raise APIError(400, "请求字段有误 / invalid fields in request body", fields=fields)
        return data

    def int_arg(self, name: str, default: int | None = None, *, maximum: int | None = None):
        """A non-negative integer query argument (400 naming it if malformed)."""
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        if not raw.isdigit():
            raise APIError(400, f"{name} 必须是整数 / {name} must be an integer",
                           fields={name: "integer expected"})
        value = int(raw)
        return min(value, maximum) if maximum is not None else value

    def bool_arg(self, name: str) -> bool | None:
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return None
        if raw.lower() not in ("1", "0", "true", "false"):
            raise APIError(400, f"{name} 必须是 true/false / {name} must be true or false",
                           fields={name: "boolean expected"})
        return raw.lower() in ("1", "true")


def base_routes() -> list:
    from modules.base import handlers_files as files
    from modules.base import handlers_org as org
    from modules.base import handlers_users as users

    v1 = r"/api/v1"
    return [
        (rf"{v1}/divisions", org.DivisionsHandler),
        (rf"{v1}/departments", org.DepartmentsHandler),
        (rf"{v1}/departments/(\d+)", org.DepartmentHandler),
        (rf"{v1}/regions", org.RegionsHandler),
        (rf"{v1}/roles", org.RolesHandler),
        (rf"{v1}/users", users.UsersHandler),
        (rf"{v1}/users/(\d+)", users.UserHandler),
        (rf"{v1}/attachments", files.AttachmentsHandler),
        (rf"{v1}/attachments/(\d+)", files.AttachmentHandler),
        (rf"{v1}/tags", files.TagsHandler),
        (rf"{v1}/tags/(\d+)", files.TagHandler),
        (rf"{v1}/tags/(\d+)/links", files.TagLinksHandler),
        (rf"{v1}/tags/(\d+)/links/(\w+)/(\d+)", files.TagLinkHandler),
    ]
