"""Reads of the switching app, bounded by the user's data scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from shebao.accounts.roles import CENTRE_ROLES, Role
from shebao.core.errors import PermissionDenied
from shebao.core.values.period import months_between, prev_period
from shebao.orgs.selectors import employers_visible_to, region_ids_under, townships_visible_to
from shebao.people.models import PaymentAccount
from shebao.people.selectors import account_effective, persons_visible_to
from shebao.switching.models import (
    AccountChange,
    ComparisonResult,
    ComparisonRun,
    Notice,
    SwitchFailure,
    VerificationForm,
)
from shebao.switching.services import FALLBACK_MONTHS


def runs_visible_to(user: Any) -> QuerySet[ComparisonRun]:
    qs = ComparisonRun.objects.select_related("created_by", "extract")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    return qs.none()


def run_get(user: Any, pk: int) -> ComparisonRun:
    run = runs_visible_to(user).filter(pk=pk).first()
    if run is None:
        raise PermissionDenied("该比对不存在或不在您的管辖范围内")
    return run


def run_results(user: Any, run: ComparisonRun, klass: str = "") -> QuerySet[ComparisonResult]:
    qs = (
        ComparisonResult.objects.filter(run=run, person__in=persons_visible_to(user).values("pk"))
        .select_related("person", "person__employer", "person__township", "card_record")
        .order_by("person__ssn")
    )
    return qs.filter(klass=klass) if klass else qs


def forms_visible_to(user: Any) -> QuerySet[VerificationForm]:
    """Centre roles: the forms of the units and townships of their region. A unit clerk: their unit's.
    A township clerk: their township's (not those of the units located there)."""
    qs = VerificationForm.objects.select_related("employer", "township")
    if user.is_superuser:
        return qs
    role = user.role
    if role in CENTRE_ROLES:
        return qs.filter(
            Q(employer__in=employers_visible_to(user).values("pk"))
            | Q(township__in=townships_visible_to(user).values("pk"))
        )
    if role == Role.UNIT_CLERK:
        return qs.filter(employer_id=user.employer_id)
    if role == Role.TOWNSHIP_CLERK:
        return qs.filter(township_id=user.township_id)
    return qs.none()


def form_get(user: Any, pk: int) -> VerificationForm:
    """One form, or PermissionDenied (403, audited) when it is not the user's."""
    form = forms_visible_to(user).filter(pk=pk).first()
    if form is None:
        raise PermissionDenied("该核实反馈表不属于您的单位或乡镇")
    return form


def forms_with_counts(user: Any) -> QuerySet[VerificationForm]:
    return (
        forms_visible_to(user)
        .annotate(
            people=Count("lines", distinct=True),
            switchable=Count("lines", filter=Q(lines__result__in=["switchable", "corrected"]), distinct=True),
            not_switchable=Count("lines", filter=Q(lines__result="not_switchable"), distinct=True),
        )
        .order_by("-period_issued", "code")
    )


def changes_visible_to(user: Any) -> QuerySet[AccountChange]:
    from django.db.models import Exists, OuterRef

    from shebao.switching.models import TownshipIntake

    return (
        AccountChange.objects.filter(person__in=persons_visible_to(user).values("pk"))
        .select_related(
            "person", "form", "bank", "submitted_by", "prepared_by", "decided_by", "payment_account"
        )
        .annotate(from_intake=Exists(TownshipIntake.objects.filter(change=OuterRef("pk"))))
    )


def change_get(user: Any, pk: int) -> AccountChange:
    change = changes_visible_to(user).filter(pk=pk).first()
    if change is None:
        raise PermissionDenied("该变更不存在或不在您的管辖范围内")
    return change


def approval_queue(user: Any) -> QuerySet[AccountChange]:
    return changes_visible_to(user).filter(state=AccountChange.State.PREPARED).order_by("prepared_at", "pk")


def check_queue(user: Any) -> QuerySet[AccountChange]:
    """Changes a township or unit submitted without a form (intake, a fixed failure): the centre clerk's."""
    return (
        changes_visible_to(user)
        .filter(state=AccountChange.State.SUBMITTED, form__isnull=True)
        .order_by("prepared_at", "pk")
    )


def fallback_account(person_id: int, period: int) -> PaymentAccount | None:
    """The account that paid before the switch, while `period` is within 6 months of the switch.

    寿县: the old passbook is kept for 6 months; a payment the card account returns can go there.
    """
    current = account_effective(person_id, period)
    if current is None or current.source != PaymentAccount.Source.SWITCH:
        return None
    if months_between(current.valid_from, period) >= FALLBACK_MONTHS:
        return None
    previous = account_effective(person_id, prev_period(current.valid_from))
    if previous is None or previous.pk == current.pk:
        return None
    return previous


