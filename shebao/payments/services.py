"""Every write of the payments app: entitlements, payroll generation and approval, pre-flight,
bank files, return files and the name whitelist.

Each service takes keyword-only arguments and an `actor`, raises a DomainError a clerk can act on,
changes state through the transition tables with a row lock or a compare-and-swap, and writes its
audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from array import array
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, Round
from django.utils import timezone

from shebao.audit import actions as core_actions
from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.bank import parse_bank_account
from shebao.core.values.money import from_fen, parse_yuan, to_fen
from shebao.core.values.names import validate_person_name
from shebao.core.values.period import (
    next_period,
    parse_period,
    period_first_day,
    period_of,
    period_range,
    prev_period,
)
from shebao.orgs.models import Bank, Region
from shebao.orgs.selectors import region_ids_under
from shebao.payments import actions
from shebao.payments.layouts import FileHeader, ReturnFileRefused, get_layout
from shebao.payments.layouts.base import ReturnSource, check_batch_no
from shebao.payments.layouts.txt_v1 import RecordLayout
from shebao.payments.models import (
    ENTITLEMENT_TRANSITIONS,
    OVERPAYMENT_TRANSITIONS,
    PAYROLL_TRANSITIONS,
    BackPay,
    BankFile,
    BenefitType,
    Certification,
    Entitlement,
    EntitlementAmount,
    EntitlementChange,
    NameWhitelist,
    Overpayment,
    PaymentLine,
    Payroll,
    Resolution,
    ReturnFile,
)
from shebao.payments.preflight import (
    FALLBACK_MONTHS,
    PREFLIGHT_PREFIX,
    candidate_lines,
    holds_for,
    previous_account,
)
from shebao.payments.reconciliation import (
    ReconciliationError,
    bank_file_reconcile,
    fen_sum,
    filing_reconcile,
    payroll_reconcile,
    yuan,
)
from shebao.payments.signals import payroll_filed
from shebao.people.models import PaymentAccount, Person
from shebao.people.selectors import account_effective

CHUNK = 1000
# A bank file re-rendered for a download stays in memory up to this size, then moves to disk.
SPOOL_IN_MEMORY = 1024 * 1024
LS = PaymentLine.State


def _require(actor, action: str) -> None:  # type: ignore[no-untyped-def]
    if actor is None or not actor.can(action):
        raise PermissionDenied("您的角色无权进行此操作")


def _require_any(actor, action_names: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    if actor is None or not any(actor.can(a) for a in action_names):
        raise PermissionDenied("您的角色无权进行此操作")


def _check_period(period: int | str, what: str = "期别") -> int:
    try:
        return parse_period(period)
    except ValidationError as exc:
        raise ValidationError(f"{what}：{exc.message}", field="period") from None


def _check_amount(amount: Decimal | str) -> Decimal:
    value = parse_yuan(amount, field="amount")
    if value <= 0:
        raise ValidationError("金额应大于0", field="amount")
    return value


# --- entitlements -----------------------------------------------------------------------------


def entitlement_create(
    *,
    person: Person,
    benefit_type: BenefitType,
    from_period: int,
    amount: Decimal | str,
    actor,  # type: ignore[no-untyped-def]
    to_period: int | None = None,
) -> Entitlement:
    """Grant a benefit from `from_period` with its first amount. A one-off benefit is paid in one period."""
    _require(actor, "entitlement.edit")
    from_period = _check_period(from_period, "起始期")
    value = _check_amount(amount)
    if benefit_type.kind == BenefitType.Kind.ONE_OFF:
        to_period = from_period
    elif to_period is not None:
        to_period = _check_period(to_period, "终止期")
        if to_period < from_period:
            raise ValidationError("终止期不能早于起始期", field="to_period")
    with transaction.atomic():
        try:
            with transaction.atomic():
                ent = Entitlement.objects.create(
                    person=person,
                    benefit_type=benefit_type,
                    from_period=from_period,
                    to_period=to_period,
                    created_by=actor,
                )
        except IntegrityError:
            raise StateError(f"{person.name}已有未终止的“{benefit_type.name}”待遇资格") from None
        EntitlementAmount.objects.create(
            entitlement=ent, amount=value, valid_from=from_period, created_by=actor
        )
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_CREATE,
            obj=ent,
            new={
                "benefit_type": benefit_type.code,
                "from_period": from_period,
                "to_period": to_period,
                "amount": value,
            },
        )
    return ent


def entitlement_amount_change(
    *,
    entitlement: Entitlement,
    amount: Decimal | str,
    valid_from: int,
    actor,  # type: ignore[no-untyped-def]
    note: str = "",
) -> EntitlementAmount:
    """A new amount from `valid_from` on; earlier rows stay (payrolls already paid keep their amounts).

    Pages reach this through the maker-checker of `entitlement_change_request`/`_decide`; batch paths
    (an import of official decisions) call it directly."""
    _require_any(actor, ("entitlement.edit", "entitlement.approve"))
    valid_from = _check_period(valid_from, "调整起始期")
    value = _check_amount(amount)
    if valid_from < entitlement.from_period:
        raise ValidationError("调整起始期不能早于待遇起始期", field="valid_from")
    with transaction.atomic():
        locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
        if locked.state == Entitlement.State.TERMINATED:
            raise StateError("待遇已终止，不能调整金额")
        row = EntitlementAmount.objects.create(
            entitlement=locked, amount=value, valid_from=valid_from, note=note, created_by=actor
        )
        from shebao.payments.arrears import arrears_open

        arrears_open(entitlement=locked, valid_from=valid_from, actor=actor)
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_AMOUNT,
            obj=locked,
            new={"amount": value, "valid_from": valid_from},
            reason=note,
        )
    return row


def entitlement_transition(
    *,
    entitlement: Entitlement,
    to_state: str,
    reason: str,
    actor,  # type: ignore[no-untyped-def]
    to_period: int | None = None,
    from_period: int | None = None,
) -> Entitlement:
    """Suspend (1201/1202/1299) from `from_period` (default: this month), resume, or terminate
    (1401/1406/1407/1499) after `to_period` (default: this month is the last paid) an entitlement."""
    _require_any(actor, ("entitlement.edit", "entitlement.approve"))
    S = Entitlement.State
    if to_state == S.SUSPENDED and reason not in Entitlement.SUSPEND_REASONS:
        raise ValidationError("暂停原因应为1201、1202或1299", field="reason")
    if to_state == S.TERMINATED and reason not in Entitlement.TERMINATE_REASONS:
        raise ValidationError("终止原因应为1401、1406、1407或1499", field="reason")
    if to_state == S.ACTIVE:
        reason = ""
    with transaction.atomic():
        locked = Entitlement.objects.select_for_update().get(pk=entitlement.pk)
        if to_state not in ENTITLEMENT_TRANSITIONS[locked.state]:
            raise StateError(f"待遇当前为“{locked.get_state_display()}”，不能改为“{S(to_state).label}”")
        old = {"state": locked.state, "reason": locked.reason, "to_period": locked.to_period}
        locked.state, locked.reason = to_state, reason
        if to_state == S.SUSPENDED:
            current = period_of(timezone.localdate())
            locked.suspended_from = (
                _check_period(from_period, "暂停起始期") if from_period is not None else current
            )
        else:
            locked.suspended_from = None
        if to_state == S.TERMINATED:
            # Paid up to and including to_period; by default the current month is the last one paid.
            end = (
                _check_period(to_period, "终止期")
                if to_period is not None
                else period_of(timezone.localdate())
            )
            locked.to_period = max(locked.from_period, min(end, locked.to_period or end))
        locked.save(update_fields=["state", "reason", "to_period", "suspended_from", "updated_at"])
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_STATE,
            obj=locked,
            old=old,
            new={
                "state": locked.state,
                "reason": locked.reason,
                "to_period": locked.to_period,
                "suspended_from": locked.suspended_from,
            },
        )
    return locked


# --- payroll generation -------------------------------------------------------------------------


def _delete_draft_lines(payroll: Payroll) -> int:
    """Remove a draft's lines with one DELETE. The ORM's delete() would load every line to check the
    PROTECT relations (resolutions, overpayments, repayments), which only lines of a filed payroll have."""
    if payroll.state != Payroll.State.DRAFT:
        raise StateError("只有草稿发放表的明细可以删除重建")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PaymentLine._meta.db_table} WHERE payroll_id = %s", [payroll.pk])
        return cursor.rowcount


def _before_card_period(payroll: Payroll) -> bool:
    start = (
        BenefitType.objects.filter(pk=payroll.benefit_type_id)
        .values_list("card_from_period", flat=True)
        .first()
    )
    return start is not None and payroll.period < start


def _ensure_draft_files(payroll: Payroll) -> None:
    """A (draft) bank file row for every bank not yet having one in this payroll: the lines are numbered
    into them as they are made. Drafts no line reaches are removed when the payroll is filed."""
    have = set(BankFile.all_objects.filter(payroll=payroll).values_list("bank_id", flat=True))
    missing = [bank for bank in Bank.objects.order_by("code") if bank.pk not in have]
    if not missing:
        return
    BankFile.all_objects.bulk_create(
        [
            BankFile(
                payroll=payroll,
                bank=bank,
                layout=get_layout(bank.file_layout).name,
                batch_no=_batch_no(payroll, bank.code),
                business_date=None,
                sha256="",
                control_count=0,
                control_total=Decimal("0.00"),
                created_by_id=payroll.prepared_by_id,
            )
            for bank in missing
        ]
    )


def _insert_lines(payroll: Payroll, *, numbered: bool = True) -> int:
    """One INSERT … SELECT: entitlements owed for the period × their amount for the period × the account
    for the period. A terminated entitlement is still owed up to its to_period (a death in June pays June);
    a suspended one is owed only before its suspended_from (certification back-pay comes as separate lines).

    Each line is numbered into its bank's (draft) file as it is made: ``bank_file`` and ``seq`` 1, 2, 3 …
    by person within the bank, so filing writes no line unless the pre-flight moved some (``_number_files``).
    (`numbered=False` leaves them empty, which only the benchmark uses: to show what the numbering costs.)"""
    _ensure_draft_files(payroll)
    BF = BankFile._meta.db_table
    L = PaymentLine._meta.db_table
    E = Entitlement._meta.db_table
    A = EntitlementAmount._meta.db_table
    P = Person._meta.db_table
    PA = PaymentAccount._meta.db_table
    regions = region_ids_under(payroll.region_id)
    period = payroll.period
    first_day = period_first_day(period)
    region_marks = ", ".join(["%s"] * len(regions))
    # A benefit type whose card rollout starts later is paid to the latest account that is not the card
    # (the rollout policy); the SQL text only changes for such a payroll, so the plan stays the same.
    before_card = _before_card_period(payroll)
    not_card = " AND x.kind <> %s" if before_card else ""
    if numbered:
        numbering = """bf.id, CASE WHEN bf.id IS NULL THEN NULL
                              ELSE ROW_NUMBER() OVER (PARTITION BY bf.id ORDER BY e.person_id) END"""
        file_join = f"LEFT JOIN {BF} bf ON bf.payroll_id = %s AND bf.bank_id = pa.bank_id"
        order = "bf.id, e.person_id"
    else:
        numbering, file_join, order = "NULL, NULL", "", "e.person_id"
    sql = f"""
        INSERT INTO {L} (payroll_id, person_id, benefit_type_id, period, amount, kind, account_id, bank_id,
                         account_no, account_name, state, hold_code, hold_reason, failure_code, failure_text,
                         route_note, bank_file_id, seq)
        SELECT %s, e.person_id, e.benefit_type_id, %s, am.amount, %s, pa.id, pa.bank_id,
               COALESCE(pa.account_no, ''), COALESCE(pa.account_name, ''), %s, '', '', '', '', '',
               {numbering}
        FROM {E} e
        JOIN {P} p ON p.id = e.person_id
        JOIN {A} am ON am.id = (
            SELECT a2.id FROM {A} a2
            WHERE a2.entitlement_id = e.id AND a2.valid_from <= %s
            ORDER BY a2.valid_from DESC, a2.id DESC LIMIT 1)
        LEFT JOIN {PA} pa ON pa.id = (
            SELECT x.id FROM {PA} x
            WHERE x.person_id = e.person_id AND x.valid_from <= %s{not_card}
            ORDER BY x.valid_from DESC, x.id DESC LIMIT 1)
        {file_join}
        WHERE e.benefit_type_id = %s
          AND e.from_period <= %s
          AND ((e.state = %s AND (e.to_period IS NULL OR e.to_period >= %s))
               OR (e.state = %s AND e.suspended_from > %s AND (e.to_period IS NULL OR e.to_period >= %s))
               OR (e.state = %s AND e.to_period >= %s))
          AND p.region_id IN ({region_marks})
          AND (p.death_date IS NULL OR p.death_date >= %s)
          AND NOT EXISTS (
            SELECT 1 FROM {L} x
            WHERE x.person_id = e.person_id AND x.benefit_type_id = e.benefit_type_id
              AND x.period = %s AND x.kind IN ('normal', 'back_pay'))
        ORDER BY {order}
    """
    # The month of death is paid; later months are not (国发〔2014〕8号: stop from the next month).
    params: list[Any] = [
        payroll.pk,
        period,
        PaymentLine.Kind.NORMAL,
        LS.PENDING,
        period,
        period,
        *([PaymentAccount.Kind.CARD] if before_card else []),
        *([payroll.pk] if numbered else []),
        payroll.benefit_type_id,
        period,
        Entitlement.State.ACTIVE,
        period,
        Entitlement.State.SUSPENDED,
        period,
        period,
        Entitlement.State.TERMINATED,
        period,
        *regions,
        connection.ops.adapt_datefield_value(first_day),
        period,  # a month already back-paid (certified late) is not paid again
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def payroll_generate(
    *,
    region: Region,
    period: int,
    benefit_type: BenefitType,
    actor,  # type: ignore[no-untyped-def]
) -> Payroll:
    """Create or regenerate the draft payroll of a period and benefit type (all lines or none)."""
    _require(actor, "payroll.prepare")
    period = _check_period(period, "发放期")
    now = timezone.now()
    with transaction.atomic():
        payroll = (
            Payroll.objects.select_for_update()
            .filter(region=region, period=period, benefit_type=benefit_type, kind=Payroll.Kind.NORMAL)
            .first()
        )
        if payroll is None:
            try:
                with transaction.atomic():
                    payroll = Payroll.objects.create(
                        region=region,
                        period=period,
                        benefit_type=benefit_type,
                        prepared_by=actor,
                        prepared_at=now,
                    )
            except IntegrityError:
                payroll = Payroll.objects.select_for_update().get(
                    region=region, period=period, benefit_type=benefit_type, kind=Payroll.Kind.NORMAL
                )
        if payroll.state != Payroll.State.DRAFT:
            raise StateError(
                f"{period}“{benefit_type.name}”发放表已{payroll.get_state_display()}，不能重新生成；"
                "更正请另行生成补发或二次支付明细"
            )
        BackPay.objects.filter(payroll=payroll).update(payroll=None)
        deleted = _delete_draft_lines(payroll)
        try:
            with transaction.atomic():
                inserted = _insert_lines(payroll)
        except IntegrityError:
            raise StateError(
                f"部分人员{period}的“{benefit_type.name}”已在其他发放表中发放，不能重复生成"
            ) from None
        back_paid = _insert_back_pay(payroll)
        Payroll.objects.filter(pk=payroll.pk).update(prepared_by=actor, prepared_at=now)
        payroll.refresh_from_db()
        held = _preflight_apply(payroll)
        audit_record(
            actor=actor,
            action=actions.PAYROLL_GENERATE,
            obj=payroll,
            new={"lines": inserted, "back_pay_lines": back_paid, "held": held, "replaced_lines": deleted},
        )
    return payroll


def _insert_back_pay(payroll: Payroll) -> int:
    """Back-pay lines for the months owed by pending BackPay rows of this benefit type and region.

    A month not paid at all is back-paid whole; one paid at less than is owed now (a backdated raise)
    gets the difference as a separate arrears line (补差). The months of every pending BackPay of an
    entitlement are taken together, so two changes before one payroll pay a month's difference once.
    Worked in chunks of entitlements with a few queries each (a province-wide backdated adjustment has
    a BackPay per recipient); a month that already has a normal or back-pay line is never back-paid.
    """
    pending = list(
        BackPay.objects.select_for_update(of=("self",))
        .filter(
            payroll__isnull=True,
            entitlement__benefit_type_id=payroll.benefit_type_id,
            entitlement__person__region_id__in=region_ids_under(payroll.region_id),
            from_period__lte=payroll.period,
        )
        .order_by("entitlement_id", "pk")
        .values_list("pk", "entitlement_id", "from_period", "to_period")
    )
    months_of: dict[int, set[int]] = defaultdict(set)
    for _pk, ent_id, from_period, to_period in pending:
        months_of[ent_id].update(period_range(from_period, min(to_period, payroll.period)))
    ent_ids = list(months_of)
    made = 0
    for i in range(0, len(ent_ids), CHUNK):
        made += _back_pay_lines(payroll, {e: months_of[e] for e in ent_ids[i : i + CHUNK]})
    for i in range(0, len(pending), CHUNK):
        BackPay.objects.filter(pk__in=[row[0] for row in pending[i : i + CHUNK]]).update(payroll=payroll)
    return made


def _back_pay_lines(payroll: Payroll, months_of: dict[int, set[int]]) -> int:
    """The back-pay and arrears lines of one chunk of entitlements (entitlement id -> months owed)."""
    ents = {
        pk: (person_id, death_date)
        for pk, person_id, death_date in Entitlement.objects.filter(pk__in=list(months_of)).values_list(
            "pk", "person_id", "person__death_date"
        )
    }
    person_ids = {person_id for person_id, _ in ents.values()}
    all_months = set().union(*months_of.values())
    # What the lines of each month already pay (a failed or held one is paid again at its amount).
    # By person (the benefit type is checked here: filtered in SQL, SQLite scanned the whole type's lines
    # by its index instead of these people's few lines); unordered (no join for the default ordering).
    paid: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for person_id, benefit_type_id, month, amount in (
        PaymentLine.objects.filter(
            person_id__in=person_ids,
            period__gte=min(all_months),
            period__lte=max(all_months),
            kind__in=[PaymentLine.Kind.NORMAL, PaymentLine.Kind.BACK_PAY, PaymentLine.Kind.ARREARS],
        )
        .order_by()
        .values_list("person_id", "benefit_type_id", "period", "amount")
    ):
        if benefit_type_id == payroll.benefit_type_id:
            paid[(person_id, month)] += amount
    history: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for ent_id, valid_from, amount in (
        EntitlementAmount.objects.filter(entitlement_id__in=list(months_of))
        .order_by("entitlement_id", "valid_from", "id")
        .values_list("entitlement_id", "valid_from", "amount")
    ):
        history[ent_id].append((valid_from, amount))
    accounts = _accounts_paying(person_ids, payroll)
    rows: list[tuple[Any, ...]] = []
    adapt = connection.ops.adapt_decimalfield_value
    for ent_id, months in months_of.items():
        person_id, death_date = ents[ent_id]
        last = period_of(death_date) if death_date is not None else None
        account_id, bank_id, account_no, account_name = accounts.get(person_id) or (None, None, "", "")
        for month in sorted(months):
            if last is not None and month > last:
                continue
            owed = [amount for valid_from, amount in history[ent_id] if valid_from <= month]
            if not owed:
                continue
            kind, due = PaymentLine.Kind.BACK_PAY, owed[-1]
            if (person_id, month) in paid:
                kind, due = PaymentLine.Kind.ARREARS, owed[-1] - paid[(person_id, month)]
                if due <= 0:
                    continue
            paid[(person_id, month)] += due
            rows.append(
                (
                    payroll.pk,
                    person_id,
                    payroll.benefit_type_id,
                    month,
                    adapt(due, 14, 2),
                    str(kind),
                    account_id,
                    bank_id,
                    account_no or "",
                    account_name or "",
                )
            )
    # Plain rows and one executemany (the ORM's bulk_create built a model and prepared 17 values for
    # each line: 0.2 ms a line). Not numbered: filing appends them to their bank's file.
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {PaymentLine._meta.db_table} (payroll_id, person_id, benefit_type_id, period, "
                "amount, kind, account_id, bank_id, account_no, account_name, state, hold_code, hold_reason, "
                "failure_code, failure_text, route_note) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{LS.PENDING}', '', '', '', '', '')",
                rows,
            )
    return len(rows)


def _accounts_paying(person_ids: set[int], payroll: Payroll) -> dict[int, tuple[int, int | None, str, str]]:
    """person id -> the account a line of this payroll goes to: the one effective for the period, or
    before the benefit type's card rollout period the latest one that is not the card."""
    accounts = PaymentAccount.objects.filter(person_id__in=person_ids, valid_from__lte=payroll.period)
    if _before_card_period(payroll):
        accounts = accounts.exclude(kind=PaymentAccount.Kind.CARD)
    out: dict[int, tuple[int, int | None, str, str]] = {}
    for person_id, *account in accounts.order_by("person_id", "-valid_from", "-id").values_list(
        "person_id", "pk", "bank_id", "account_no", "account_name"
    ):
        out.setdefault(person_id, tuple(account))  # type: ignore[arg-type]
    return out


