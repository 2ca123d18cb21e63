"""Every write of the switching app: rules, preferences, forms, returns, account changes and the switch.

The comparison lives in comparison.py; reading returned files in returns.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from shebao.audit import actions as core_actions
from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import next_period, period_of
from shebao.orgs.models import Bank
from shebao.orgs.selectors import region_ids_under
from shebao.people.models import PaymentAccount, Person, PersonCategory
from shebao.people.selectors import accounts_effective_subquery, persons_visible_to
from shebao.switching import actions
from shebao.switching.models import (
    AccountChange,
    ComparisonClass,
    ComparisonResult,
    ComparisonRun,
    Notice,
    RolloutRule,
    SwitchFailure,
    SwitchPreference,
    TownshipIntake,
    VerificationForm,
    VerificationLine,
)
from shebao.switching.rollout import rules_in_force

CHUNK = 2000


# --- date rules (each in exactly one place) -------------------------------------------------------


def form_deadline(downloaded_on: dt.date) -> dt.date:
    """寿县: the unit returns the form 次月15日前 — by the 15th of the month after it was downloaded."""
    from shebao.core.selectors import workday_calendar
    from shebao.core.values.workdays import monthly_deadline

    return monthly_deadline(next_period(period_of(downloaded_on)), 15, workday_calendar())


def switch_effective_period(*, submitted_on: dt.date, approved_on: dt.date) -> int:
    """寿县: the card pays from the month after the unit submitted (报送) the form.

    The delay is `SHEBAO_SWITCH_DELAY_MONTHS` (default 1). A change approved late never reaches back into a
    period that had already begun when it was approved.
    """
    delay = settings.SHEBAO_SWITCH_DELAY_MONTHS
    return max(next_period(period_of(submitted_on), delay), period_of(approved_on))


def first_unfiled_period(*, person_id: int, period: int) -> int:
    """`period`, or the first month after it whose payroll holding the person has not been filed to the bank
    yet: a month already filed was paid into the old account, and the account history must say so. An
    approved payroll counts as filed: its lines' accounts are frozen at approval."""
    from shebao.payments.models import PaymentLine, Payroll

    filed = set(
        PaymentLine.objects.filter(
            person_id=person_id,
            payroll__kind=Payroll.Kind.NORMAL,
            payroll__state__in=[Payroll.State.APPROVED, Payroll.State.FILED, Payroll.State.RECONCILED],
            payroll__period__gte=period,
        )
        .values_list("payroll__period", flat=True)
        .distinct()
    )
    while period in filed:
        period = next_period(period)
    return period


FALLBACK_MONTHS = 6  # 寿县: "原领取养老金的存折（卡）需保留6个月"


# --- helpers --------------------------------------------------------------------------------------


def _transition(model: type, obj_id: int, old: str, new: str, **fields: Any) -> None:
    """Compare-and-swap a state: one of two concurrent callers wins, the other gets a StateError."""
    if new not in model.TRANSITIONS[old]:  # type: ignore[attr-defined]
        raise StateError(f"当前状态“{model.State(old).label}”不能变为“{model.State(new).label}”")  # type: ignore[attr-defined]
    if model.objects.filter(pk=obj_id, state=old).update(state=new, **fields) != 1:  # type: ignore[attr-defined]
        raise StateError("该记录已被他人处理，请刷新页面后查看")


# --- rollout rules and preferences ----------------------------------------------------------------


def rollout_rule_save(
    *,
    actor: Any,
    category: str,
    pays_from: int,
    exempt: bool = False,
    auto_born_on_or_after: dt.date | None = None,
    requires_activated_card: bool = True,
    auto_requires_in_region: bool = False,
    note: str = "",
) -> RolloutRule:
    """Create or change the rule of a category from a period on."""
    if not actor.can("switching.rules_edit"):
        raise PermissionDenied("只有中心复核员可以修改推进规则")
    values = {
        "exempt": exempt,
        "auto_born_on_or_after": auto_born_on_or_after,
        "requires_activated_card": requires_activated_card,
        "auto_requires_in_region": auto_requires_in_region,
        "note": note,
    }
    with transaction.atomic():
        rule, created = RolloutRule.objects.select_for_update().get_or_create(
            category=category, pays_from=pays_from, defaults=values
        )
        old = None if created else {k: getattr(rule, k) for k in values}
        if not created:
            for k, v in values.items():
                setattr(rule, k, v)
            rule.save()
        audit_record(actor=actor, action=actions.ROLLOUT_RULE_SAVE, obj=rule, old=old, new=values)
    return rule


