"""Organisation reads, bounded by the user's data scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from shebao.accounts.roles import CENTRE_ROLES, Role
from shebao.orgs.models import Bank, Employer, Outlet, Region, Township


def region_ids_under(region_id: int | None) -> list[int]:
    """The region and every region below it (a city centre sees its counties)."""
    if region_id is None:
        return []
    ids = [region_id]
    frontier = [region_id]
    while frontier:
        frontier = list(Region.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def regions_visible_to(user) -> QuerySet[Region]:  # type: ignore[no-untyped-def]
    if user.is_superuser:
        return Region.objects.all()
    return Region.objects.filter(pk__in=region_ids_under(user.region_id)) if user.role in CENTRE_ROLES else Region.objects.none()


def employers_visible_to(user) -> QuerySet[Employer]:  # type: ignore[no-untyped-def]
    qs = Employer.objects.all()
    if user.is_superuser:
        return qs
    role = user.role
    if role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if role == Role.UNIT_CLERK:
        return qs.filter(pk=user.employer_id)
    if role == Role.TOWNSHIP_CLERK:
        return qs.filter(township_id=user.township_id)
    return qs.none()


def townships_visible_to(user) -> QuerySet[Township]:  # type: ignore[no-untyped-def]
    qs = Township.objects.all()
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if user.role == Role.TOWNSHIP_CLERK:
        return qs.filter(pk=user.township_id)
    return qs.none()


def banks_visible_to(user) -> QuerySet[Bank]:  # type: ignore[no-untyped-def]
    qs = Bank.objects.all()
    if user.is_superuser or user.role in CENTRE_ROLES:
        return qs
    if user.role == Role.BANK_CLERK:
        return qs.filter(pk=user.bank_id)
    return qs.none()


def outlets_visible_to(user) -> QuerySet[Outlet]:  # type: ignore[no-untyped-def]
    qs = Outlet.objects.all()
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if user.role == Role.BANK_CLERK:
        return qs.filter(pk=user.outlet_id) if user.outlet_id else qs.filter(bank_id=user.bank_id)
    if user.role == Role.TOWNSHIP_CLERK:
        return qs.filter(township_id=user.township_id)
    # Units and cardholders need to know where to pick cards up.
    return qs.filter(Q(kind=Outlet.Kind.BANK_BRANCH) | Q(kind=Outlet.Kind.SERVICE_WINDOW))
