"""补差: an amount change whose first month lies in months already paid at the old amount owes the
difference for those months. It is recorded as a BackPay over the months whose payrolls have been run,
and the next payroll of the benefit type pays one arrears line per month still short (see
`services._insert_back_pay`).

A backdated decrease works the other way: every month already paid at more than is owed now becomes
an overpayment (多发) of the difference, tracked until it is refunded or offset like one after a death.
Lines still at the bank when the change is made are not counted (their result is not known yet)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from shebao.payments.models import BackPay, Entitlement, Overpayment, PaymentLine


def arrears_open(*, entitlement: Entitlement, valid_from: int, actor: Any) -> BackPay | None:
    """Inside the caller's transaction: when `valid_from` is a month whose payroll has already been run,
    the months from it to the last one run are owed again at the new amount."""
    from shebao.payments.services import _last_payroll_run

    last = _last_payroll_run(entitlement)
    if entitlement.to_period is not None:
        last = min(last, entitlement.to_period)
    if last < valid_from:
        return None
    overpayments_open(entitlement=entitlement, from_period=valid_from, to_period=last, actor=actor)
    return BackPay.objects.create(
        entitlement=entitlement,
        from_period=valid_from,
        to_period=last,
        reason=f"待遇金额自{valid_from}起调整，补发已发放月份的差额",
        created_by=actor,
    )


def overpayments_open(*, entitlement: Entitlement, from_period: int, to_period: int, actor: Any) -> int:
    """An overpayment for every month from `from_period` to `to_period` paid at more than the amount owed
    now: the difference, on the month's own line (its normal or back-pay line). Returns how many."""
    from shebao.audit.services import audit_record_many
    from shebao.payments import actions

    history = list(entitlement.amounts.order_by("valid_from", "id").values_list("valid_from", "amount"))
    paid: dict[int, Decimal] = defaultdict(Decimal)
    main: dict[int, int] = {}
    # A month whose line already carries an overpayment still open (an earlier decrease) has it raised to
    # the new difference; one already refunded or offset is left as it is settled.
    still_open: dict[int, Overpayment] = {}
    for pk, period, amount, kind, has_overpayment in PaymentLine.objects.filter(
        person_id=entitlement.person_id,
        benefit_type_id=entitlement.benefit_type_id,
        period__gte=from_period,
        period__lte=to_period,
        state=PaymentLine.State.PAID,
        kind__in=[PaymentLine.Kind.NORMAL, PaymentLine.Kind.BACK_PAY, PaymentLine.Kind.ARREARS],
    ).values_list("pk", "period", "amount", "kind", "overpayment"):
        paid[period] += amount
        if kind != PaymentLine.Kind.ARREARS and has_overpayment is None:
            main[period] = pk
        elif kind != PaymentLine.Kind.ARREARS:
            found = Overpayment.objects.select_for_update().get(pk=has_overpayment)
            if found.state == Overpayment.State.OPEN:
                still_open[period] = found
    rows = []
    raised = []
    for period in sorted(paid):
        owed = [amount for valid_from, amount in history if valid_from <= period]
        excess = paid[period] - (owed[-1] if owed else Decimal("0.00"))
        if period in still_open and excess > still_open[period].amount:
            found = still_open[period]
            raised.append((found, found.amount, excess))
            found.amount = excess
            found.reason = f"待遇金额自{from_period}起下调，{period}多发{excess}元"[:200]
            found.save(update_fields=["amount", "reason"])
        elif excess > 0 and period in main:
            rows.append(
                Overpayment(
                    line_id=main[period],
                    person_id=entitlement.person_id,
                    amount=excess,
                    reason=f"待遇金额自{from_period}起下调，{period}多发{excess}元",
                )
            )
    if raised:
        audit_record_many(
            actor=actor,
            action=actions.OVERPAYMENT_OPEN,
            object_type="payments.paymentline",
            rows=(
                {
                    "object_id": o.line_id,
                    "old": {"amount": before},
                    "new": {"amount": after, "reason": o.reason},
                }
                for o, before, after in raised
            ),
        )
    if not rows:
        return len(raised)
    Overpayment.objects.bulk_create(rows)
    audit_record_many(
        actor=actor,
        action=actions.OVERPAYMENT_OPEN,
        object_type="payments.paymentline",
        rows=({"object_id": r.line_id, "new": {"amount": r.amount, "reason": r.reason}} for r in rows),
    )
    return len(rows) + len(raised)
