"""Payments reads. Payrolls are centre business: centre roles see their region and the regions below;
failed lines are also visible to a unit or township clerk for their own people (persons_visible_to)."""

from __future__ import annotations

from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from shebao.accounts.roles import CENTRE_ROLES
from shebao.core.errors import PermissionDenied
from shebao.orgs.selectors import region_ids_under
from shebao.payments.models import (
    BankFile,
    BenefitType,
    Certification,
    Entitlement,
    EntitlementChange,
    Overpayment,
    PaymentLine,
    Payroll,
)
from shebao.people.selectors import persons_visible_to


def payrolls_visible_to(user) -> QuerySet[Payroll]:  # type: ignore[no-untyped-def]
    qs = Payroll.objects.select_related("benefit_type", "region", "prepared_by", "approved_by")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    return qs.none()


def payroll_get(user, pk: int) -> Payroll:  # type: ignore[no-untyped-def]
    payroll = payrolls_visible_to(user).filter(pk=pk).first()
    if payroll is None:
        raise PermissionDenied("该发放表不在您的管辖范围内，或不存在")
    return payroll


def payroll_lines(payroll: Payroll, *, state: str = "") -> QuerySet[PaymentLine]:
    qs = PaymentLine.objects.filter(payroll=payroll).select_related("person", "bank", "bank_file")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("bank_file_id", "seq", "id")


def bank_file_get(user, pk: int) -> BankFile:  # type: ignore[no-untyped-def]
    bank_file = (
        BankFile.objects.select_related("payroll__benefit_type", "bank")
        .filter(pk=pk, payroll__in=payrolls_visible_to(user).values("pk"))
        .first()
    )
    if bank_file is None:
        raise PermissionDenied("该代发文件不在您的管辖范围内，或不存在")
    return bank_file


FAILURE_STATUSES = (("open", "待处理"), ("resolved", "已处理"), ("all", "全部"))


def failed_lines_visible_to(user, *, reason: str = "", status: str = "all") -> QuerySet[PaymentLine]:  # type: ignore[no-untyped-def]
    """Failed lines of the people the user sees; `status` open = no clerk has decided how to pay it yet."""
    qs = (
        PaymentLine.objects.filter(
            state=PaymentLine.State.FAILED, person__in=persons_visible_to(user).values("pk")
        )
        .select_related(
            "person",
            "bank",
            "payroll__benefit_type",
            "person__employer",
            "person__township",
            "resolution",
            "card_wait",
            "switch_failure",  # the switching app's case for a failed payment into a switched account
        )
        .prefetch_related("repayments")
    )
    if reason:
        qs = qs.filter(failure_code=reason)
    if status == "open":
        qs = qs.filter(resolution__isnull=True)
    elif status == "resolved":
        qs = qs.filter(resolution__isnull=False)
    return qs.order_by("-period", "failure_code", "person__ssn")


def held_lines_visible_to(user) -> QuerySet[PaymentLine]:  # type: ignore[no-untyped-def]
    return (
        PaymentLine.objects.filter(
            state=PaymentLine.State.HELD, person__in=persons_visible_to(user).values("pk")
        )
        .select_related("person", "bank", "payroll__benefit_type", "card_wait")
        .order_by("-period", "person__ssn")
    )


def entitlements_visible_to(user) -> QuerySet[Entitlement]:  # type: ignore[no-untyped-def]
    return Entitlement.objects.filter(person__in=persons_visible_to(user).values("pk")).select_related(
        "person", "benefit_type"
    )


def benefit_types() -> QuerySet[BenefitType]:
    return BenefitType.objects.all()


def line_get(user, pk: int) -> PaymentLine:  # type: ignore[no-untyped-def]
    line = (
        PaymentLine.objects.filter(pk=pk, person__in=persons_visible_to(user).values("pk"))
        .select_related("person", "bank", "payroll__benefit_type", "bank_file")
        .first()
    )
    if line is None:
        raise PermissionDenied("该发放明细不在您的管辖范围内，或不存在")
    return line