def switch_preference_record(
    *, actor: Any, person: Person, choice: str, asked_on: dt.date, proof_note: str = ""
) -> SwitchPreference:
    """A person asks to switch to the card account or to stay on the old one."""
    if not actor.can("switching.preference_record"):
        raise PermissionDenied("您的角色不能登记本人申请")
    if choice not in SwitchPreference.Choice.values:
        raise ValidationError("申请事项应为“切换”或“维持原账户”", field="choice")
    if not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    with transaction.atomic():
        pref = SwitchPreference.objects.create(
            person=person, choice=choice, asked_on=asked_on, proof_note=proof_note[:200], recorded_by=actor
        )
        audit_record(
            actor=actor,
            action=actions.PREFERENCE_RECORD,
            obj=person,
            new={"choice": choice, "asked_on": asked_on, "proof_note": proof_note},
        )
    return pref


def latest_preference(person_id: int) -> str | None:
    """The person's latest recorded request ("switch" or "stay"), or None."""
    return (
        SwitchPreference.objects.filter(person_id=person_id)
        .order_by("-asked_on", "-id")
        .values_list("choice", flat=True)
        .first()
    )


# --- verification forms ---------------------------------------------------------------------------


def form_code(*, period: int, employer_id: int | None, township_id: int | None) -> str:
    if employer_id:
        return f"HF{period}U{employer_id:06d}"
    return f"HF{period}T{township_id:06d}"


def switch_candidates(*, region_id: int, period: int) -> QuerySet[Person]:
    """Living beneficiaries of the region not yet paid through the card, not waiting for a switch and not in
    an exempt category: whom the rollout decision is about (automatic.rollout_switches_prepare)."""
    return _not_on_card(region_id=region_id, period=period, rules=list(RolloutRule.objects.all()))


def _not_on_card(*, region_id: int, period: int, rules: list[RolloutRule]) -> QuerySet[Person]:
    exempt = [c for c in {r.category for r in rules} if (r := rules_in_force(rules, c, period)) and r.exempt]
    pending = AccountChange.objects.filter(
        Q(state__in=AccountChange.OPEN_STATES) | Q(state=AccountChange.State.APPROVED, valid_from__gt=period)
    ).values("person_id")
    qs = (
        Person.objects.filter(
            region_id__in=region_ids_under(region_id),
            death_date__isnull=True,
            pk__in=PersonCategory.objects.values("person_id"),
        )
        .annotate(current_kind=accounts_effective_subquery(period, "kind"))
        .exclude(current_kind=PaymentAccount.Kind.CARD)
        .exclude(pk__in=pending)
    )
    if exempt:
        qs = qs.exclude(pk__in=PersonCategory.objects.filter(category__in=exempt).values("person_id"))
    return qs


def form_candidates(*, region_id: int, period: int) -> QuerySet[Person]:
    """Whom a unit's or township's form lists to switch: the switch candidates, less, as the rollout
    decision (rollout.switch_decision) would leave them out: as the rollout decision (rollout.switch_decision) would leave them: exempt categories (their
    account does not change); whoever asked to stay on the old account; and whoever the rules in force keep
    on the old account unless they ask (70 and over at the cut-off, living outside the region) and has not
    asked to switch. A person whose categories have no rule in force yet is still listed.
    """
    from django.db.models import OuterRef, Subquery

    rules = list(RolloutRule.objects.all())
    in_force = [r for c in {r.category for r in rules} if (r := rules_in_force(rules, c, period))]
    latest_wish = (
        SwitchPreference.objects.filter(person_id=OuterRef("pk"))
        .order_by("-asked_on", "-id")
        .values("choice")[:1]
    )
    qs = (
        _not_on_card(region_id=region_id, period=period, rules=rules)
        .annotate(wish=Subquery(latest_wish))
        # filter, not exclude: NOT (wish = 'stay') is unknown, so false, for someone who never asked
        .filter(Q(wish__isnull=True) | Q(wish=SwitchPreference.Choice.SWITCH))
    )
    switching = [r for r in in_force if not r.exempt]
    if switching:
        automatic = Q()
        for rule in switching:
            condition = Q(category=rule.category)
            if rule.auto_born_on_or_after is not None:
                condition &= Q(person__birth_date__gte=rule.auto_born_on_or_after)
            if rule.auto_requires_in_region:
                condition &= Q(person__lives_in_region=True)
            automatic |= condition
        ruled = PersonCategory.objects.filter(category__in=[r.category for r in switching]).values(
            "person_id"
        )
        auto = PersonCategory.objects.filter(automatic).values("person_id")
        qs = qs.filter(Q(wish=SwitchPreference.Choice.SWITCH) | Q(pk__in=auto) | ~Q(pk__in=ruled))
    return qs