def overdue_forms(user: Any, today: Any) -> QuerySet[VerificationForm]:
    """Forms not returned by their deadline: the units to chase. A form never downloaded is late too: its
    deadline runs from the day it was issued."""
    return (
        forms_visible_to(user)
        .filter(state__in=OVERDUE_STATES, deadline__lt=today)
        .order_by("deadline", "code")
    )


OVERDUE_STATES = (
    VerificationForm.State.GENERATED,
    VerificationForm.State.DOWNLOADED,
    VerificationForm.State.REJECTED,
)


def progress_by_org(user: Any, *, period: int, today: Any) -> list[dict[str, Any]]:
    """Per unit and township: beneficiaries, how many the card pays this period (coverage, 河南: target 100%;
    people of exempt categories are paid as before and are not counted), forms issued / returned / overdue,
    and people switched (by a form, township intake, the automatic rollout or by hand). A handful of grouped
    queries."""
    from shebao.people.models import PersonCategory
    from shebao.people.selectors import accounts_effective_subquery
    from shebao.switching.models import RolloutRule
    from shebao.switching.rollout import rules_in_force

    rules = list(RolloutRule.objects.all())
    exempt = [
        c for c in {x.category for x in rules} if (rule := rules_in_force(rules, c, period)) and rule.exempt
    ]
    people = (
        persons_visible_to(user)
        .filter(death_date__isnull=True, pk__in=PersonCategory.objects.values("person_id"))
        .exclude(pk__in=PersonCategory.objects.filter(category__in=exempt).values("person_id"))
        .annotate(kind=accounts_effective_subquery(period, "kind"))
    )
    counts = Count("pk"), Count("pk", filter=Q(kind=PaymentAccount.Kind.CARD))
    rows: dict[tuple[str, int], dict[str, Any]] = {}

    def row(key: tuple[str, int]) -> dict[str, Any]:
        return rows.setdefault(
            key,
            {
                "kind": key[0],
                "org_id": key[1],
                "total": 0,
                "on_card": 0,
                "issued": 0,
                "returned": 0,
                "overdue": 0,
                "switched": 0,
            },
        )

    for org_id, total, on_card in (
        people.filter(employer__isnull=False)
        .values("employer_id")
        .annotate(t=counts[0], c=counts[1])
        .order_by()
    ).values_list("employer_id", "t", "c"):
        row(("unit", org_id)).update(total=total, on_card=on_card)
    for org_id, total, on_card in (
        people.filter(employer__isnull=True, township__isnull=False)
        .values("township_id")
        .annotate(t=counts[0], c=counts[1])
        .order_by()
    ).values_list("township_id", "t", "c"):
        row(("township", org_id)).update(total=total, on_card=on_card)
    returned = [
        VerificationForm.State.RETURNED,
        VerificationForm.State.CHECKED,
        VerificationForm.State.APPROVED,
    ]
    late = Q(state__in=OVERDUE_STATES, deadline__lt=today)
    form_counts = (
        forms_visible_to(user)
        .values("employer_id", "township_id")
        .annotate(
            issued=Count("pk"),
            returned=Count("pk", filter=Q(state__in=returned)),
            overdue=Count("pk", filter=late),
        )
        .order_by()
    )
    for f in form_counts:
        key = ("unit", f["employer_id"]) if f["employer_id"] else ("township", f["township_id"])
        row(key).update(issued=f["issued"], returned=f["returned"], overdue=f["overdue"])
    from shebao.switching.models import TownshipIntake

    approved = AccountChange.objects.filter(
        state=AccountChange.State.APPROVED, person__in=persons_visible_to(user).values("pk")
    ).filter(fixes_failure__isnull=True)  # a failed switch fixed again is still one person switched
    took = TownshipIntake.objects.filter(change__isnull=False)
    # Each switch counts for whoever brought it: the form's unit or township, the township that took it
    # in, else (the automatic rollout, a clerk by hand) the person's unit or, without one, township.
    grouped = (
        (approved.filter(form__isnull=False), "form__employer_id", "form__township_id"),
        (
            approved.filter(form__isnull=True, pk__in=took.values("change_id")),
            None,
            "township_intake__township_id",
        ),
        (
            approved.filter(form__isnull=True).exclude(pk__in=took.values("change_id")),
            "person__employer_id",
            "person__township_id",
        ),
    )
    for qs, unit_field, town_field in grouped:
        fields = [f for f in (unit_field, town_field) if f]
        for g in qs.values(*fields).annotate(n=Count("person_id", distinct=True)).order_by():
            unit_id = g.get(unit_field) if unit_field else None
            key = ("unit", unit_id) if unit_id else ("township", g[town_field])
            row(key)["switched"] += g["n"]
    names = {
        ("unit", pk): name
        for pk, name in employers_visible_to(user)
        .filter(pk__in=[k[1] for k in rows if k[0] == "unit"])
        .values_list("pk", "name")
    }
    names.update(
        {
            ("township", pk): name
            for pk, name in townships_visible_to(user)
            .filter(pk__in=[k[1] for k in rows if k[0] == "township"])
            .values_list("pk", "name")
        }
    )
    out = []
    for key, r in rows.items():
        if key not in names:
            continue
        r["name"] = names[key]
        r["coverage"] = round(100 * r["on_card"] / r["total"], 1) if r["total"] else 0.0
        out.append(r)
    return sorted(out, key=lambda r: (r["coverage"], r["name"]))


