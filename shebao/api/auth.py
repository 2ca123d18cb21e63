from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from shebao.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """Authorization: Bearer <token>. The token acts with its user's role and data scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    param_name = "X-Api-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), TokenHeaderAuth(), SessionAuth()]