def _latest_run_id(region_id: int) -> int | None:
    return (
        ComparisonRun.objects.filter(region_id=region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )


_LINES_SQL = """
INSERT INTO {line} (form_id, row_no, person_id, ssn, name, bank_name, account_no, account_name,
                    card_no, card_bank_code, card_account, result, remark)
SELECT x.form_id, ROW_NUMBER() OVER (PARTITION BY x.form_id ORDER BY x.ssn), x.id, x.ssn, x.name,
       COALESCE(b.name, a.bank_name, ''), COALESCE(a.account_no, ''), COALESCE(a.account_name, ''),
       COALESCE(c.card_no, ''), COALESCE(c.bank_code, ''), COALESCE(c.bank_account, ''), '', ''
FROM (
  SELECT p.id, p.ssn, p.name, p.account_id, COALESCE(fu.id, ft.id) AS form_id
  FROM ({candidates}) p
  LEFT JOIN {form} fu ON fu.employer_id = p.employer_id AND fu.period_issued = %s AND fu.id > %s
  LEFT JOIN {form} ft ON p.employer_id IS NULL AND ft.township_id = p.township_id
                       AND ft.period_issued = %s AND ft.id > %s
) x
LEFT JOIN {account} a ON a.id = x.account_id
LEFT JOIN {bank} b ON b.id = a.bank_id
LEFT JOIN {result} r ON r.run_id = %s AND r.person_id = x.id AND r.klass IN ('{activated}', '{not_activated}')
LEFT JOIN {record} c ON c.id = r.card_record_id
WHERE x.form_id IS NOT NULL
"""


def forms_generate(*, actor: Any, period: int | None = None) -> list[VerificationForm]:
    """Generate this period's form for every unit and township of the actor's region that has people to verify.

    A person with an employer unit is on the unit's form; a person without one is on the township's form.
    Units and townships that already have this period's form are left alone (running it twice adds nothing).
    Set-based: the forms are bulk-created, then every line is written by one INSERT … SELECT that also takes
    the current account and, from the latest comparison, the card and its bank account.
    """
    from django.db import connection
    from django.db.models import Max

    from shebao.switching.models import CardSystemRecord

    if not actor.can("switching.form_generate"):
        raise PermissionDenied("您的角色不能生成核实反馈表")
    period = period or period_of(timezone.localdate())
    region_id = actor.region_id
    candidates = form_candidates(region_id=region_id, period=period).filter(
        Q(employer__isnull=False) | Q(township__isnull=False)
    )
    with transaction.atomic():
        taken = VerificationForm.objects.filter(period_issued=period)
        units = (
            candidates.filter(employer__isnull=False)
            .exclude(employer_id__in=taken.filter(employer__isnull=False).values("employer_id"))
            .order_by()
            .values_list("employer_id", flat=True)
            .distinct()
        )
        towns = (
            candidates.filter(employer__isnull=True)
            .exclude(township_id__in=taken.filter(township__isnull=False).values("township_id"))
            .order_by()
            .values_list("township_id", flat=True)
            .distinct()
        )
        before = VerificationForm.objects.aggregate(m=Max("id"))["m"] or 0
        # A form the unit never downloads is still due: the 15th of the month after it was issued (the first
        # download moves it to the 15th of the month after that day).
        due = form_deadline(timezone.localdate())
        new_forms = [
            VerificationForm(
                code=form_code(period=period, employer_id=e, township_id=None),
                employer_id=e,
                period_issued=period,
                generated_by=actor,
                deadline=due,
            )
            for e in sorted(units)
        ] + [
            VerificationForm(
                code=form_code(period=period, employer_id=None, township_id=t),
                township_id=t,
                period_issued=period,
                generated_by=actor,
                deadline=due,
            )
            for t in sorted(towns)
        ]
        VerificationForm.objects.bulk_create(new_forms, batch_size=1000)
        created = list(
            VerificationForm.objects.filter(pk__gt=before, period_issued=period)
            .select_related("employer", "township")
            .order_by("pk")
        )
        if created:
            sub_sql, sub_params = (
                candidates.annotate(account_id=accounts_effective_subquery(period))
                .order_by()
                .values("id", "ssn", "name", "employer_id", "township_id", "account_id")
                .query.sql_with_params()
            )
            sql = _LINES_SQL.format(
                line=VerificationLine._meta.db_table,
                candidates=sub_sql,
                form=VerificationForm._meta.db_table,
                account=PaymentAccount._meta.db_table,
                bank=Bank._meta.db_table,
                result=ComparisonResult._meta.db_table,
                record=CardSystemRecord._meta.db_table,
                activated=ComparisonClass.MATCHED_ACTIVATED,
                not_activated=ComparisonClass.MATCHED_NOT_ACTIVATED,
            )
            run_id = _latest_run_id(region_id) or 0
            with connection.cursor() as cursor:
                cursor.execute(sql, [*sub_params, period, before, period, before, run_id])
        audit_record_many(
            actor=actor,
            action=actions.FORM_GENERATE,
            object_type="switching.verificationform",
            rows=(
                {"object_id": f.pk, "object_repr": str(f)[:200], "new": {"period": period}} for f in created
            ),
        )
    return created


def form_mark_downloaded(
    *, form: VerificationForm, actor: Any, today: dt.date | None = None
) -> VerificationForm:
    """The unit's (or township's) own clerk downloads the form: the first download starts the clock."""
    today = today or timezone.localdate()
    with transaction.atomic():
        starts_clock = form.state == VerificationForm.State.GENERATED and _is_form_clerk(actor, form)
        if starts_clock:
            deadline = form_deadline(today)
            _transition(
                VerificationForm,
                form.pk,
                VerificationForm.State.GENERATED,
                VerificationForm.State.DOWNLOADED,
                downloaded_by=actor,
                downloaded_on=today,
                deadline=deadline,
            )
        audit_record(
            actor=actor,
            action=actions.FORM_DOWNLOAD,
            obj=form,
            new={"downloaded_on": today, "starts_clock": starts_clock},
        )
    form.refresh_from_db()
    return form


def _is_form_clerk(user: Any, form: VerificationForm) -> bool:
    if form.employer_id:
        return bool(user.role == "unit_clerk" and user.employer_id == form.employer_id)
    return bool(user.role == "township_clerk" and user.township_id == form.township_id)


def _sent_back_deadline(form: VerificationForm) -> dict[str, dt.date]:
    """A form sent back after its deadline would be overdue the moment the unit sees it: it gets a new one,
    by the 15th of the month after it was sent back."""
    today = timezone.localdate()
    if form.deadline is not None and form.deadline >= today:
        return {}
    return {"deadline": form_deadline(today)}


def form_check(*, form: VerificationForm, actor: Any, accept: bool, note: str = "") -> VerificationForm:
    """A centre clerk reviews (审核) a returned form with its stamped scan. Accepting prepares its submitted
    changes under the clerk's own name, for a supervisor to approve; sending it back rejects them and the
    unit (township) answers again. The unit's clerk is never the maker of a change to a person's account."""
    if not actor.can("switching.change_check"):
        raise PermissionDenied("只有中心经办员可以审核单位报送的核实反馈表")
    if not accept and not note.strip():
        raise ValidationError("退回时请填写退回原因", field="note")
    new_state = VerificationForm.State.CHECKED if accept else VerificationForm.State.REJECTED
    now = timezone.now()
    with transaction.atomic():
        _transition(
            VerificationForm,
            form.pk,
            VerificationForm.State.RETURNED,
            new_state,
            **(
                {"checked_by": actor, "checked_at": now, "review_note": note[:200]}
                if accept
                else {
                    "reviewed_by": actor,
                    "reviewed_at": now,
                    "review_note": note[:200],
                    **_sent_back_deadline(form),
                }
            ),
        )
        submitted = AccountChange.objects.filter(form=form, state=AccountChange.State.SUBMITTED)
        rows = list(submitted.values_list("person_id", "account_no", "account_name"))
        if accept:
            submitted.update(state=AccountChange.State.PREPARED, prepared_by=actor, prepared_at=now)
        else:
            submitted.update(
                state=AccountChange.State.REJECTED,
                decided_by=actor,
                decided_at=now,
                decision_note=f"核实反馈表被退回：{note}"[:200],
            )
        audit_record(
            actor=actor,
            action=actions.FORM_CHECK if accept else actions.FORM_REJECT,
            obj=form,
            old={"state": VerificationForm.State.RETURNED},
            new={"state": new_state, "changes": len(rows)},
            reason=note,
        )
        audit_record_many(
            actor=actor,
            action=actions.CHANGE_PREPARE if accept else actions.CHANGE_REJECT,
            object_type="people.person",
            rows=(
                {"object_id": pid, "object_repr": name, "new": {"account_no": no, "form": form.code}}
                for pid, no, name in rows
            ),
        )
    form.refresh_from_db()
    return form


def form_review(*, form: VerificationForm, actor: Any, approve: bool, note: str = "") -> VerificationForm:
    """A supervisor reviews a form a centre clerk has checked: approving approves its prepared changes;
    rejecting sends it back to the unit, whose prepared changes are then rejected. Never the clerk who
    checked it."""
    if not actor.can("switching.change_approve"):
        raise PermissionDenied("只有中心复核员可以复核核实反馈表")
    if not approve and not note.strip():
        raise ValidationError("退回时请填写退回原因", field="note")
    if form.state == VerificationForm.State.RETURNED:
        raise StateError("该表尚待中心经办员审核，审核后再复核")
    if form.checked_by_id == actor.pk:
        raise PermissionDenied("不能复核本人审核的核实反馈表，请由其他复核员处理")
    new_state = VerificationForm.State.APPROVED if approve else VerificationForm.State.REJECTED
    with transaction.atomic():
        _transition(
            VerificationForm,
            form.pk,
            VerificationForm.State.CHECKED,
            new_state,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
            review_note=note[:200],
            **({} if approve else _sent_back_deadline(form)),
        )
        for change_id in AccountChange.objects.filter(
            form=form, state=AccountChange.State.PREPARED
        ).values_list("pk", flat=True):
            if approve:
                account_change_approve(change_id=change_id, actor=actor)
            else:
                account_change_reject(change_id=change_id, actor=actor, reason=f"核实反馈表被退回：{note}")
        audit_record(
            actor=actor,
            action=actions.FORM_APPROVE if approve else actions.FORM_REJECT,
            obj=form,
            old={"state": VerificationForm.State.CHECKED},
            new={"state": new_state},
            reason=note,
        )
    form.refresh_from_db()
    return form


# --- account changes and the switch ---------------------------------------------------------------


class BankLookup:
    """Banks by code and by name, read once for a whole file."""

    def __init__(self) -> None:
        self.by_code: dict[str, Bank] = {}
        self.by_name: dict[str, Bank] = {}
        for bank in Bank.objects.all():
            self.by_code[bank.code] = bank
            self.by_name.setdefault(bank.name, bank)
            if bank.short_name:
                self.by_name.setdefault(bank.short_name, bank)

    def find(self, *, code: str = "", name: str = "") -> Bank | None:
        return self.by_code.get(code) or self.by_name.get(name.strip())


def account_change_prepare(
    *,
    actor: Any,
    person: Person,
    account_no: str,
    account_name: str,
    bank: Bank | None = None,
    bank_name: str = "",
    submitted_on: dt.date | None = None,
) -> AccountChange:
    """A centre clerk prepares a switch by hand (the person came in with card and ID)."""
    from django.db import IntegrityError

    from shebao.core.values.bank import parse_bank_account

    if not actor.can("switching.change_prepare"):
        raise PermissionDenied("您的角色不能提交发放账户变更")
    if not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内")
    number = parse_bank_account(account_no).value
    if not account_name.strip():
        raise ValidationError("请填写账户户名", field="account_name")
    try:
        with transaction.atomic():
            change = AccountChange.objects.create(
                person=person,
                bank=bank,
                bank_name=bank_name or (bank.name if bank else ""),
                account_no=number,
                account_name=account_name.strip()[:50],
                submitted_on=submitted_on or timezone.localdate(),
                prepared_by=actor,
            )
            audit_record(
                actor=actor,
                action=actions.CHANGE_PREPARE,
                obj=person,
                new={"account_no": number, "account_name": change.account_name},
            )
    except IntegrityError:
        raise StateError("该人员已有待复核的账户变更") from None
    return change


def account_change_check(*, change_id: int, actor: Any, accept: bool, note: str = "") -> AccountChange:
    """A centre clerk checks a change a township (intake) or a unit (failure fixed) submitted without a form:
    accepting prepares it under the clerk's own name for a supervisor; refusing rejects it with the reason."""
    if not actor.can("switching.change_check"):
        raise PermissionDenied("只有中心经办员可以审核单位（乡镇）报送的账户变更")
    if not accept and not note.strip():
        raise ValidationError("退回时请填写原因", field="reason")
    with transaction.atomic():
        change = AccountChange.objects.filter(pk=change_id).first()
        if change is None or not persons_visible_to(actor).filter(pk=change.person_id).exists():
            raise PermissionDenied("该变更不存在或不在您的管辖范围内")
        if change.form_id is not None:
            raise StateError("核实反馈表的变更请在该表页面整表审核")
        now = timezone.now()
        new_state = AccountChange.State.PREPARED if accept else AccountChange.State.REJECTED
        _transition(
            AccountChange,
            change.pk,
            AccountChange.State.SUBMITTED,
            new_state,
            **(
                {"prepared_by": actor, "prepared_at": now}
                if accept
                else {"decided_by": actor, "decided_at": now, "decision_note": note[:200]}
            ),
        )
        audit_record(
            actor=actor,
            action=actions.CHANGE_PREPARE if accept else actions.CHANGE_REJECT,
            obj=change,
            old={"state": AccountChange.State.SUBMITTED},
            new={"state": new_state, "account_no": change.account_no, "account_name": change.account_name},
            reason=note,
        )
    change.refresh_from_db()
    return change


def account_change_approve(*, change_id: int, actor: Any, today: dt.date | None = None) -> AccountChange:
    """Approve a prepared change: the card account pays from `switch_effective_period` on, as a NEW row of
    the account history (source=switch). The old rows stay; the old account is the fallback for 6 months.

    Never by the person who prepared it. Two supervisors at once: one wins, the other gets a StateError.
    """
    if not actor.can("switching.change_approve"):
        raise PermissionDenied("只有中心复核员可以复核发放账户变更")
    today = today or timezone.localdate()
    with transaction.atomic():
        change = AccountChange.objects.select_related("person", "form").filter(pk=change_id).first()
        if change is None or not persons_visible_to(actor).filter(pk=change.person_id).exists():
            raise PermissionDenied("该变更不存在或不在您的管辖范围内")
        if change.prepared_by_id == actor.pk:
            raise PermissionDenied("不能复核本人提交的变更，请由其他复核员处理")
        if latest_preference(change.person_id) == SwitchPreference.Choice.STAY:
            raise StateError(
                f"{change.person.name} 本人已申请维持原账户，不能切换；如本人改变意愿请先登记申请"
            )
        valid_from = first_unfiled_period(
            person_id=change.person_id,
            period=switch_effective_period(submitted_on=change.submitted_on, approved_on=today),
        )
        _transition(
            AccountChange,
            change.pk,
            AccountChange.State.PREPARED,
            AccountChange.State.APPROVED,
            decided_by=actor,
            decided_at=timezone.now(),
            valid_from=valid_from,
        )
        note = f"核实反馈表 {change.form.code}" if change.form else "账户切换"
        account = PaymentAccount.objects.create(
            person_id=change.person_id,
            bank=change.bank,
            bank_name=change.bank_name,
            account_no=change.account_no,
            account_name=change.account_name,
            kind=PaymentAccount.Kind.CARD,
            valid_from=valid_from,
            source=PaymentAccount.Source.SWITCH,
            note=note[:200],
        )
        AccountChange.objects.filter(pk=change.pk).update(payment_account=account)
        audit_record(
            actor=actor,
            action=actions.CHANGE_APPROVE,
            obj=change,
            old={"state": AccountChange.State.PREPARED},
            new={"state": AccountChange.State.APPROVED, "valid_from": valid_from},
        )
        audit_record(
            actor=actor,
            action=core_actions.ACCOUNT_ADD,
            obj=account,
            new={
                "person": change.person_id,
                "account_no": change.account_no,
                "account_name": change.account_name,
                "kind": PaymentAccount.Kind.CARD,
                "valid_from": valid_from,
                "source": PaymentAccount.Source.SWITCH,
            },
        )
    change.refresh_from_db()
    return change


def account_change_reject(*, change_id: int, actor: Any, reason: str) -> AccountChange:
    if not actor.can("switching.change_approve"):
        raise PermissionDenied("只有中心复核员可以驳回发放账户变更")
    if not reason.strip():
        raise ValidationError("请填写驳回原因", field="reason")
    with transaction.atomic():
        change = AccountChange.objects.filter(pk=change_id).first()
        if change is None or not persons_visible_to(actor).filter(pk=change.person_id).exists():
            raise PermissionDenied("该变更不存在或不在您的管辖范围内")
        _transition(
            AccountChange,
            change.pk,
            AccountChange.State.PREPARED,
            AccountChange.State.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=reason[:200],
        )
        audit_record(
            actor=actor,
            action=actions.CHANGE_REJECT,
            obj=change,
            old={"state": AccountChange.State.PREPARED},
            new={"state": AccountChange.State.REJECTED},
            reason=reason,
        )
    change.refresh_from_db()
    return change


# --- failure feedback -----------------------------------------------------------------------------


def switch_failure_report(
    *, actor: Any, change_id: int, period: int, reason: str, detail: str = ""
) -> SwitchFailure:
    """The bank could not pay into a switched account (户名不符, 挂失, 换卡中 …): the case goes back to the
    unit (or township) of the form, or of the person, with the reason on their page."""
    if not actor.can("switching.failure_report"):
        raise PermissionDenied("您的角色不能登记发放失败")
    if reason not in SwitchFailure.Reason.values:
        raise ValidationError("请选择失败原因", field="reason")
    from django.db import IntegrityError

    change = AccountChange.objects.select_related("form", "person").filter(pk=change_id).first()
    if change is None or not persons_visible_to(actor).filter(pk=change.person_id).exists():
        raise PermissionDenied("该变更不存在或不在您的管辖范围内")
    if change.state != AccountChange.State.APPROVED:
        raise StateError("只有已生效的账户切换才能登记发放失败")
    intake_township = (
        TownshipIntake.objects.filter(change=change).values_list("township_id", flat=True).first()
    )
    if change.form is not None:
        employer_id, township_id = change.form.employer_id, change.form.township_id
    elif intake_township is not None:  # the township that took it fixes it, whatever the person's unit
        employer_id, township_id = None, intake_township
    else:
        employer_id = change.person.employer_id
        township_id = None if employer_id else change.person.township_id
    if not employer_id and not township_id:
        raise ValidationError("该人员没有参保单位或乡镇，无法退回处理")
    try:
        with transaction.atomic():
            failure = SwitchFailure.objects.create(
                change=change,
                person_id=change.person_id,
                employer_id=employer_id,
                township_id=township_id,
                period=period,
                reason=reason,
                detail=detail[:200],
                reported_by=actor,
            )
            audit_record(
                actor=actor,
                action=actions.FAILURE_REPORT,
                obj=change.person,
                new={"change": change.pk, "period": period, "reason": reason, "detail": detail},
            )
    except IntegrityError:
        raise StateError("该切换已有待处理的发放失败记录") from None
    return failure


def switch_failure_resubmit(
    *, actor: Any, failure_id: int, account_no: str, account_name: str, bank_name: str = "", note: str = ""
) -> AccountChange:
    """The unit (township) fixed the case: the corrected account waits for a centre clerk
    (account_change_check), then a supervisor, like any answer of a unit."""
    failure = SwitchFailure.objects.select_related("person").filter(pk=failure_id).first()
    if failure is None or not _is_failure_clerk(actor, failure):
        raise PermissionDenied("只能处理本单位（本乡镇）的发放失败人员")
    from shebao.core.values.bank import parse_bank_account
    from shebao.core.values.names import names_equal

    number = parse_bank_account(account_no).value
    if not account_name.strip():
        raise ValidationError("请填写账户户名", field="account_name")
    if not names_equal(account_name, failure.person.name):
        raise ValidationError(
            f"户名“{account_name.strip()}”与姓名“{failure.person.name}”不一致，银行将拒绝发放",
            field="account_name",
        )
    with transaction.atomic():
        if AccountChange.objects.filter(
            person_id=failure.person_id, state__in=AccountChange.OPEN_STATES
        ).exists():
            raise StateError("该人员已有待复核的账户变更")
        bank = BankLookup().find(name=bank_name)
        change = AccountChange.objects.create(
            person_id=failure.person_id,
            bank=bank,
            bank_name=bank_name.strip()[:100],
            account_no=number,
            account_name=account_name.strip()[:50],
            submitted_on=timezone.localdate(),
            state=AccountChange.State.SUBMITTED,
            submitted_by=actor,
        )
        _transition(
            SwitchFailure,
            failure.pk,
            SwitchFailure.State.OPEN,
            SwitchFailure.State.RESUBMITTED,
            resolved_by=actor,
            resolved_at=timezone.now(),
            new_change=change,
        )
        audit_record(
            actor=actor,
            action=actions.FAILURE_RESUBMIT,
            obj=failure.person,
            old={"failure": failure.pk},
            new={"change": change.pk, "account_no": number, "account_name": change.account_name},
            reason=note,
        )
    return change


def _is_failure_clerk(user: Any, failure: SwitchFailure) -> bool:
    if failure.employer_id:
        return bool(user.role == "unit_clerk" and user.employer_id == failure.employer_id)
    return bool(user.role == "township_clerk" and user.township_id == failure.township_id)


# --- new beneficiaries (河南) ---------------------------------------------------------------------


def new_beneficiaries_pending(*, region_id: int) -> QuerySet[Person]:
    """Living beneficiaries without any payment account yet: their benefit is about to start."""
    return Person.objects.filter(
        region_id__in=region_ids_under(region_id),
        death_date__isnull=True,
        pk__in=PersonCategory.objects.values("person_id"),
    ).exclude(pk__in=PaymentAccount.objects.values("person_id"))


def new_beneficiaries_take_card(*, actor: Any, period: int) -> dict[str, int]:
    """河南: a new beneficiary is paid through their activated card from the start. Everyone without a
    payment account whose latest comparison found an activated card gets that account from `period`;
    the rest stay listed for follow-up (no card yet, not activated, not matched)."""
    if not actor.can("switching.change_prepare"):
        raise PermissionDenied("您的角色不能登记新增待遇人员的发放账户")
    run = (
        ComparisonRun.objects.filter(region_id=actor.region_id, state=ComparisonRun.State.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )
    if run is None:
        raise StateError("请先完成一次与卡系统的比对")
    pending = new_beneficiaries_pending(region_id=actor.region_id)
    ready = ComparisonResult.objects.filter(
        run=run, klass=ComparisonClass.MATCHED_ACTIVATED, person__in=pending.values("pk")
    ).values_list("person_id", "person__name", "card_record__bank_code", "card_record__bank_account")
    banks = BankLookup()
    created = 0
    with transaction.atomic():
        batch: list[PaymentAccount] = []
        for person_id, name, bank_code, account in ready.iterator(chunk_size=CHUNK):
            if not account:
                continue
            bank = banks.find(code=bank_code or "")
            batch.append(
                PaymentAccount(
                    person_id=person_id,
                    bank=bank,
                    bank_name=bank.name if bank else "",
                    account_no=account,
                    account_name=name,
                    kind=PaymentAccount.Kind.CARD,
                    valid_from=period,
                    source=PaymentAccount.Source.NEW_BENEFICIARY,
                    note=f"比对#{run.pk}：社保卡已激活",
                )
            )
            if len(batch) >= CHUNK:
                created += _create_accounts(batch, actor)
                batch = []
        created += _create_accounts(batch, actor)
    return {"created": created, "follow_up": new_beneficiaries_pending(region_id=actor.region_id).count()}


def _create_accounts(batch: list[PaymentAccount], actor: Any) -> int:
    if not batch:
        return 0
    made = PaymentAccount.objects.bulk_create(batch)
    audit_record_many(
        actor=actor,
        action=core_actions.ACCOUNT_ADD,
        object_type="people.paymentaccount",
        rows=(
            {
                "object_id": a.pk or "",
                "object_repr": a.account_name,
                "new": {
                    "person": a.person_id,
                    "account_no": a.account_no,
                    "valid_from": a.valid_from,
                    "source": a.source,
                },
            }
            for a in made
        ),
    )
    return len(made)


# --- notices --------------------------------------------------------------------------------------


def notice_publish(*, actor: Any, title: str, body: str, audience: str = Notice.Audience.ALL) -> Notice:
    """Publish a notice (公告) to the units and/or townships of the actor's region."""
    if not actor.can("switching.notice_publish"):
        raise PermissionDenied("您的角色不能发布公告")
    if not title.strip() or not body.strip():
        raise ValidationError("请填写公告标题和正文", field="title")
    if audience not in Notice.Audience.values:
        raise ValidationError("请选择发布对象", field="audience")
    with transaction.atomic():
        notice = Notice.objects.create(
            region_id=actor.region_id,
            title=title.strip()[:100],
            body=body.strip(),
            audience=audience,
            published_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.NOTICE_PUBLISH,
            obj=notice,
            new={"title": notice.title, "audience": audience},
        )
    return notice


def notice_withdraw(*, actor: Any, notice_id: int) -> None:
    if not actor.can("switching.notice_publish"):
        raise PermissionDenied("您的角色不能撤回公告")
    with transaction.atomic():
        if (
            Notice.objects.filter(
                pk=notice_id, region_id__in=region_ids_under(actor.region_id), withdrawn_at__isnull=True
            ).update(withdrawn_at=timezone.now())
            != 1
        ):
            raise StateError("该公告不存在或已撤回")
        audit_record(
            actor=actor, action=actions.NOTICE_WITHDRAW, object_type="switching.notice", object_id=notice_id
        )
