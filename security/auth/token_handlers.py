"""`/api/v1/auth/tokens`: create (the secret is in this answer only), list (never the secret),
revoke. Everyone manages their own tokens; administrators may list and revoke anyone's."""
from __future__ import annotations

from core.db import atomic
from core.web.base import APIError
from security.auth import audit_hook, tokens
from security.auth.handlers import AuthHandler
from security.auth.models import ApiToken


class TokensHandler(AuthHandler):
    """`GET` lists tokens (`?user_id=` or `?all=1` for administrators); `POST`
    `{"name", "expires_in_days"?}` creates one — from a login session only, so a leaked token
    cannot mint fresh ones."""

    def get(self) -> None:
        user = self.require_user()
        query = ApiToken.select().order_by(ApiToken.id)
        wanted = self.get_query_argument("user_id", "")
        show_all = self.get_query_argument("all", "") in ("1", "true")
        if (wanted or show_all) and not user.is_admin:
            raise APIError(403, "需要管理员权限 / administrator role required")
        if wanted:
            if not wanted.isdigit():
                raise APIError(422, "user_id 须为数字 / user_id must be an integer",
                               fields={"user_id": "integer"})
            query = query.where(ApiToken.user == int(wanted))
        elif not show_all:
            query = query.where(ApiToken.user == user)
        now = self.now
        self.write_json({"tokens": [tokens.serialise(t, now) for t in query]})

    def post(self) -> None:
        user = self.require_session_user()
        body = self.json_body()
        try:
            with atomic():
                token, secret = tokens.create(user, body.get("name"), body.get("expires_in_days"),
                                              self.now, self.app_settings)
                audit_hook.token_created(self, user, token)
        except tokens.TokenError as exc:
            raise APIError(422, str(exc), fields={exc.field: str(exc)})
        self.write_json({**tokens.serialise(token, self.now), "token": secret}, status=201)


class TokenHandler(AuthHandler):
    """`DELETE /api/v1/auth/tokens/<id>`: revoke (own token, or anyone's for administrators).
    Someone else's token answers 404, as if it did not exist."""

    def delete(self, token_id: str) -> None:
        user = self.require_user()
        token = ApiToken.get_or_none(ApiToken.id == int(token_id))
        if token is None or (token.user_id != user.id and not user.is_admin):
            raise APIError(404, "没有这个令牌 / no such token")
        with atomic():
            tokens.revoke(token, self.now)
            audit_hook.token_revoked(self, user, token)
        self.write_json(tokens.serialise(token, self.now))
