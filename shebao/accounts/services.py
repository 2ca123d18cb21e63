from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from shebao.accounts.models import ApiToken, User
from shebao.audit import actions
from shebao.audit.services import audit_record
from shebao.core.errors import PermissionDenied, ValidationError


def token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; the plain key is returned once and never stored."""
    if not actor.can("token.manage"):
        raise PermissionDenied("只有中心复核员可以签发API令牌")
    if not name.strip():
        raise ValidationError("请填写令牌用途", field="name")
    key = "sb_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name.strip(), key_hash=ApiToken.hash_key(key), prefix=key[:8])
        audit_record(actor=actor, action=actions.TOKEN_CREATE, obj=token, new={"user": user.username, "name": name})
    return token, key


def token_revoke(*, actor: User, token: ApiToken) -> None:
    if not actor.can("token.manage"):
        raise PermissionDenied("只有中心复核员可以吊销API令牌")
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if updated:
            audit_record(actor=actor, action=actions.TOKEN_REVOKE, obj=token)


def token_authenticate(key: str) -> User | None:
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user
