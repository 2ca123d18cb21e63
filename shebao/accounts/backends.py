from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from shebao.accounts.models import LoginFailure


def is_locked_out(username: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    return LoginFailure.objects.filter(username=username.lower(), at__gte=since).count() >= settings.LOGIN_MAX_FAILURES


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses a username after repeated failures, even with the right password."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username and is_locked_out(username):
            # PermissionDenied stops Django trying other backends and fires user_login_failed.
            raise PermissionDenied("locked out")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username:
            ip = request.META.get("REMOTE_ADDR") if request is not None else None
            LoginFailure.objects.create(username=username.lower(), ip=ip)
        elif user is not None:
            LoginFailure.objects.filter(username=username.lower() if username else "").delete()
        return user
