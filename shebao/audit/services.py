"""audit_record: the one way to write an audit row. Call it inside the transaction of the change."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from shebao.audit.models import AuditLog


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _actor_fields(actor: Any) -> tuple[Any, str]:
    if actor is None:
        return None, "系统"
    if isinstance(actor, str):
        return None, actor
    return actor, getattr(actor, "username", str(actor))


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditLog:
    """Write one audit row. `actor` is a User, a label such as "系统", or None."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    user, label = _actor_fields(actor)
    return AuditLog.objects.create(
        at=timezone.now(),
        actor=user,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        old=_jsonable(old) if old is not None else None,
        new=_jsonable(new) if new is not None else None,
        reason=reason,
    )


def audit_record_many(*, actor: Any, action: str, object_type: str, rows: Iterable[dict[str, Any]], reason: str = "") -> int:
    """Bulk audit rows for set-based work; each row dict has object_id, object_repr, old, new."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record_many must run inside the transaction of the change it records")
    user, label = _actor_fields(actor)
    now = timezone.now()
    batch: list[AuditLog] = []
    count = 0
    for row in rows:
        batch.append(
            AuditLog(
                at=now,
                actor=user,
                actor_label=label,
                action=action,
                object_type=object_type,
                object_id=str(row.get("object_id", "")),
                object_repr=str(row.get("object_repr", ""))[:200],
                old=_jsonable(row.get("old")),
                new=_jsonable(row.get("new")),
                reason=reason,
            )
        )
        if len(batch) >= 2000:
            AuditLog.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    if batch:
        AuditLog.objects.bulk_create(batch)
        count += len(batch)
    return count


def model_diff(instance: models.Model, fields: Iterable[str], new_values: Mapping[str, Any]) -> tuple[dict, dict]:
    """Old and new values of the fields that change."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for f in fields:
        before = getattr(instance, f)
        after = new_values.get(f, before)
        if before != after:
            old[f] = before
            new[f] = after
    return old, new
