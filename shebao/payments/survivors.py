"""丧葬补助金和抚恤金: after a death is recorded, the family is offered the one-off funeral grant and
survivor pension (人社部发〔2021〕18号, `rules.survivor_amounts`).

A clerk enters the inputs of the rule (the province's base, the contribution and pension months) and
the family member who receives the money (name, SSN, relation, account). `survivor_claim_create`
records the claim; when a supervisor other than that clerk approves it (`survivor_claim_decide`), the
recipient is granted two one-off entitlements (FUNERAL and SURVIVOR) for one period, so the money goes through the normal payroll of those types: generated, approved by a
supervisor other than the preparer, pre-flighted, filed to the bank and reconciled from the return
file. Open overpayments of the deceased (months paid after the death) may be offset against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.bank import parse_bank_account
from shebao.core.values.money import ZERO, parse_yuan
from shebao.core.values.names import normalize_name, validate_person_name
from shebao.core.values.period import next_period, period_of
from shebao.core.values.ssn import parse_ssn
from shebao.orgs.models import Bank
from shebao.payments import actions
from shebao.payments.models import BenefitType, Overpayment, Payroll, SurvivorClaim
from shebao.payments.rules import SurvivorAmounts, survivor_amounts
from shebao.people.models import PaymentAccount, Person
from shebao.people.selectors import account_effective, persons_visible_to

FUNERAL, SURVIVOR = "FUNERAL", "SURVIVOR"


def _require(actor, action: str) -> None:  # type: ignore[no-untyped-def]
    if actor is None or not actor.can(action):
        raise PermissionDenied("您的角色无权进行此操作")


def _months(value: int | str | None, what: str, field: str) -> int:
    try:
        months = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"{what}应为整数（月）", field=field) from None
    if months < 0 or months > 1200:
        raise ValidationError(f"{what}应在0到1200之间", field=field)
    return months


def survivor_period(today: dt.date | None = None) -> int:
    """The period the one-off payments go into: this month, or the first later month whose
    FUNERAL/SURVIVOR payroll has not been approved yet (an approved payroll takes no new lines)."""
    period = period_of(today or timezone.localdate())
    closed = set(
        Payroll.objects.filter(
            kind=Payroll.Kind.NORMAL, benefit_type__code__in=[FUNERAL, SURVIVOR], period__gte=period
        )
        .exclude(state=Payroll.State.DRAFT)
        .values_list("period", flat=True)
    )
    while period in closed:
        period = next_period(period)
    return period


def open_overpayments(deceased: Person) -> Decimal:
    total = Overpayment.objects.filter(person=deceased, state=Overpayment.State.OPEN).aggregate(
        s=Sum("amount")
    )["s"]
    return total or ZERO


@dataclass(frozen=True)
class SurvivorQuote:
    amounts: SurvivorAmounts
    open_overpayments: Decimal
    offset: Decimal
    funeral_net: Decimal
    survivor_net: Decimal
    period: int

    @property
    def total(self) -> Decimal:
        return self.funeral_net + self.survivor_net


def survivor_quote(
    *,
    deceased: Person,
    base_monthly_income: Decimal | str,
    contribution_months: int | str,
    pension_months: int | str = 0,
    offset_overpayments: bool = False,
) -> SurvivorQuote:
    """The amounts by the rule, and what is left of them after offsetting the deceased's open
    overpayments (from the funeral grant first, then the survivor pension)."""
    base = parse_yuan(base_monthly_income, field="base_monthly_income")
    amounts = survivor_amounts(
        base_monthly_income=base,
        contribution_months=_months(contribution_months, "累计缴费月数", "contribution_months"),
        pension_months=_months(pension_months or 0, "已领取养老金月数", "pension_months"),
    )
    owed = open_overpayments(deceased)
    offset = owed if offset_overpayments else ZERO
    if offset >= amounts.funeral_grant + amounts.survivor_pension:
        raise ValidationError(
            f"多发待遇{owed}元不少于丧葬补助金和抚恤金合计，不能抵扣，请由家属退回",
            field="offset_overpayments",
        )
    from_funeral = min(offset, amounts.funeral_grant)
    return SurvivorQuote(
        amounts=amounts,
        open_overpayments=owed,
        offset=offset,
        funeral_net=amounts.funeral_grant - from_funeral,
        survivor_net=amounts.survivor_pension - (offset - from_funeral),
        period=survivor_period(),
    )


def _recipient(*, actor, deceased: Person, ssn: str, name: str) -> Person:  # type: ignore[no-untyped-def]
    from shebao.people.services import person_create

    parsed = parse_ssn(ssn).value
    if parsed == deceased.ssn:
        raise ValidationError("领取人不能是死亡人员本人", field="recipient_ssn")
    name = validate_person_name(name, field="recipient_name")
    existing = Person.objects.filter(ssn=parsed).first()
    if existing is None:
        return person_create(actor=actor, region=deceased.region, ssn=parsed, name=name)
    if not persons_visible_to(actor).filter(pk=existing.pk).exists():
        raise ValidationError(
            "该社会保障号码的人员不在您的管辖范围内，请由其参保地办理", field="recipient_ssn"
        )
    if normalize_name(existing.name) != normalize_name(name):
        raise ValidationError(f"姓名与该社会保障号码登记的姓名“{existing.name}”不符", field="recipient_name")
    if existing.death_date is not None:
        raise ValidationError("领取人已登记死亡", field="recipient_ssn")
    return existing


def _account(  # type: ignore[no-untyped-def]
    *, actor, recipient: Person, period: int, bank: Bank | None, account_no: str
) -> PaymentAccount:
    """The recipient's account for the period. An account already on record is used (changing it would
    move every other benefit the recipient gets); a recipient without one gets the account given."""
    from shebao.people.services import account_add

    current = account_effective(recipient.pk, period)
    try:
        number = parse_bank_account(account_no).value if account_no.strip() else ""
    except ValidationError as exc:
        raise ValidationError(exc.message, field="account_no") from None
    if current is not None:
        if number and number != current.account_no:
            raise ValidationError(
                f"领取人已登记发放账户（尾号{current.account_no[-4:]}），一次性待遇将发放至该账户；"
                "如需更换账户请先在人员信息中变更",
                field="account_no",
            )
        return current
    if not number:
        raise ValidationError("领取人尚无发放账户，请填写银行账号", field="account_no")
    if bank is None:
        raise ValidationError("请选择开户银行", field="bank")
    return account_add(
        actor=actor,
        person=recipient,
        account_no=number,
        account_name=recipient.name,
        kind=PaymentAccount.Kind.OTHER_CARD,
        valid_from=period,
        bank=bank,
        source=PaymentAccount.Source.NEW_BENEFICIARY,
        note="丧葬补助金、抚恤金领取账户",
    )


def survivor_claim_create(
    *,
    deceased: Person,
    actor,  # type: ignore[no-untyped-def]
    base_monthly_income: Decimal | str,
    contribution_months: int | str,
    recipient_ssn: str,
    recipient_name: str,
    relation: str,
    pension_months: int | str = 0,
    bank: Bank | None = None,
    account_no: str = "",
    offset_overpayments: bool = False,
) -> SurvivorClaim:
    """Record the family's claim, waiting for a supervisor's approval (`survivor_claim_decide`): only
    then are the one-off FUNERAL and SURVIVOR entitlements granted and the overpayments offset. One
    claim per deceased person (a claim sent back may be recorded again)."""
    _require(actor, "survivor.claim")
    if deceased.death_date is None:
        raise StateError(f"{deceased.name}尚未登记死亡，请先登记死亡")
    if relation not in SurvivorClaim.Relation.values:
        raise ValidationError("请选择领取人与死亡人员的关系", field="relation")
    _types()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=deceased.pk)
        if live_claims(locked).exists():
            raise StateError(f"{locked.name}的丧葬补助金和抚恤金已核定，不能重复核定")
        quote = survivor_quote(
            deceased=locked,
            base_monthly_income=base_monthly_income,
            contribution_months=contribution_months,
            pension_months=pension_months,
            offset_overpayments=offset_overpayments,
        )
        recipient = _recipient(actor=actor, deceased=locked, ssn=recipient_ssn, name=recipient_name)
        account = _account(
            actor=actor, recipient=recipient, period=quote.period, bank=bank, account_no=account_no
        )
        try:
            with transaction.atomic():
                claim = SurvivorClaim.objects.create(
                    deceased=locked,
                    recipient=recipient,
                    relation=relation,
                    account=account,
                    base_monthly_income=parse_yuan(base_monthly_income),
                    contribution_months=int(contribution_months),
                    pension_months=int(pension_months or 0),
                    funeral_grant=quote.amounts.funeral_grant,
                    survivor_months=quote.amounts.survivor_months,
                    survivor_pension=quote.amounts.survivor_pension,
                    offset_amount=quote.offset,
                    period=quote.period,
                    created_by=actor,
                )
        except IntegrityError:
            raise StateError(f"{locked.name}的丧葬补助金和抚恤金刚刚已由他人核定") from None
        audit_record(
            actor=actor,
            action=actions.SURVIVOR_CLAIM,
            obj=locked,
            new={
                "recipient": recipient.pk,
                "relation": relation,
                "account": account.pk,
                "base_monthly_income": claim.base_monthly_income,
                "contribution_months": claim.contribution_months,
                "pension_months": claim.pension_months,
                "funeral_grant": claim.funeral_grant,
                "survivor_months": claim.survivor_months,
                "survivor_pension": claim.survivor_pension,
                "offset": claim.offset_amount,
                "period": claim.period,
                "state": claim.state,
            },
        )
    return claim


def live_claims(deceased: Person):  # type: ignore[no-untyped-def]
    """The deceased's claim that counts (pending or approved; a claim sent back does not)."""
    return SurvivorClaim.objects.filter(deceased=deceased).exclude(state=SurvivorClaim.State.REJECTED)