def _lines_total(payroll: Payroll) -> tuple[int, Decimal]:
    agg = PaymentLine.objects.filter(payroll=payroll).aggregate(n=Count("id"), fen=fen_sum())
    return agg["n"] or 0, yuan(agg["fen"])


def _transition(payroll: Payroll, to_state: str, **fields) -> None:  # type: ignore[no-untyped-def]
    """Compare-and-swap a payroll to `to_state`; a concurrent change makes it fail, never apply twice."""
    if to_state not in PAYROLL_TRANSITIONS[payroll.state]:
        raise StateError(
            f"发放表当前为“{payroll.get_state_display()}”，不能变为“{Payroll.State(to_state).label}”"
        )
    n = Payroll.objects.filter(pk=payroll.pk, state=payroll.state).update(state=to_state, **fields)
    if n != 1:
        raise StateError("发放表已被他人处理，请刷新页面后查看")
    payroll.state = to_state
    for k, v in fields.items():
        setattr(payroll, k, v)


def payroll_approve(*, payroll: Payroll, actor) -> Payroll:  # type: ignore[no-untyped-def]
    """A supervisor other than the preparer approves the draft; from now on its lines are frozen."""
    _require(actor, "payroll.approve")
    with transaction.atomic():
        current = (
            Payroll.objects.select_for_update(of=("self",)).select_related("approved_by").get(pk=payroll.pk)
        )
        if current.state != Payroll.State.DRAFT:
            by = current.approved_by.display_name if current.approved_by else ""
            raise StateError(f"该发放表已由{by}复核，不能重复复核")
        if current.prepared_by_id == actor.pk:
            raise PermissionDenied("复核人不能是制表人本人，请由另一名复核员复核")
        if (
            current.kind == Payroll.Kind.REPAYMENT
            and Resolution.objects.filter(line__repayments__payroll=current, resolved_by=actor).exists()
        ):
            # The account a failed line is paid into again was chosen by whoever resolved it (an
            # alternate account the person gave, a verified spelling): a second person checks it.
            raise PermissionDenied("本批次中有您本人处理的失败明细（核定了支付账户），请由另一名复核员复核")
        count, total = _lines_total(current)
        if count == 0:
            raise StateError("发放表没有任何明细，不能复核")
        now = timezone.now()
        _transition(
            current,
            Payroll.State.APPROVED,
            approved_by=actor,
            approved_at=now,
            control_count=count,
            control_total=total,
        )
        audit_record(
            actor=actor,
            action=actions.PAYROLL_APPROVE,
            obj=current,
            old={"state": Payroll.State.DRAFT},
            new={"state": Payroll.State.APPROVED, "count": count, "total": total},
        )
    payroll.refresh_from_db()
    return payroll


