"""Shared parsing for the payments commands: every command acts as a named user (for the audit log)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser


def add_actor(parser: CommandParser) -> None:
    parser.add_argument("--as", dest="username", required=True, help="操作人用户名 acting user (audited)")


def actor(options: dict[str, Any]):  # type: ignore[no-untyped-def]
    from shebao.accounts.models import User

    user = User.objects.filter(username=options["username"], is_active=True).first()
    if user is None:
        raise CommandError(f"用户“{options['username']}”不存在或已停用")
    return user


def region(code: str | None):  # type: ignore[no-untyped-def]
    from shebao.orgs.models import Region

    code = code or settings.SHEBAO_REGION_CODE
    found = Region.objects.filter(code=code).first()
    if found is None:
        raise CommandError(f"统筹区“{code}”不存在")
    return found
