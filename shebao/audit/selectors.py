from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied


def audit_search(
    user,  # type: ignore[no-untyped-def]
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditLog]:
    """The audit log for supervisors and auditors, filtered."""
    if not user.can("audit.view"):
        raise PermissionDenied("只有复核员和审计员可以查看审计日志")
    qs = AuditLog.objects.all()
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs.order_by("-at", "-id")