# --- pre-flight --------------------------------------------------------------------------------


def _preflight_apply(payroll: Payroll, *, every_rule: bool = False) -> int:
    """Hold every candidate line a rule catches; lines an earlier run held and no rule catches are released.

    After approval a line's account fields never change, so the rules that read only them keep their
    holds instead of reading every line again; `every_rule` runs them too (after a hold of another kind,
    which replaced theirs, was lifted: a death corrected)."""
    frozen = payroll.is_frozen and not every_rule
    holds = holds_for(payroll.pk, lines_frozen=frozen)
    if payroll.state == Payroll.State.DRAFT:
        # Lines of a draft may still change: a fallback case goes to the previous account if allowed.
        routed = 0
        for pk in [pk for pk, (_, _, fallback) in holds.items() if fallback]:
            line = PaymentLine.objects.select_related("account").get(pk=pk)
            previous = previous_account(line, payroll.period)
            if previous is None or previous.bank_id is None:
                continue
            PaymentLine.objects.filter(pk=pk).update(
                account=previous,
                bank_id=previous.bank_id,
                account_no=previous.account_no,
                account_name=previous.account_name,
                # Another bank's file: filing numbers it there (_number_files).
                bank_file=None,
                seq=None,
                route_note=f"{holds[pk][1]}，按原账户发放（换卡未满{FALLBACK_MONTHS}个月）"[:200],
            )
            routed += 1
        if routed:
            # Check the routed lines again: the previous account's name must pass the rules too.
            holds = holds_for(payroll.pk)
    candidates = candidate_lines(payroll.pk)
    candidates.filter(state=LS.HELD).update(state=LS.PENDING, hold_code="", hold_reason="")
    by_reason: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, (code, reason, _) in holds.items():
        by_reason[(code, reason)].append(pk)
    for (code, reason), ids in by_reason.items():
        for i in range(0, len(ids), CHUNK):
            candidates.filter(pk__in=ids[i : i + CHUNK]).update(
                state=LS.HELD, hold_code=code, hold_reason=reason
            )
    return len(holds)


def payroll_preflight(*, payroll: Payroll, actor) -> int:  # type: ignore[no-untyped-def]
    """Run the pre-flight rules again (after a whitelist entry or a card change); returns lines held."""
    _require(actor, "payroll.file")
    with transaction.atomic():
        current = Payroll.objects.select_for_update().get(pk=payroll.pk)
        if current.state not in (Payroll.State.DRAFT, Payroll.State.APPROVED):
            raise StateError("发放表已报盘，报盘前检查已不再适用")
        held = _preflight_apply(current)
        audit_record(actor=actor, action=actions.PAYROLL_PREFLIGHT, obj=current, new={"held": held})
    return held


# --- bank files --------------------------------------------------------------------------------


def _batch_no(payroll: Payroll, bank_code: str) -> str:
    batch_no = f"{payroll.period}-{payroll.benefit_type.code}-{bank_code}-{payroll.pk}"
    check_batch_no(batch_no)
    return batch_no


def bank_file_render(bank_file: BankFile, out: io.BufferedIOBase | io.BytesIO) -> tuple[int, Decimal]:
    """Write the file from its frozen lines, in seq order, in the bank's layout."""
    layout = get_layout(bank_file.layout)
    payroll = bank_file.payroll
    if bank_file.business_date is None:
        raise StateError(f"代发文件{bank_file.batch_no}尚未报盘")
    header = FileHeader(
        batch_no=bank_file.batch_no,
        business_date=bank_file.business_date,
        payer_code=payroll.benefit_type.payer_code,
    )
    # Plain tuples straight from the cursor, the amount in whole fen: no converter, no Decimal and no
    # row object per line. chunked_cursor is a server-side cursor on PostgreSQL, so memory stays flat.
    query = (
        PaymentLine.objects.filter(bank_file=bank_file)
        .order_by("seq")
        .annotate(fen=Cast(Round(F("amount") * 100), output_field=BigIntegerField()), id_type=Value("01"))
        .values_list(
            "seq",
            "account_no",
            "account_name",
            "fen",
            "person__ssn",
            "benefit_type__code",
            "period",
            "id_type",
        )
    )
    sql, params = query.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        records = chain.from_iterable(iter(partial(cursor.fetchmany, 5000), []))
        return layout.render_records(header, records, out)  # type: ignore[arg-type]