def _types() -> dict[str, BenefitType]:
    types = {t.code: t for t in BenefitType.objects.filter(code__in=[FUNERAL, SURVIVOR])}
    if len(types) != 2:
        raise StateError("系统未配置丧葬补助金或抚恤金待遇类型")
    return types


def survivor_claim_decide(
    *,
    claim: SurvivorClaim,
    approve: bool,
    actor,  # type: ignore[no-untyped-def]
    note: str = "",
) -> SurvivorClaim:
    """A centre supervisor other than the clerk who recorded the claim approves it (the recipient is
    granted the one-off entitlements for the first period still open, and the offset overpayments are
    closed) or sends it back (nothing is granted; the family's claim may be recorded again)."""
    from shebao.payments.models import (
        SURVIVOR_CLAIM_TRANSITIONS,
        Entitlement,
        EntitlementAmount,
    )

    _require(actor, "survivor.approve")
    S = SurvivorClaim.State
    to_state = S.APPROVED if approve else S.REJECTED
    with transaction.atomic():
        locked = (
            SurvivorClaim.objects.select_for_update().select_related("deceased", "recipient").get(pk=claim.pk)
        )
        if to_state not in SURVIVOR_CLAIM_TRANSITIONS[locked.state]:
            raise StateError(f"该笔丧葬补助金和抚恤金已{locked.get_state_display()}")
        if locked.created_by_id == actor.pk:
            raise PermissionDenied("不能复核自己核定的丧葬补助金和抚恤金，请由另一名复核员办理")
        fields: dict = {}  # type: ignore[type-arg]
        offset_ids: list[int] = []
        if approve:
            if locked.deceased.death_date is None:
                raise StateError(f"{locked.deceased.name}的死亡登记已撤销，请退回该申请")
            owed = Overpayment.objects.filter(person=locked.deceased, state=Overpayment.State.OPEN)
            if locked.offset_amount:
                offset_ids = list(owed.values_list("pk", flat=True))
                if open_overpayments(locked.deceased) != locked.offset_amount:
                    raise StateError("核定后待追回的多发待遇已有变化，抵扣金额不再准确，请退回后重新核定")
            from_funeral = min(locked.offset_amount, locked.funeral_grant)
            nets = (
                (FUNERAL, locked.funeral_grant - from_funeral),
                (SURVIVOR, locked.survivor_pension - (locked.offset_amount - from_funeral)),
            )
            period = survivor_period()
            types = _types()
            for code, amount in nets:
                if amount <= 0:
                    continue
                try:
                    with transaction.atomic():
                        ent = Entitlement.objects.create(
                            person=locked.recipient,
                            benefit_type=types[code],
                            from_period=period,
                            to_period=period,
                            created_by=locked.created_by,
                        )
                except IntegrityError:
                    raise StateError(
                        f"{locked.recipient.name}已有未终止的“{types[code].name}”待遇资格"
                    ) from None
                EntitlementAmount.objects.create(
                    entitlement=ent, amount=amount, valid_from=period, created_by=locked.created_by
                )
                audit_record(
                    actor=actor,
                    action=actions.ENTITLEMENT_CREATE,
                    obj=ent,
                    new={"benefit_type": code, "from_period": period, "to_period": period, "amount": amount},
                    reason=f"复核通过{locked.deceased.name}的丧葬补助金和抚恤金",
                )
                fields["funeral_entitlement" if code == FUNERAL else "survivor_entitlement"] = ent
            fields["period"] = period
        n = SurvivorClaim.objects.filter(pk=locked.pk, state=S.PENDING).update(
            state=to_state,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=note.strip()[:200],
            **fields,
        )
        if n != 1:
            raise StateError("该笔丧葬补助金和抚恤金已被他人复核")
        if offset_ids:
            Overpayment.objects.filter(pk__in=offset_ids, state=Overpayment.State.OPEN).update(
                state=Overpayment.State.OFFSET,
                reference=f"丧葬抚恤核定{locked.pk}",
                settled_by=actor,
                settled_at=timezone.now(),
            )
            audit_record_many(
                actor=actor,
                action=actions.OVERPAYMENT_SETTLE,
                object_type="payments.overpayment",
                rows=({"object_id": pk, "new": {"state": "offset"}} for pk in offset_ids),
                reason=f"从{locked.deceased.name}的丧葬补助金、抚恤金中抵扣",
            )
        audit_record(
            actor=actor,
            action=actions.SURVIVOR_CLAIM_DECIDE,
            obj=locked.deceased,
            old={"state": locked.state},
            new={"state": to_state, "claim": locked.pk, "period": fields.get("period", locked.period)},
            reason=note,
        )
    claim.refresh_from_db()
    return claim
