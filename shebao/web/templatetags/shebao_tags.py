"""Template filters: masking by role, money, periods."""

from decimal import Decimal
from typing import Any

from django import template

from shebao.core.values.masking import mask_account, mask_phone, mask_ssn
from shebao.core.values.money import format_yuan_display
from shebao.core.values.period import format_period

register = template.Library()


def _full(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.sees_full_ids)


@register.filter
def ssn_for(value: str, user: Any) -> str:
    """Full SSN for roles that need it, masked for everybody else."""
    return value if _full(user) else mask_ssn(value or "")


@register.filter
def account_for(value: str, user: Any) -> str:
    return value if _full(user) else mask_account(value or "")


@register.filter
def phone_for(value: str, user: Any) -> str:
    return value if _full(user) else mask_phone(value or "")


@register.filter
def masked_ssn(value: str) -> str:
    return mask_ssn(value or "")


@register.filter
def masked_account(value: str) -> str:
    return mask_account(value or "")


@register.filter
def yuan(value: Decimal | None) -> str:
    return "" if value is None else format_yuan_display(Decimal(value))


@register.filter
def period(value: int | None) -> str:
    return "" if not value else format_period(int(value))


@register.simple_tag(takes_context=True)
def querystring_without(context: Any, *keys: str) -> str:
    params = context["request"].GET.copy()
    for k in keys:
        params.pop(k, None)
    return params.urlencode()


@register.filter
def can(user: Any, action: str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.can(action))


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