def bank_file_spool(bank_file: BankFile) -> IO[bytes]:
    """The file re-rendered into a temporary file, checked against the hash recorded when it was made,
    and rewound. The whole file is checked before a byte of it is handed out; memory stays flat."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the caller closes it)
    try:
        bank_file_render(bank_file, spool)  # type: ignore[arg-type]
        spool.seek(0)
        hashed = hashlib.sha256()
        while chunk := spool.read(1024 * 1024):
            hashed.update(chunk)
        if hashed.hexdigest() != bank_file.sha256:
            raise ReconciliationError(
                f"代发文件{bank_file.batch_no}的内容与生成时不一致，已停止下载，请联系系统管理员"
            )
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def bank_file_bytes(bank_file: BankFile) -> bytes:
    """The file's bytes, re-rendered and checked against the hash recorded when it was made."""
    with bank_file_spool(bank_file) as spool:
        return spool.read()


def bank_file_download(*, bank_file: BankFile, actor) -> IO[bytes]:  # type: ignore[no-untyped-def]
    """The checked file, rewound, for streaming to the clerk (the caller closes it); the download is audited."""
    _require(actor, "payroll.download")
    spool = bank_file_spool(bank_file)
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=actions.BANK_FILE_DOWNLOAD,
                obj=bank_file,
                new={"sha256": bank_file.sha256},
            )
    except BaseException:
        spool.close()
        raise
    return spool


class _HashWriter:
    """A write-only file that keeps only the SHA-256 of what is written to it."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _number_files(payroll: Payroll) -> list[BankFile]:
    """Make each bank file's lines exactly the payroll's pending lines of that bank, numbered 1…n.

    The lines were numbered at generation. Since then the pre-flight may have held some (they leave
    their file), routed some to another bank, released some, or a death removed some; back pay and
    second payments come unnumbered. Only those lines are written: a line no longer pending leaves its
    file, the lines without a number are appended after the file's last, and the gaps left below are
    filled by the lines numbered above the count, one line for each gap. Returns the files with lines;
    draft files no line reached are deleted.
    """
    L = PaymentLine._meta.db_table
    with connection.cursor() as cursor:
        # Held lines leave their file (a line routed to another bank left it when it was routed).
        # (Before filing a line is pending or held; `state = held` is checked in the index on payroll,
        # bank and state, so only the held lines are read.)
        cursor.execute(
            f"UPDATE {L} SET bank_file_id = NULL, seq = NULL "
            "WHERE payroll_id = %s AND state = %s AND bank_file_id IS NOT NULL",
            [payroll.pk, LS.HELD],
        )
        unnumbered = PaymentLine.objects.filter(payroll=payroll, state=LS.PENDING, bank_file__isnull=True)
        if unnumbered.exists():
            _ensure_draft_files(payroll)
            files = {
                bank_id: pk
                for pk, bank_id in BankFile.all_objects.filter(payroll=payroll).values_list("pk", "bank_id")
            }
            tops = dict(
                PaymentLine.objects.filter(payroll=payroll, bank_file__isnull=False)
                .order_by()
                .values_list("bank_file_id")
                .annotate(top=Max("seq"))
                .values_list("bank_file_id", "top")
            )
            # (A pending line has a bank: the pre-flight holds a line without an account.)
            banks = (
                unnumbered.filter(bank__isnull=False).order_by().values_list("bank_id", flat=True).distinct()
            )
            for bank_id in list(banks):
                file_id = files[bank_id]
                cursor.execute(
                    f"""UPDATE {L} SET bank_file_id = %s, seq = %s + s.rn
                        FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY person_id, period, id) AS rn FROM {L}
                              WHERE payroll_id = %s AND bank_id = %s AND state = %s
                                AND bank_file_id IS NULL) AS s
                        WHERE {L}.id = s.id""",
                    [file_id, tops.get(file_id) or 0, payroll.pk, bank_id, LS.PENDING],
                )
        out: list[BankFile] = []
        for bank_file in (
            BankFile.all_objects.filter(payroll=payroll).select_related("bank").order_by("bank__code")
        ):
            agg = PaymentLine.objects.filter(bank_file=bank_file).aggregate(
                n=Count("id"), top=Max("seq"), other_bank=Count("id", filter=~Q(bank_id=bank_file.bank_id))
            )
            count, top = agg["n"] or 0, agg["top"] or 0
            if agg["other_bank"]:
                # Every writer that changes a line's bank takes it out of its file; this is the proof.
                raise ReconciliationError(
                    f"代发文件{bank_file.batch_no}中有{agg['other_bank']}笔明细的银行与文件不符，请联系系统管理员"
                )
            if count == 0:
                bank_file.delete()
                continue
            if top > count:
                _close_gaps(bank_file, count)
            out.append(bank_file)
    return out


def _close_gaps(bank_file: BankFile, count: int) -> None:
    """Move the lines numbered above ``count`` into the gaps below it (as many of one as of the other,
    since the numbers are unique): the file becomes 1…count without renumbering the lines in between."""
    L = PaymentLine._meta.db_table
    with connection.cursor() as cursor:
        # Each gap as (the number before it, the number after it); 0 stands before the first line.
        cursor.execute(
            f"""SELECT prev, seq FROM (
                    SELECT seq, LAG(seq, 1, 0) OVER (ORDER BY seq) AS prev FROM {L}
                    WHERE bank_file_id = %s AND seq <= %s) AS g
                WHERE seq > prev + 1
                UNION ALL
                SELECT COALESCE(MAX(seq), 0), %s FROM {L} WHERE bank_file_id = %s AND seq <= %s
                ORDER BY 1""",
            [bank_file.pk, count, count + 1, bank_file.pk, count],
        )
        gaps = [n for prev, nxt in cursor.fetchall() for n in range(prev + 1, nxt)]
        cursor.execute(
            f"SELECT id FROM {L} WHERE bank_file_id = %s AND seq > %s ORDER BY seq", [bank_file.pk, count]
        )
        above = [row[0] for row in cursor.fetchall()]
        if len(gaps) != len(above):
            raise ReconciliationError(f"代发文件{bank_file.batch_no}的序号无法排齐，请联系系统管理员")
        cursor.executemany(f"UPDATE {L} SET seq = %s WHERE id = %s", list(zip(gaps, above, strict=True)))


def payroll_file(
    *,
    payroll: Payroll,
    actor,  # type: ignore[no-untyped-def]
    business_date: dt.date | None = None,
) -> list[BankFile]:
    """Pre-flight, then one bank file per bank from the pending lines; the payroll becomes filed.

    Every file is rendered inside the transaction, so a line the layout cannot carry (a name GBK
    cannot encode) stops the whole step before any file exists.
    """
    _require(actor, "payroll.file")
    business_date = business_date or timezone.localdate()
    with transaction.atomic():
        current = (
            Payroll.objects.select_for_update(of=("self",)).select_related("benefit_type").get(pk=payroll.pk)
        )
        if current.state != Payroll.State.APPROVED:
            raise StateError(f"发放表当前为“{current.get_state_display()}”，复核后才能生成代发文件")
        held = _preflight_apply(current)
        files = _number_files(current)
        if not files:
            raise StateError("所有明细均被暂缓发放，没有可报盘的明细")
        now = timezone.now()
        for bank_file in files:
            bank_file.layout = get_layout(bank_file.bank.file_layout).name
            bank_file.business_date = business_date
            # Rendered exactly as for the download. A record layout writes sequentially, straight into
            # the hash; another (xlsx: a zip) may seek, so it gets a seekable spool, hashed afterwards.
            if isinstance(get_layout(bank_file.layout), RecordLayout):
                digest = _HashWriter()
                count, total = bank_file_render(bank_file, digest)  # type: ignore[arg-type]
                bank_file.sha256 = digest.hexdigest()
            else:
                with tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024) as spool:
                    count, total = bank_file_render(bank_file, spool)  # type: ignore[arg-type]
                    spool.seek(0)
                    hashed = hashlib.sha256()
                    while chunk := spool.read(1024 * 1024):
                        hashed.update(chunk)
                bank_file.sha256 = hashed.hexdigest()
            bank_file.control_count, bank_file.control_total = count, total
            bank_file.created_by = actor
            bank_file.created_at = now
            bank_file.filed_at = now
            bank_file.save(
                update_fields=[
                    "layout",
                    "business_date",
                    "sha256",
                    "control_count",
                    "control_total",
                    "created_by",
                    "created_at",
                    "filed_at",
                ]
            )
        filing_reconcile(current, files)
        _transition(current, Payroll.State.FILED, filed_at=now)
        audit_record(
            actor=actor,
            action=actions.PAYROLL_FILE,
            obj=current,
            old={"state": Payroll.State.APPROVED},
            new={
                "state": Payroll.State.FILED,
                "held": held,
                "files": [
                    {"batch_no": f.batch_no, "count": f.control_count, "total": f.control_total}
                    for f in files
                ],
            },
        )
        payroll_filed.send(sender=Payroll, payroll=current, actor=actor)
    payroll.refresh_from_db()
    return files


# --- return files ------------------------------------------------------------------------------


@dataclass
class ReturnImportResult:
    return_file: ReturnFile
    duplicate: bool
    paid: int = 0
    failed: int = 0


def _rewound(data: ReturnSource) -> ReturnSource:
    if not isinstance(data, bytes):
        data.seek(0)
    return data


def _sha256_of(data: ReturnSource) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    hashed = hashlib.sha256()
    _rewound(data)
    while chunk := data.read(1024 * 1024):
        hashed.update(chunk)
    return hashed.hexdigest()


def _parse_for_payroll(payroll: Payroll, data: ReturnSource):  # type: ignore[no-untyped-def]
    """(bank file or None, header, streamed details) in the layout of one of the payroll's files."""
    layouts = list(dict.fromkeys(payroll.bank_files.order_by("pk").values_list("layout", flat=True)))
    if not layouts:
        raise ReturnFileRefused(["该发放表尚未生成代发文件"])
    first_error: ReturnFileRefused | None = None
    for name in layouts:
        layout = get_layout(name)
        if not layout.reads_returns:
            continue
        try:
            header, items = layout.iter_return(_rewound(data))
        except ReturnFileRefused as exc:
            first_error = first_error or exc
            continue
        bank_file = payroll.bank_files.filter(batch_no=header.batch_no, layout=name).first()
        if bank_file is not None or len(layouts) == 1:
            return bank_file, header, items
    if first_error is not None:
        raise first_error
    raise ReturnFileRefused(["回盘文件格式无法识别"])