def failures_visible_to(user: Any) -> QuerySet[SwitchFailure]:
    """Centre roles: by their persons' scope. A unit or township clerk: the cases sent back to them."""
    qs = SwitchFailure.objects.select_related("person", "change", "reported_by", "employer", "township")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(person__in=persons_visible_to(user).values("pk"))
    if user.role == Role.UNIT_CLERK:
        return qs.filter(employer_id=user.employer_id)
    if user.role == Role.TOWNSHIP_CLERK:
        return qs.filter(township_id=user.township_id)
    return qs.none()


def new_beneficiary_follow_up(user: Any) -> list[dict[str, Any]]:
    """New beneficiaries still without an account, with what the latest comparison says about their card."""
    from shebao.switching.services import new_beneficiaries_pending

    if user.role not in CENTRE_ROLES and not user.is_superuser:
        return []
    pending = new_beneficiaries_pending(region_id=user.region_id).filter(
        pk__in=persons_visible_to(user).values("pk")
    )
    run = (
        ComparisonRun.objects.filter(region_id=user.region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )
    results = {}
    if run is not None:
        results = {
            r.person_id: r for r in ComparisonResult.objects.filter(run=run, person__in=pending.values("pk"))
        }
    rows = []
    for person in pending.select_related("employer", "township").order_by("ssn")[:500]:
        result = results.get(person.pk)
        rows.append({"person": person, "result": result})
    return rows


def notices_visible_to(user: Any) -> QuerySet[Notice]:
    """Centre roles: every notice of their region (withdrawn ones too). Units and townships: the live
    notices of their region addressed to them."""
    qs = Notice.objects.select_related("published_by")
    if user.is_superuser:
        return qs
    if user.role in CENTRE_ROLES:
        return qs.filter(region_id__in=region_ids_under(user.region_id))
    if user.role == Role.UNIT_CLERK and user.employer_id:
        region_id, audience = user.employer.region_id, Notice.Audience.UNITS
    elif user.role == Role.TOWNSHIP_CLERK and user.township_id:
        region_id, audience = user.township.region_id, Notice.Audience.TOWNSHIPS
    else:
        return qs.none()
    # A notice of the county reaches its units; one of the city above reaches them too.
    regions = []
    from shebao.orgs.models import Region

    current: int | None = region_id
    while current is not None:
        regions.append(current)
        current = Region.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return qs.filter(
        region_id__in=regions, withdrawn_at__isnull=True, audience__in=[Notice.Audience.ALL, audience]
    )


def start_page_notices(user: Any) -> list[Notice]:
    """The live notices a unit or township clerk sees on their start page (the centre manages them on the
    notices page instead)."""
    if user.role not in (Role.UNIT_CLERK, Role.TOWNSHIP_CLERK):
        return []
    return list(notices_visible_to(user)[:5])


def person_decision(user: Any, person: Any, *, period: int) -> tuple[str, str]:
    """What the rollout policy decides for one person now: rules, their latest request and the card the
    latest comparison found (only a matched card counts)."""
    from shebao.switching.models import ComparisonClass, RolloutRule, SwitchPreference
    from shebao.switching.rollout import card_facts, person_facts, switch_decision

    run_id = (
        ComparisonRun.objects.filter(region_id=person.region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    result = (
        ComparisonResult.objects.filter(run_id=run_id, person=person)
        .exclude(klass=ComparisonClass.NOT_MATCHED)
        .select_related("card_record")
        .first()
    )
    preference = SwitchPreference.objects.filter(person=person).order_by("-asked_on", "-id").first()
    decision, reason = switch_decision(
        person_facts(person),
        card_facts(result.card_record if result else None),
        list(RolloutRule.objects.all()),
        preference.choice if preference else None,
        period=period,
    )
    return decision.label, reason


def change_warnings(change: AccountChange) -> list[str]:
    """What a reviewer must look at twice: the account differs from the card the comparison found, or the
    account name is not the person's name."""
    from shebao.core.values.names import names_equal

    warnings = []
    line = change.form_line
    if line is not None and change.account_no != line.card_account:
        warnings.append(
            "比对未找到该人员的社保卡账号" if not line.card_account else "与比对所得社保卡账号不同"
        )
    if not names_equal(change.account_name, change.person.name):
        warnings.append("户名与姓名不同")
    return warnings


def with_warnings(changes: Any) -> list[AccountChange]:
    out = list(changes)
    for change in out:
        change.warnings = change_warnings(change)  # type: ignore[attr-defined]
    return out