def overpayments_visible_to(user, *, state: str = "") -> QuerySet[Overpayment]:  # type: ignore[no-untyped-def]
    qs = Overpayment.objects.filter(person__in=persons_visible_to(user).values("pk")).select_related(
        "person", "line__payroll__benefit_type", "settled_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "-created_at", "-id")


def certification_people(  # type: ignore[no-untyped-def]
    user,
    *,
    period: int,
    status: str,
    ahead: int = 2,
    township_id: int | None = None,
    employer_id: int | None = None,
):
    """Recipients of monthly benefits, in the user's scope, who are overdue (suspended for want of a
    certification) or due: not certified in time for the end of `period` + `ahead` months. Optionally
    those of one township or one unit (an id outside the scope simply finds nobody)."""
    from shebao.core.values.period import next_period, period_of
    from shebao.payments.services import certification_threshold

    base = persons_visible_to(user).filter(death_date__isnull=True)
    if township_id:
        base = base.filter(township_id=township_id)
    if employer_id:
        base = base.filter(employer_id=employer_id)
    live = Entitlement.objects.filter(person=OuterRef("pk"), benefit_type__kind=BenefitType.Kind.MONTHLY)
    if status == "overdue":
        return base.filter(Exists(live.filter(state=Entitlement.State.SUSPENDED, reason="1201")))
    threshold = certification_threshold(next_period(period, ahead))
    return base.filter(
        Exists(live.filter(state=Entitlement.State.ACTIVE, from_period__lt=period_of(threshold)))
    ).exclude(Exists(Certification.objects.filter(person=OuterRef("pk"), certified_on__gte=threshold)))


def certification_list(user, *, period: int, status: str, ahead: int = 2, **where):  # type: ignore[no-untyped-def]
    """The people of `certification_people`, with their last certification, by township and unit."""
    qs = certification_people(user, period=period, status=status, ahead=ahead, **where)
    qs = qs.annotate(last_certified=Max("certifications__certified_on"))
    return (
        qs.select_related("employer", "township")
        .order_by("township__code", "employer__code", "ssn")
        .distinct()
    )


def certification_counts(user, *, period: int, status: str, by: str, ahead: int = 2) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """How many people are due (or overdue) per township (`by="township"`) or per unit (`by="employer"`),
    most first; people without one are counted under id None."""
    if by not in ("township", "employer"):
        raise ValueError(by)
    qs = certification_people(user, period=period, status=status, ahead=ahead)
    rows = qs.order_by().values_list(f"{by}_id", f"{by}__name").annotate(n=Count("pk"))
    return [
        {"id": pk, "name": name or "", "n": n}
        for pk, name, n in sorted(rows, key=lambda r: (-r[2], r[1] or ""))
    ]


def certification_history(person) -> QuerySet[Certification]:  # type: ignore[no-untyped-def]
    return Certification.objects.filter(person=person).select_related("recorded_by")


def payment_statement(user, person_id: int) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """A person's payments: every line sent or to be sent, with its account and result (for the query
    pages). PermissionDenied outside the user's scope; a cardholder sees their own."""
    from shebao.people.selectors import person_get

    person = person_get(user, person_id)
    lines = (
        PaymentLine.objects.filter(person=person)
        .exclude(payroll__state=Payroll.State.DRAFT)
        .select_related("payroll__benefit_type", "bank", "bank_file__return_file")
        .order_by("-period", "-id")
    )
    return person, lines


def entitlement_get(user, pk: int) -> Entitlement:  # type: ignore[no-untyped-def]
    ent = entitlements_visible_to(user).filter(pk=pk).first()
    if ent is None:
        raise PermissionDenied("该待遇资格不在您的管辖范围内，或不存在")
    return ent


def pending_entitlement_changes(user) -> QuerySet[EntitlementChange]:  # type: ignore[no-untyped-def]
    return (
        EntitlementChange.objects.filter(
            state=EntitlementChange.State.PENDING,
            entitlement__person__in=persons_visible_to(user).values("pk"),
        )
        .select_related("entitlement__person", "entitlement__benefit_type", "requested_by")
        .order_by("requested_at", "id")
    )


def pending_entitlement_imports(user) -> QuerySet:  # type: ignore[no-untyped-def]
    """Entitlement files waiting for approval whose every row is a person the user sees."""
    from shebao.payments.models import EntitlementImport, EntitlementImportRow

    outside = EntitlementImportRow.objects.filter(batch=OuterRef("pk")).exclude(
        person__in=persons_visible_to(user).values("pk")
    )
    return (
        EntitlementImport.objects.filter(state=EntitlementImport.State.PENDING)
        .exclude(Exists(outside))
        .select_related("imported_by")
        .order_by("imported_at", "id")
    )


def pending_whitelist_visible_to(user) -> QuerySet:  # type: ignore[no-untyped-def]
    """Bank spellings recorded by a clerk and waiting for a supervisor's confirmation."""
    from shebao.payments.models import NameWhitelist

    return (
        NameWhitelist.objects.filter(
            confirmed_at__isnull=True, person__in=persons_visible_to(user).values("pk")
        )
        .select_related("person", "created_by")
        .order_by("created_at", "id")
    )