@dataclass
class _Checked:
    rows: int
    paid: int
    failures: dict[tuple[str, str], list[int]]


ACCOUNT_WIDTH = PaymentLine._meta.get_field("account_no").max_length or 19


def _account_slot(account_no: str, width: int, *, overflow: bytes = b"\xff") -> bytes:
    """An account number as its fixed-width slot (non-ASCII escaped); one too long for the slot becomes a
    filler that no real number has (the stored side and the bank's side use different fillers)."""
    raw = account_no.encode("ascii", "backslashreplace")
    return raw.ljust(width) if len(raw) <= width else overflow * width


def _check_return(bank_file: BankFile, header, items) -> _Checked:  # type: ignore[no-untyped-def]
    """Read the whole return file once against the lines of its bank file; refuse it naming every
    problem, or return what to apply. Only the sent amounts (in fen) and accounts by seq, a seen-map
    and the failed seqs are kept: memory grows by a few bytes per line, not by parsed rows."""
    problems: list[str] = []
    size = bank_file.control_count + 1
    # Packed: 8 bytes of fen (-1: no line has that seq) and the account number's ASCII digits in a
    # fixed-width slot per seq; ~28 bytes a line of the file, against ~100 as Python ints and strs.
    width = ACCOUNT_WIDTH
    sent_fen = array("q", [-1]) * size
    sent_account = bytearray(size * width)
    lines = (
        PaymentLine.objects.filter(bank_file=bank_file)
        .order_by()  # by seq into the lists below; no sort (nor the default ordering's joins) needed
        .annotate(fen=Cast(Round(F("amount") * 100), output_field=BigIntegerField()))
        .values_list("seq", "fen", "account_no")
    )
    # Plain tuples from a (server-side on PostgreSQL) cursor: no converters, no row objects.
    sql, params = lines.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        for seq, fen, account_no in chain.from_iterable(iter(partial(cursor.fetchmany, 10_000), [])):
            if seq is not None and 0 < seq < size:
                sent_fen[seq] = fen
                sent_account[seq * width : seq * width + width] = _account_slot(
                    account_no, width, overflow=b"\xfe"
                )
    seen = bytearray(size)
    failures: dict[tuple[str, str], list[int]] = defaultdict(list)
    n = ok_n = 0
    total = ok_fen = 0
    for item in items:
        if item.__class__ is str:
            problems.append(item)
            continue
        line_no, seq, account_no, _name, amount, paid, _code, text, failure, fen = item
        exact = True
        if fen < 0:  # a layout that gives the amount only as a Decimal (at most two decimals, checked here)
            scaled = amount * 100
            fen = int(scaled)
            exact = scaled == fen
        n += 1
        total += fen
        if paid:
            ok_n += 1
            ok_fen += fen
        if seq >= size or sent_fen[seq] < 0:
            problems.append(f"第{line_no}行（序号{seq}）：代发文件{bank_file.batch_no}中没有这一笔")
            continue
        if seen[seq]:
            problems.append(f"第{line_no}行（序号{seq}）：序号重复")
            continue
        seen[seq] = 1
        if fen != sent_fen[seq] or not exact:
            problems.append(
                f"第{line_no}行（序号{seq}）：金额{amount}与代发金额{from_fen(sent_fen[seq])}不符"
            )
        if _account_slot(account_no, width) != sent_account[seq * width : seq * width + width]:
            problems.append(f"第{line_no}行（序号{seq}）：账号与代发账号不符")
        if not paid:
            failures[(failure, text)].append(seq)
    fail_n, fail_fen = n - ok_n, total - ok_fen
    if (header.total_count, to_fen(header.total_amount)) != (n, total):
        problems.append(
            f"文件头总笔数/总金额{header.total_count}笔{header.total_amount}元与明细合计{n}笔{from_fen(total)}元不符"
        )
    if (header.ok_count, to_fen(header.ok_amount)) != (ok_n, ok_fen):
        problems.append(
            f"文件头成功{header.ok_count}笔{header.ok_amount}元与成功明细{ok_n}笔{from_fen(ok_fen)}元不符"
        )
    if (header.fail_count, to_fen(header.fail_amount)) != (fail_n, fail_fen):
        problems.append(
            f"文件头失败{header.fail_count}笔{header.fail_amount}元与失败明细{fail_n}笔{from_fen(fail_fen)}元不符"
        )
    if (header.total_count, header.total_amount) != (bank_file.control_count, bank_file.control_total):
        problems.append(
            f"文件头总笔数/总金额{header.total_count}笔{header.total_amount}元与代发文件"
            f"{bank_file.control_count}笔{bank_file.control_total}元不符"
        )
    if header.payer_code != bank_file.payroll.benefit_type.payer_code:
        problems.append(f"文件头付款单位编号“{header.payer_code}”与代发文件不符")
    missing = [seq for seq in range(1, size) if sent_fen[seq] >= 0 and not seen[seq]]
    if missing:
        shown = "、".join(str(s) for s in missing[:10])
        problems.append(f"缺少{len(missing)}笔的处理结果（序号{shown}{'等' if len(missing) > 10 else ''}）")
    if problems:
        raise ReturnFileRefused(problems)
    return _Checked(rows=n, paid=ok_n, failures=failures)


def return_file_import(
    *,
    payroll: Payroll,
    data: ReturnSource,
    file_name: str,
    actor,  # type: ignore[no-untyped-def]
) -> ReturnImportResult:
    """Apply a bank return file: every line or nothing; the same file again changes nothing.

    `data` is the file's bytes or, better for a large file, the open upload or file (seekable): it is
    read in blocks, once for the checksum and once for the check, so memory does not grow with it."""
    _require(actor, "payroll.return_import")
    sha = _sha256_of(data)
    existing = ReturnFile.objects.filter(sha256=sha).select_related("bank_file").first()
    if existing is not None:
        if existing.bank_file.payroll_id != payroll.pk:
            raise ReturnFileRefused(
                [f"该文件已作为批次{existing.bank_file.batch_no}的回盘导入，不属于本发放表"]
            )
        return ReturnImportResult(return_file=existing, duplicate=True)
    if not payroll.is_sent:
        raise StateError("发放表尚未报盘，不能导入回盘文件")
    bank_file, header, items = _parse_for_payroll(payroll, data)
    if bank_file is None:
        batches = "、".join(payroll.bank_files.values_list("batch_no", flat=True))
        raise ReturnFileRefused([f"回盘文件批次号“{header.batch_no}”不是本发放表的代发批次（{batches}）"])
    if ReturnFile.objects.filter(bank_file=bank_file).exists():
        raise ReturnFileRefused([f"批次{bank_file.batch_no}的回盘文件已导入，不能再导入另一份内容不同的文件"])
    checked = _check_return(bank_file, header, items)
    with transaction.atomic():
        current = Payroll.objects.select_for_update().get(pk=payroll.pk)
        try:
            with transaction.atomic():
                ret = ReturnFile.objects.create(
                    bank_file=bank_file,
                    file_name=file_name[:255],
                    sha256=sha,
                    ok_count=header.ok_count,
                    ok_amount=header.ok_amount,
                    fail_count=header.fail_count,
                    fail_amount=header.fail_amount,
                    imported_by=actor,
                )
        except IntegrityError:
            raise ReturnFileRefused([f"批次{bank_file.batch_no}的回盘文件刚刚已由他人导入"]) from None
        in_file = PaymentLine.objects.filter(bank_file=bank_file, state=LS.PENDING)
        changed = 0
        # Failures are few (佛山: 0.06 %): set them first, then every line still pending in the file is
        # a paid one (the checks above proved the file lists every line exactly once).
        for (failure, text), seqs in checked.failures.items():
            for i in range(0, len(seqs), CHUNK):
                changed += in_file.filter(seq__in=seqs[i : i + CHUNK]).update(
                    state=LS.FAILED, failure_code=failure, failure_text=text
                )
        changed += in_file.update(state=LS.PAID)
        if changed != checked.rows:
            raise ReconciliationError(
                f"批次{bank_file.batch_no}有{checked.rows - changed}笔已有发放结果，回盘未导入"
            )
        bank_file = BankFile.objects.select_related("return_file").get(pk=bank_file.pk)
        complete = not current.bank_files.filter(return_file__isnull=True).exists()
        if complete:
            # The last file: the whole payroll and every file, to the fen, before it becomes reconciled.
            payroll_reconcile(current, detail=False)
        else:
            # An import changes only the lines of its own file (their state, never an amount), so the
            # file's own reconciliation is what it can break; the payroll-wide one runs at the last file.
            bank_file_reconcile(bank_file)
        _overpayments_detect(PaymentLine.objects.filter(bank_file=bank_file), actor=actor)
        audit_record(
            actor=actor,
            action=actions.RETURN_IMPORT,
            obj=bank_file,
            new={
                "file_name": file_name,
                "sha256": sha,
                "ok": [header.ok_count, header.ok_amount],
                "fail": [header.fail_count, header.fail_amount],
            },
        )
        if complete:
            _transition(current, Payroll.State.RECONCILED, reconciled_at=timezone.now())
            audit_record(
                actor=actor,
                action=actions.PAYROLL_RECONCILED,
                obj=current,
                old={"state": Payroll.State.FILED},
                new={"state": Payroll.State.RECONCILED},
            )
    return ReturnImportResult(
        return_file=ret, duplicate=False, paid=checked.paid, failed=checked.rows - checked.paid
    )


