from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.payments.models import Overpayment, PaymentLine
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.rules import survivor_amounts
from shebao.payments.services import death_record, overpayment_settle, return_file_import
from tests.payments.factories import approved, filed, generate, return_bytes


def _pay_june(pay, world):  # type: ignore[no-untyped-def]
    payroll = filed(pay, 202406)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )
    return payroll


def test_death_ends_the_entitlement_and_the_next_payroll_stops(pay, world):
    outcome = death_record(person=world.person_a, death_date=dt.date(2024, 6, 12), actor=world.centre_clerk)

    pay.ent_a.refresh_from_db()
    assert (pay.ent_a.state, pay.ent_a.reason, pay.ent_a.to_period) == ("terminated", "1401", 202406)
    assert outcome.terminated == 1
    assert generate(pay, 202406).lines.filter(person=world.person_a).exists()
    assert not generate(pay, 202407).lines.filter(person=world.person_a).exists()


def test_a_month_already_paid_after_death_becomes_an_overpayment(pay, world):
    _pay_june(pay, world)

    outcome = death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)

    over = Overpayment.objects.get()
    assert outcome.overpayments == 1
    assert (over.person, over.amount, over.state) == (world.person_a, Decimal("2345.60"), "open")
    assert "2024-05-20" in over.reason


def test_a_line_at_the_bank_when_death_is_recorded_becomes_an_overpayment_when_returned_paid(pay, world):
    payroll = filed(pay, 202406)
    death_record(person=world.person_b, death_date=dt.date(2024, 5, 31), actor=world.centre_clerk)
    assert not Overpayment.objects.exists()

    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )

    assert list(Overpayment.objects.values_list("person__name", "amount")) == [("李小红", Decimal("1800.00"))]
    payroll_reconcile(payroll)


def test_death_drops_later_months_from_a_draft_and_holds_them_in_an_approved_payroll(pay, world):
    draft = generate(pay, 202407)
    june = approved(pay, 202406)

    outcome = death_record(person=world.person_a, death_date=dt.date(2024, 5, 2), actor=world.centre_clerk)

    assert not draft.lines.filter(person=world.person_a).exists()
    held = PaymentLine.objects.get(payroll=june, person=world.person_a)
    assert (held.state, held.hold_code) == ("held", "death")
    assert (outcome.dropped_from_drafts, outcome.held) == (1, 1)
    payroll_reconcile(june)


def test_an_overpayment_is_tracked_until_refunded(pay, world):
    _pay_june(pay, world)
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    over = Overpayment.objects.get()

    with pytest.raises(ValidationError, match="凭证"):
        overpayment_settle(overpayment=over, to_state="refunded", reference=" ", actor=world.centre_clerk)
    overpayment_settle(
        overpayment=over, to_state="refunded", reference="退款单2024-071", actor=world.centre_clerk
    )

    assert over.state == "refunded" and over.reference == "退款单2024-071"
    with pytest.raises(StateError, match="已退回"):
        overpayment_settle(overpayment=over, to_state="offset", reference="x", actor=world.centre_clerk)


def test_a_different_death_date_is_not_overwritten_and_a_future_one_is_refused(pay, world):
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 2), actor=world.centre_clerk)

    with pytest.raises(StateError, match="已登记死亡日期"):
        death_record(person=world.person_a, death_date=dt.date(2024, 6, 2), actor=world.centre_clerk)
    with pytest.raises(ValidationError, match="晚于今天"):
        death_record(person=world.person_b, death_date=dt.date(2999, 1, 1), actor=world.centre_clerk)
    with pytest.raises(PermissionDenied):
        death_record(person=world.person_b, death_date=dt.date(2024, 1, 1), actor=world.auditor)


@pytest.mark.parametrize(
    ("contribution_months", "pension_months", "months", "pension"),
    [
        (20 * 12, 0, Decimal("14.00"), Decimal("42000.00")),  # 9 + (20 − 15)
        (20 * 12 + 6, 0, Decimal("14.50"), Decimal("43500.00")),  # years counted by month
        (10 * 12, 0, Decimal("9.00"), Decimal("27000.00")),  # never below 9
        (30 * 12, 10 * 12, Decimal("14.00"), Decimal("42000.00")),  # retiree: 9 + 15 − 10
        (16 * 12, 8 * 12, Decimal("9.00"), Decimal("27000.00")),
    ],
)
def test_survivor_payments_follow_the_2021_rule(contribution_months, pension_months, months, pension):
    amounts = survivor_amounts(
        base_monthly_income=Decimal("3000.00"),
        contribution_months=contribution_months,
        pension_months=pension_months,
    )

    assert amounts.funeral_grant == Decimal("6000.00")
    assert (amounts.survivor_months, amounts.survivor_pension) == (months, pension)
