"""People reads. Every page, API endpoint and export gets its persons from `persons_visible_to`."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import OuterRef, Q, QuerySet, Subquery

from shebao.accounts.roles import CENTRE_ROLES, Role
from shebao.core.errors import PermissionDenied
from shebao.orgs.selectors import region_ids_under
from shebao.people.models import PaymentAccount, Person

# Other apps (cards) widen a bank clerk's scope: each hook returns a Q over Person for that user.
BANK_SCOPE_HOOKS: list[Callable[..., Q]] = []


def _bank_scope(user) -> Q:  # type: ignore[no-untyped-def]
    q = Q(pk__in=PaymentAccount.objects.filter(bank_id=user.bank_id).values("person_id"))
    for hook in BANK_SCOPE_HOOKS:
        q |= hook(user)
    return q


def persons_visible_to(user) -> QuerySet[Person]:  # type: ignore[no-untyped-def]
    qs = Person.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    role = user.role
    if role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if role == Role.UNIT_CLERK:
        return qs.filter(employer_id=user.employer_id)
    if role == Role.TOWNSHIP_CLERK:
        return qs.filter(township_id=user.township_id)
    if role == Role.BANK_CLERK:
        return qs.filter(_bank_scope(user))
    if role == Role.CARDHOLDER:
        return qs.filter(pk=user.person_id)
    return qs.none()


def person_get(user, pk: int) -> Person:  # type: ignore[no-untyped-def]
    """One person, or PermissionDenied when outside the user's scope (also for ids that do not exist)."""
    person = (
        persons_visible_to(user).select_related("region", "employer", "township").filter(pk=pk).first()
    )
    if person is None:
        raise PermissionDenied("该人员不在您的管辖范围内，或不存在")
    return person


def person_search(user, query: str = "") -> QuerySet[Person]:  # type: ignore[no-untyped-def]
    """Search by SSN (exact or prefix), by name (contains) or by pinyin initials (prefix)."""
    qs = persons_visible_to(user).select_related("employer", "township")
    q = (query or "").strip()
    if not q:
        return qs
    up = q.upper()
    if len(q) == 18 and q[:17].isdigit():
        return qs.filter(ssn=up)
    if q.isdigit():
        return qs.filter(ssn__startswith=q)
    if q.isascii() and q.isalpha():
        return qs.filter(name_initials__startswith=q.lower())
    return qs.filter(name__contains=q)


def account_effective(person_id: int, period: int) -> PaymentAccount | None:
    """The account that pays `period`: greatest valid_from <= period, latest row on a tie."""
    return (
        PaymentAccount.objects.filter(person_id=person_id, valid_from__lte=period)
        .select_related("bank")
        .order_by("-valid_from", "-id")
        .first()
    )


def accounts_effective_subquery(period: int, field: str = "pk") -> Subquery:
    """A correlated subquery (on OuterRef('pk') of Person) for set-based payroll work."""
    return Subquery(
        PaymentAccount.objects.filter(person_id=OuterRef("pk"), valid_from__lte=period)
        .order_by("-valid_from", "-id")
        .values(field)[:1]
    )


def account_history(person: Person) -> QuerySet[PaymentAccount]:
    return PaymentAccount.objects.filter(person=person).select_related("bank").order_by("-valid_from", "-id")