# --- name whitelist ----------------------------------------------------------------------------


def name_whitelist_add(
    *,
    person: Person,
    spelling: str,
    actor,  # type: ignore[no-untyped-def]
    note: str = "",
) -> NameWhitelist:
    """Record a spelling the bank accepts for this person (verified with the person). It releases
    nothing until a supervisor other than the clerk confirms it (`name_whitelist_confirm`)."""
    _require(actor, "whitelist.edit")
    spelling = (spelling or "").strip()
    if not spelling or len(spelling) > 50:
        raise ValidationError("请填写银行认可的户名（最多50个字）", field="spelling")
    with transaction.atomic():
        entry, created = NameWhitelist.objects.get_or_create(
            person=person, spelling=spelling, defaults={"note": note, "created_by": actor}
        )
        if created:
            audit_record(
                actor=actor, action=actions.WHITELIST_ADD, obj=person, new={"spelling": spelling}, reason=note
            )
    return entry


def name_whitelist_confirm(*, entry: NameWhitelist, actor) -> NameWhitelist:  # type: ignore[no-untyped-def]
    """A supervisor other than the clerk who recorded the spelling confirms it; then the pre-flight runs
    again on the payrolls not yet filed where the person's line is held."""
    _require(actor, "whitelist.confirm")
    with transaction.atomic():
        locked = NameWhitelist.objects.select_for_update().select_related("person").get(pk=entry.pk)
        if locked.confirmed_at is not None:
            raise StateError("该户名已确认")
        if locked.created_by_id == actor.pk:
            raise PermissionDenied("不能确认自己登记的户名，请由另一名复核员确认")
        n = NameWhitelist.objects.filter(pk=locked.pk, confirmed_at__isnull=True).update(
            confirmed_by=actor, confirmed_at=timezone.now()
        )
        if n != 1:
            raise StateError("该户名已被他人确认")
        audit_record(
            actor=actor,
            action=actions.WHITELIST_CONFIRM,
            obj=locked.person,
            new={"spelling": locked.spelling, "recorded_by": locked.created_by_id},
        )
        payroll_ids = (
            PaymentLine.objects.filter(
                person_id=locked.person_id,
                state=LS.HELD,
                hold_code__startswith=PREFLIGHT_PREFIX,
                payroll__state__in=[Payroll.State.DRAFT, Payroll.State.APPROVED],
            )
            .values_list("payroll_id", flat=True)
            .distinct()
        )
        for payroll in Payroll.objects.select_for_update().filter(pk__in=list(payroll_ids)):
            _preflight_apply(payroll)
    entry.refresh_from_db()
    return entry


# --- failures and second payment (二次支付) ------------------------------------------------------


def _repayable(line: PaymentLine) -> bool:
    """A failed line, or a line held back from a payroll whose files have already gone to the bank."""
    if line.state == LS.FAILED:
        return True
    return line.state == LS.HELD and line.payroll.is_sent


def _account_name_correct(line: PaymentLine, spelling: str, *, actor) -> PaymentAccount | None:  # type: ignore[no-untyped-def]
    """The bank's spelling becomes the account name from the month after the failed line, so the next
    payrolls send what the bank accepts instead of failing again with 户名不符. A new row of the
    account history (never an overwrite), only while that same account is still the paying one."""
    from shebao.people.services import account_add

    start = next_period(line.period)
    current = account_effective(line.person_id, start)
    if current is None or current.account_no != line.account_no or current.account_name == spelling:
        return None
    return account_add(
        actor=actor,
        person=line.person,
        account_no=current.account_no,
        account_name=spelling,
        kind=current.kind,
        valid_from=max(current.valid_from, start),
        bank=current.bank,
        bank_name=current.bank_name,
        source=current.source,
        note=f"银行认可户名（{line.period}发放失败后与本人核实）",
    )


def line_resolve(
    *,
    line: PaymentLine,
    kind: str,
    actor,  # type: ignore[no-untyped-def]
    spelling: str = "",
    bank: Bank | None = None,
    account_no: str = "",
    account_name: str = "",
    proof: str = "",
    note: str = "",
) -> Resolution:
    """Decide how a failed line is paid again (the 佛山 actions):

    - name_verified: the name was checked with the person; the bank's spelling goes on the whitelist
      and the second payment uses it on the same account;
    - new_account: the lost or replaced card has a new account in the person's account history;
    - old_account: a lost or replaced card's line goes to the previous account while the switch away
      from it is within its fallback window (see payments.failures);
    - alternate: the person gave another account of their own, recorded with its proof.
    """
    _require(actor, "payment.resolve")
    K = Resolution.Kind
    with transaction.atomic():
        locked = (
            PaymentLine.objects.select_for_update(of=("self",))
            .select_related("payroll", "person", "account")
            .get(pk=line.pk)
        )
        if not _repayable(locked):
            raise StateError("只有发放失败（或报盘后仍暂缓发放）的明细才需要处理")
        if Resolution.objects.filter(line=locked).exists():
            raise StateError("该明细已处理，等待二次支付")
        died = locked.person.death_date
        if died is not None and locked.period > period_of(died):
            # The month of death is the last month owed: a later one is never paid again.
            raise StateError(
                f"{locked.person.name}已于{died:%Y-%m-%d}死亡，{locked.period}的待遇不再支付，无需二次支付"
            )
        if kind == K.NAME_VERIFIED:
            if locked.bank_id is None or not locked.account_no:
                raise ValidationError("该明细没有发放账户，请改用“按本人另行提供的账户支付”")
            spelling = validate_person_name(spelling, field="spelling")
            name_whitelist_add(person=locked.person, spelling=spelling, note=note, actor=actor)
            _account_name_correct(locked, spelling, actor=actor)
            target = (locked.bank_id, locked.account_no, spelling)
        elif kind == K.NEW_ACCOUNT:
            account = account_effective(locked.person_id, period_of(timezone.localdate()))
            if account is None or account.bank_id is None:
                raise StateError("该人员尚无可用的发放账户，请等待新卡启用后再处理")
            if account.account_no == locked.account_no:
                raise StateError("当前发放账户与失败时相同，请等待新卡/新账户启用后再处理")
            target = (account.bank_id, account.account_no, account.account_name)
        elif kind == K.OLD_ACCOUNT:
            from shebao.payments.failures import old_account_for

            old = old_account_for(locked)
            target = (old.bank_id, old.account_no, old.account_name)
        elif kind == K.ALTERNATE:
            if bank is None:
                raise ValidationError("请选择开户银行", field="bank")
            if not proof.strip():
                raise ValidationError("请填写本人提供账户的凭证（如签字确认书编号）", field="proof")
            number = parse_bank_account(account_no).value
            target = (bank.pk, number, validate_person_name(account_name, field="account_name"))
        else:
            raise ValidationError("请选择处理方式", field="kind")
        resolution = Resolution.objects.create(
            line=locked,
            kind=kind,
            bank_id=target[0],
            account_no=target[1],
            account_name=target[2],
            proof=proof.strip()[:200],
            note=note[:200],
            resolved_by=actor,
        )
        audit_record(
            actor=actor,
            action=actions.LINE_RESOLVE,
            obj=locked,
            new={
                "kind": kind,
                "bank": target[0],
                "account_no": target[1],
                "account_name": target[2],
                "proof": proof,
            },
            reason=note,
        )
    return resolution


def _insert_repayment_lines(payroll: Payroll) -> int:
    L = PaymentLine._meta.db_table
    R = Resolution._meta.db_table
    PR = Payroll._meta.db_table
    P = Person._meta.db_table
    regions = region_ids_under(payroll.region_id)
    marks = ", ".join(["%s"] * len(regions))
    sql = f"""
        INSERT INTO {L} (payroll_id, person_id, benefit_type_id, period, amount, kind, account_id, bank_id,
                         account_no, account_name, state, hold_code, hold_reason, failure_code, failure_text,
                         route_note, original_id)
        SELECT %s, o.person_id, o.benefit_type_id, o.period, o.amount, %s, NULL, r.bank_id,
               r.account_no, r.account_name, %s, '', '', '', '', '', o.id
        FROM {L} o
        JOIN {R} r ON r.line_id = o.id
        JOIN {PR} op ON op.id = o.payroll_id
        JOIN {P} p ON p.id = o.person_id
        WHERE o.benefit_type_id = %s
          AND op.region_id IN ({marks})
          AND (o.state = %s OR (o.state = %s AND op.state IN (%s, %s)))
          AND NOT EXISTS (SELECT 1 FROM {L} x WHERE x.original_id = o.id)
        ORDER BY o.person_id, o.period
    """
    params: list[Any] = [
        payroll.pk,
        PaymentLine.Kind.REPAYMENT,
        LS.PENDING,
        payroll.benefit_type_id,
        *regions,
        LS.FAILED,
        LS.HELD,
        Payroll.State.FILED,
        Payroll.State.RECONCILED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.rowcount
    # The month of death is the last month owed: a failed line for a later month is never paid again
    # (it becomes an overpayment question, not a second payment).
    after_death = _after_death(PaymentLine.objects.filter(payroll=payroll))
    dropped, _ = PaymentLine.objects.filter(pk__in=list(after_death.values_list("pk", flat=True))).delete()
    return inserted - dropped


def repayment_generate(
    *,
    region: Region,
    benefit_type: BenefitType,
    actor,  # type: ignore[no-untyped-def]
    period: int | None = None,
) -> Payroll:
    """A second-payment batch of every resolved, not yet repaid line of a benefit type.

    The open draft batch of the type is regenerated if there is one; otherwise a new one is made.
    It then goes through the same approval, bank file and return cycle as a monthly payroll.
    """
    _require(actor, "payroll.prepare")
    period = _check_period(period or period_of(timezone.localdate()), "批次期别")
    now = timezone.now()
    with transaction.atomic():
        payroll = (
            Payroll.objects.select_for_update()
            .filter(
                region=region,
                benefit_type=benefit_type,
                kind=Payroll.Kind.REPAYMENT,
                state=Payroll.State.DRAFT,
            )
            .order_by("pk")
            .first()
        )
        if payroll is None:
            payroll = Payroll.objects.create(
                region=region,
                period=period,
                benefit_type=benefit_type,
                kind=Payroll.Kind.REPAYMENT,
                prepared_by=actor,
                prepared_at=now,
            )
        deleted = _delete_draft_lines(payroll)
        try:
            with transaction.atomic():
                inserted = _insert_repayment_lines(payroll)
        except IntegrityError:
            raise StateError("部分明细已在其他二次支付批次中，请刷新后重试") from None
        if not inserted:
            raise StateError(f"没有已处理、待二次支付的“{benefit_type.name}”明细")
        Payroll.objects.filter(pk=payroll.pk).update(prepared_by=actor, prepared_at=now)
        payroll.refresh_from_db()
        held = _preflight_apply(payroll)
        audit_record(
            actor=actor,
            action=actions.REPAYMENT_GENERATE,
            obj=payroll,
            new={"lines": inserted, "held": held, "replaced_lines": deleted},
        )
    return payroll


# --- death and overpayments --------------------------------------------------------------------


def _after_death(lines):  # type: ignore[no-untyped-def]
    return (
        lines.filter(person__death_date__isnull=False)
        .annotate(death_period=ExtractYear("person__death_date") * 100 + ExtractMonth("person__death_date"))
        .filter(period__gt=F("death_period"))
    )


def _overpayments_detect(lines, *, actor) -> int:  # type: ignore[no-untyped-def]
    """Every paid line of these for a month after the person's death becomes an overpayment to recover
    (an open one for part of the month, from a backdated decrease, is raised to the whole line)."""
    partial_ones = list(
        _after_death(
            lines.filter(
                state=LS.PAID, overpayment__state=Overpayment.State.OPEN, overpayment__amount__lt=F("amount")
            )
        ).values_list("overpayment__pk", "amount", "period", "person__death_date")
    )
    for pk, amount, period, died in partial_ones:
        Overpayment.objects.filter(pk=pk).update(
            amount=amount, reason=f"{died:%Y-%m-%d}死亡，{period}待遇不应发放"
        )
    if partial_ones:
        audit_record_many(
            actor=actor,
            action=actions.OVERPAYMENT_OPEN,
            object_type="payments.overpayment",
            rows=(
                {"object_id": pk, "new": {"amount": amount, "period": period}}
                for pk, amount, period, _ in partial_ones
            ),
        )
    found = list(
        _after_death(lines.filter(state=LS.PAID, overpayment__isnull=True))
        .order_by("pk")
        .values_list("pk", "person_id", "amount", "period", "person__death_date")
    )
    if not found:
        return len(partial_ones)
    rows = [
        Overpayment(
            line_id=pk,
            person_id=person_id,
            amount=amount,
            reason=f"{died:%Y-%m-%d}死亡，{period}待遇不应发放",
        )
        for pk, person_id, amount, period, died in found
    ]
    Overpayment.objects.bulk_create(rows, batch_size=CHUNK)
    audit_record_many(
        actor=actor,
        action=actions.OVERPAYMENT_OPEN,
        object_type="payments.paymentline",
        rows=(
            {"object_id": pk, "new": {"amount": amount, "period": period}}
            for pk, _, amount, period, _ in found
        ),
    )
    return len(found) + len(partial_ones)


@dataclass
class DeathOutcome:
    terminated: int
    dropped_from_drafts: int
    held: int
    overpayments: int


def death_record(
    *,
    person: Person,
    death_date: dt.date,
    actor,  # type: ignore[no-untyped-def]
    source: str = "经办登记",
) -> DeathOutcome:
    """Record a death: the month of death is paid, nothing after it.

    Live entitlements end with reason 1401 at the month of death; later months leave draft payrolls,
    are held in approved ones, and any already paid become overpayments to recover. Lines already at
    the bank are checked again when their return file is imported.
    """
    _require(actor, "death.record")
    return _death_apply(person=person, death_date=death_date, actor=actor, source=source)


def deaths_from_person_import(deaths: list[tuple[int, dt.date]], actor, source: str) -> None:  # type: ignore[no-untyped-def]
    """The person import marked these existing persons dead (a PERSON_DEATH_HOOKS hook, inside its
    transaction): their benefits stop exactly as for a death recorded at the counter."""
    for person_id, death_date in deaths:
        _death_apply(person=Person(pk=person_id), death_date=death_date, actor=actor, source=source)


def _death_apply(*, person: Person, death_date: dt.date, actor, source: str) -> DeathOutcome:  # type: ignore[no-untyped-def]
    if death_date > timezone.localdate():
        raise ValidationError("死亡日期不能晚于今天", field="death_date")
    death_period = period_of(death_date)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        if locked.death_date is not None and locked.death_date != death_date:
            raise StateError(
                f"{locked.name}已登记死亡日期{locked.death_date:%Y-%m-%d}，更正请由中心复核员处理"
            )
        Person.objects.filter(pk=locked.pk).update(death_date=death_date)
        terminated = 0
        # What each entitlement was before the death ended it, so a correction can restore it exactly.
        ended: list[dict[str, Any]] = []
        for ent in (
            Entitlement.objects.select_for_update()
            .filter(person=locked)
            .exclude(state=Entitlement.State.TERMINATED)
        ):
            end = max(ent.from_period, min(ent.to_period or death_period, death_period))
            Entitlement.objects.filter(pk=ent.pk).update(
                state=Entitlement.State.TERMINATED, reason=Entitlement.Reason.DEATH, to_period=end
            )
            ended.append(
                {
                    "id": ent.pk,
                    "state": ent.state,
                    "reason": ent.reason,
                    "to_period": ent.to_period,
                    "suspended_from": ent.suspended_from,
                }
            )
            terminated += 1
        later = _after_death(PaymentLine.objects.filter(person=locked))
        dropped, _ = PaymentLine.objects.filter(
            pk__in=list(later.filter(payroll__state=Payroll.State.DRAFT).values_list("pk", flat=True))
        ).delete()
        held = PaymentLine.objects.filter(
            pk__in=list(
                later.filter(
                    payroll__state=Payroll.State.APPROVED, state__in=[LS.PENDING, LS.HELD]
                ).values_list("pk", flat=True)
            )
        ).update(state=LS.HELD, hold_code="death", hold_reason=f"已于{death_date:%Y-%m-%d}死亡，次月起停发")
        overpaid = _overpayments_detect(PaymentLine.objects.filter(person=locked), actor=actor)
        audit_record(
            actor=actor,
            action=core_actions.PERSON_DEATH,
            obj=locked,
            old={"death_date": locked.death_date},
            new={
                "death_date": death_date,
                "terminated": terminated,
                "held": held,
                "overpayments": overpaid,
                "ended": ended,
            },
            reason=source,
        )
    person.death_date = death_date
    return DeathOutcome(terminated=terminated, dropped_from_drafts=dropped, held=held, overpayments=overpaid)


def overpayment_settle(
    *,
    overpayment: Overpayment,
    to_state: str,
    reference: str,
    actor,  # type: ignore[no-untyped-def]
) -> Overpayment:
    """Close an overpayment: refunded by the family, or offset against what the family is paid."""
    _require(actor, "overpayment.settle")
    if not reference.strip():
        raise ValidationError("请填写退款或抵扣凭证号", field="reference")
    with transaction.atomic():
        locked = Overpayment.objects.select_for_update().get(pk=overpayment.pk)
        if to_state not in OVERPAYMENT_TRANSITIONS[locked.state]:
            raise StateError(f"该笔多发待遇已{locked.get_state_display()}")
        n = Overpayment.objects.filter(pk=locked.pk, state=locked.state).update(
            state=to_state, reference=reference.strip()[:100], settled_by=actor, settled_at=timezone.now()
        )
        if n != 1:
            raise StateError("该笔多发待遇已被他人处理")
        audit_record(
            actor=actor,
            action=actions.OVERPAYMENT_SETTLE,
            obj=locked,
            old={"state": locked.state},
            new={"state": to_state, "reference": reference},
        )
    overpayment.refresh_from_db()
    return overpayment


# --- certification (待遇资格认证) ---------------------------------------------------------------


def certification_months() -> int:
    """How long a certification counts (rolling months; 12 unless the deployment says otherwise)."""
    from django.conf import settings

    return int(getattr(settings, "SHEBAO_CERTIFICATION_MONTHS", 12))


def certification_threshold(period: int) -> dt.date:
    """A recipient is overdue at the end of `period` if not certified on or after this date."""
    return period_first_day(prev_period(next_period(period), certification_months()))


@dataclass
class CertificationOutcome:
    certification: Certification
    resumed: int
    back_pay_months: int


def certification_record(
    *,
    person: Person,
    channel: str,
    actor,  # type: ignore[no-untyped-def]
    certified_on: dt.date | None = None,
    note: str = "",
) -> CertificationOutcome:
    """Record a certification. Entitlements suspended for want of it (1201) resume, and the months
    missed are back-paid in the next payroll as separate back-pay lines."""
    _require(actor, "certification.record")
    if channel not in Certification.Channel.values:
        raise ValidationError("请选择认证渠道", field="channel")
    today = timezone.localdate()
    certified_on = certified_on or today
    if certified_on > today:
        raise ValidationError("认证日期不能晚于今天", field="certified_on")
    if person.death_date is not None:
        raise StateError(f"{person.name}已登记死亡，不能认证")
    with transaction.atomic():
        cert = Certification.objects.create(
            person=person, certified_on=certified_on, channel=channel, note=note[:200], recorded_by=actor
        )
        resumed, months = certification_resume(person_id=person.pk, certified_on=certified_on, actor=actor)
        audit_record(
            actor=actor,
            action=actions.CERTIFICATION_RECORD,
            obj=person,
            new={
                "certified_on": certified_on,
                "channel": channel,
                "resumed": resumed,
                "back_pay_months": months,
            },
            reason=note,
        )
    return CertificationOutcome(certification=cert, resumed=resumed, back_pay_months=months)


def _last_payroll_run(ent: Entitlement) -> int:
    """The latest period of this benefit type whose normal payroll covering the person is past its draft."""
    periods = (
        Payroll.objects.filter(kind=Payroll.Kind.NORMAL, benefit_type_id=ent.benefit_type_id)
        .exclude(state=Payroll.State.DRAFT)
        .order_by("-period")
        .values_list("period", "region_id")
    )
    for period, region_id in periods[:24]:
        if ent.person.region_id in region_ids_under(region_id):
            return int(period)
    return 0


def certification_resume(*, person_id: int, certified_on: dt.date, actor) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Resume the person's entitlements suspended for want of certification (1201); the months missed
    become a BackPay paid in the next payroll. Runs inside the caller's transaction. Returns
    (entitlements resumed, months to back-pay)."""
    current = period_of(certified_on)
    resumed = months = 0
    for ent in (
        Entitlement.objects.select_for_update()
        .select_related("person")
        .filter(
            person_id=person_id,
            state=Entitlement.State.SUSPENDED,
            reason=Entitlement.Reason.NO_SURVIVAL_PROOF,
        )
    ):
        # A certification recorded late (a data match dated weeks ago) also owes the months whose
        # payrolls were approved since, while the entitlement was still suspended.
        last = max(current, _last_payroll_run(ent))
        if ent.suspended_from is not None and ent.suspended_from <= last:
            BackPay.objects.create(
                entitlement=ent,
                from_period=ent.suspended_from,
                to_period=last,
                reason=f"{certified_on:%Y-%m-%d}认证后恢复发放，补发暂停期间待遇",
                created_by=actor,
            )
            months += len(list(period_range(ent.suspended_from, last)))
        Entitlement.objects.filter(pk=ent.pk).update(
            state=Entitlement.State.ACTIVE, reason="", suspended_from=None
        )
        resumed += 1
    return resumed, months


def certification_sweep(*, region: Region, period: int, actor) -> int:  # type: ignore[no-untyped-def]
    """Suspend (1201), from the month after `period`, every monthly entitlement whose person has not
    certified within the rolling window by the end of `period`. Returns how many were suspended."""
    _require(actor, "certification.sweep")
    period = _check_period(period, "期别")
    threshold = certification_threshold(period)
    start = next_period(period)
    with transaction.atomic():
        overdue = (
            Entitlement.objects.filter(
                state=Entitlement.State.ACTIVE,
                benefit_type__kind=BenefitType.Kind.MONTHLY,
                person__region_id__in=region_ids_under(region.pk),
                person__death_date__isnull=True,
                from_period__lt=period_of(threshold),
            )
            .exclude(
                Exists(Certification.objects.filter(person=OuterRef("person"), certified_on__gte=threshold))
            )
            .exclude(to_period__lt=start)
        )
        ids = list(overdue.values_list("pk", flat=True))
        for i in range(0, len(ids), CHUNK):
            Entitlement.objects.filter(pk__in=ids[i : i + CHUNK], state=Entitlement.State.ACTIVE).update(
                state=Entitlement.State.SUSPENDED,
                reason=Entitlement.Reason.NO_SURVIVAL_PROOF,
                suspended_from=start,
            )
        audit_record_many(
            actor=actor,
            action=actions.ENTITLEMENT_STATE,
            object_type="payments.entitlement",
            rows=(
                {"object_id": pk, "new": {"state": "suspended", "reason": "1201", "suspended_from": start}}
                for pk in ids
            ),
            reason=f"逾期未认证（{certification_months()}个月内未认证），自{start}起暂停发放",
        )
    return len(ids)


# --- entitlement maker-checker -------------------------------------------------------------------

_CHANGE_TARGET: dict[str, str] = {
    EntitlementChange.Kind.SUSPEND: Entitlement.State.SUSPENDED,
    EntitlementChange.Kind.RESUME: Entitlement.State.ACTIVE,
    EntitlementChange.Kind.TERMINATE: Entitlement.State.TERMINATED,
}


def entitlement_change_request(
    *,
    entitlement: Entitlement,
    kind: str,
    actor,  # type: ignore[no-untyped-def]
    amount: Decimal | str | None = None,
    period: int | str | None = None,
    reason: str = "",
    note: str = "",
) -> EntitlementChange:
    """A clerk asks for a change (new amount from a period, suspension, resumption, termination); it
    is checked now so the supervisor sees only changes that can be applied."""
    _require(actor, "entitlement.edit")
    K = EntitlementChange.Kind
    value = None
    if kind == K.AMOUNT:
        value = _check_amount(amount if amount is not None else "")
        if period in (None, ""):
            raise ValidationError("请填写新金额的起始期", field="period")
    elif kind in _CHANGE_TARGET:
        target = _CHANGE_TARGET[kind]
        if target not in ENTITLEMENT_TRANSITIONS[entitlement.state]:
            raise StateError(
                f"待遇当前为“{entitlement.get_state_display()}”，不能{EntitlementChange.Kind(kind).label}"
            )
        reasons: dict[str, frozenset[str]] = {
            K.SUSPEND: Entitlement.SUSPEND_REASONS,
            K.TERMINATE: Entitlement.TERMINATE_REASONS,
        }
        allowed = reasons.get(kind)
        if allowed is not None and reason not in allowed:
            raise ValidationError(f"原因代码应为{'、'.join(sorted(allowed))}之一", field="reason")
        if reason == Entitlement.Reason.DEATH:
            raise ValidationError(
                "因死亡终止请在“死亡登记”中办理：次月起停发，已发的多发待遇列入追回，并告知家属申领丧葬补助金和抚恤金",
                field="reason",
            )
    else:
        raise ValidationError("请选择变更类型", field="kind")
    checked = _check_period(period, "生效期") if period not in (None, "") else None
    if kind == K.AMOUNT and checked is not None and checked < entitlement.from_period:
        raise ValidationError("调整起始期不能早于待遇起始期", field="period")
    with transaction.atomic():
        try:
            with transaction.atomic():
                change = EntitlementChange.objects.create(
                    entitlement=entitlement,
                    kind=kind,
                    amount=value,
                    period=checked,
                    reason=reason if kind != K.AMOUNT else "",
                    note=note[:200],
                    requested_by=actor,
                )
        except IntegrityError:
            raise StateError("该待遇已有一项待复核的变更，请先复核或退回") from None
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_CHANGE_REQUEST,
            obj=entitlement,
            new={"kind": kind, "amount": value, "period": checked, "reason": reason},
            reason=note,
        )
    return change


def entitlement_change_decide(
    *,
    change: EntitlementChange,
    approve: bool,
    actor,  # type: ignore[no-untyped-def]
    note: str = "",
) -> EntitlementChange:
    """A supervisor other than the maker approves (the change is applied in the same transaction) or
    rejects a pending change."""
    _require(actor, "entitlement.approve")
    if change.requested_by_id == actor.pk:
        raise PermissionDenied("复核人不能是申请人本人")
    S = EntitlementChange.State
    with transaction.atomic():
        n = EntitlementChange.objects.filter(pk=change.pk, state=S.PENDING).update(
            state=S.APPROVED if approve else S.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            decision_note=note[:200],
        )
        if n != 1:
            raise StateError("该变更已由他人复核")
        if approve:
            if change.kind == EntitlementChange.Kind.AMOUNT:
                entitlement_amount_change(
                    entitlement=change.entitlement,
                    amount=change.amount,  # type: ignore[arg-type]
                    valid_from=change.period,  # type: ignore[arg-type]
                    note=change.note,
                    actor=actor,
                )
            else:
                entitlement_transition(
                    entitlement=change.entitlement,
                    to_state=_CHANGE_TARGET[change.kind],
                    reason=change.reason,
                    from_period=change.period if change.kind == EntitlementChange.Kind.SUSPEND else None,
                    to_period=change.period if change.kind == EntitlementChange.Kind.TERMINATE else None,
                    actor=actor,
                )
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_CHANGE_DECIDE,
            obj=change.entitlement,
            new={"change": change.pk, "approved": approve},
            reason=note,
        )
    change.refresh_from_db()
    return change
