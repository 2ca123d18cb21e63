"""Backdated amount changes pay the difference (补差) for months already paid; a benefit type whose card
rollout has not started yet is paid to the person's latest account that is not the card."""

from __future__ import annotations

from decimal import Decimal

from shebao.payments.models import BackPay, BenefitType, Overpayment, PaymentLine
from shebao.payments.services import (
    entitlement_change_decide,
    entitlement_change_request,
    overpayment_settle,
    return_file_import,
)
from tests.factories import AccountFactory
from tests.payments.factories import filed, generate, return_bytes


def _paid(pay, world, period):  # type: ignore[no-untyped-def]
    payroll = filed(pay, period)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file),
            file_name=f"r{period}.txt",
            actor=world.centre_clerk,
        )
    return payroll


def _raise(pay, world, amount: str, period: int):  # type: ignore[no-untyped-def]
    change = entitlement_change_request(
        entitlement=pay.ent_a,
        kind="amount",
        amount=amount,
        period=period,
        note="调待",
        actor=world.centre_clerk,
    )
    return entitlement_change_decide(change=change, approve=True, actor=world.supervisor)


def test_a_backdated_raise_pays_the_difference_for_months_already_paid(pay, world):
    _paid(pay, world, 202405)
    _paid(pay, world, 202406)

    _raise(pay, world, "2400.00", 202405)
    july = generate(pay, 202407)

    lines = sorted(july.lines.filter(person=world.person_a).values_list("period", "kind", "amount"))
    assert lines == [
        (202405, "arrears", Decimal("54.40")),
        (202406, "arrears", Decimal("54.40")),
        (202407, "normal", Decimal("2400.00")),
    ]
    assert PaymentLine.objects.filter(person=world.person_b, kind="arrears").count() == 0
    # Regenerating the draft gives the same lines, never a second difference.
    again = generate(pay, 202407)
    assert sorted(again.lines.filter(person=world.person_a).values_list("period", "kind", "amount")) == lines


def test_the_difference_is_paid_once_even_after_a_second_backdated_change(pay, world):
    _paid(pay, world, 202406)
    _raise(pay, world, "2400.00", 202406)
    july = filed(pay, 202407)
    assert july.lines.get(person=world.person_a, period=202406).amount == Decimal("54.40")

    _raise(pay, world, "2500.00", 202406)
    august = generate(pay, 202408)

    by_period = dict(
        august.lines.filter(person=world.person_a, kind="arrears").values_list("period", "amount")
    )
    # June: 2345.60 paid + 54.40 difference; now 2500.00 is owed: 100.00 more. July: 2400.00 paid.
    assert by_period == {202406: Decimal("100.00"), 202407: Decimal("100.00")}


def test_a_raise_from_a_month_not_yet_paid_makes_no_difference_lines(pay, world):
    _paid(pay, world, 202406)

    _raise(pay, world, "2400.00", 202407)

    assert not BackPay.objects.exists()
    assert generate(pay, 202407).lines.get(person=world.person_a).amount == Decimal("2400.00")


def test_a_benefit_type_before_its_card_period_pays_the_latest_non_card_account(pay, world):
    BenefitType.objects.filter(pk=pay.pension.pk).update(card_from_period=202407)
    card = AccountFactory(
        person=world.person_a,
        bank=world.bank_b,
        account_no="6230000000000000045",
        kind="card",
        valid_from=202405,
    )
    passbook = world.person_a.accounts.exclude(pk=card.pk).get()

    june = generate(pay, 202406).lines.get(person=world.person_a)
    july = generate(pay, 202407).lines.get(person=world.person_a)

    assert (june.account_no, june.bank) == (passbook.account_no, passbook.bank)
    assert (july.account_no, july.bank) == (card.account_no, world.bank_b)


def test_a_benefit_type_without_a_card_period_pays_the_current_account(pay, world):
    card = AccountFactory(
        person=world.person_a,
        bank=world.bank_b,
        account_no="6230000000000000045",
        kind="card",
        valid_from=202405,
    )

    assert generate(pay, 202406).lines.get(person=world.person_a).account_no == card.account_no


def test_a_backdated_change_from_an_approved_import_pays_the_difference(pay, world, tmp_path):
    from shebao.payments.importers import entitlement_import, entitlement_import_decide

    _paid(pay, world, 202406)
    path = tmp_path / "调待.csv"
    path.write_text(
        f"社会保障号码,待遇代码,起始期,月待遇金额,终止期\n{world.person_a.ssn},PEN-EMP,202406,2400.00,\n",
        encoding="utf-8",
    )
    result = entitlement_import(path=path, file_name="调待.csv", actor=world.centre_clerk)
    entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)

    july = generate(pay, 202407)

    assert sorted(july.lines.filter(person=world.person_a).values_list("period", "kind", "amount")) == [
        (202406, "arrears", Decimal("54.40")),
        (202407, "normal", Decimal("2400.00")),
    ]


def test_a_backdated_decrease_from_an_approved_import_makes_overpayments(pay, world, tmp_path):
    from shebao.payments.importers import entitlement_import, entitlement_import_decide

    _paid(pay, world, 202405)
    _paid(pay, world, 202406)
    path = tmp_path / "更正.csv"
    path.write_text(
        "社会保障号码,待遇代码,起始期,月待遇金额,终止期\n"
        f"{world.person_a.ssn},PEN-EMP,202406,2300.00,\n{world.person_b.ssn},PEN-EMP,202406,1900.00,\n",
        encoding="utf-8",
    )
    result = entitlement_import(path=path, file_name="更正.csv", actor=world.centre_clerk)
    entitlement_import_decide(batch=result.batch, approve=True, actor=world.supervisor)

    # A: June paid 2345.60, owed 2300.00 now; May is before the change. B was raised: no overpayment.
    assert list(Overpayment.objects.values_list("person_id", "line__period", "amount")) == [
        (world.person_a.pk, 202406, Decimal("45.60"))
    ]


def test_a_backdated_decrease_makes_the_difference_of_each_month_paid_an_overpayment(pay, world):
    _paid(pay, world, 202405)
    _paid(pay, world, 202406)

    _raise(pay, world, "2300.00", 202405)  # from 2345.60: 45.60 a month too much

    owed = sorted(
        Overpayment.objects.filter(person=world.person_a).values_list("line__period", "amount", "state")
    )
    assert owed == [(202405, Decimal("45.60"), "open"), (202406, Decimal("45.60"), "open")]
    assert "下调" in Overpayment.objects.filter(person=world.person_a).first().reason  # type: ignore[union-attr]
    # No arrears line for a decrease, and the next month is paid at the new amount.
    july = generate(pay, 202407)
    assert sorted(july.lines.filter(person=world.person_a).values_list("period", "kind", "amount")) == [
        (202407, "normal", Decimal("2300.00"))
    ]
    # A further decrease raises the open overpayments to the new difference; a settled one stays settled.
    overpayment_settle(
        overpayment=Overpayment.objects.get(line__period=202405, person=world.person_a),
        to_state="refunded",
        reference="退款凭证001",
        actor=world.centre_clerk,
    )
    _raise(pay, world, "2200.00", 202405)
    owed = sorted(
        Overpayment.objects.filter(person=world.person_a).values_list("line__period", "amount", "state")
    )
    assert owed == [(202405, Decimal("45.60"), "refunded"), (202406, Decimal("145.60"), "open")]


def test_a_decrease_from_a_month_not_yet_paid_makes_no_overpayment(pay, world):
    _paid(pay, world, 202405)

    _raise(pay, world, "2000.00", 202406)

    assert not Overpayment.objects.filter(person=world.person_a).exists()


def test_two_backdated_changes_before_one_payroll_pay_each_month_s_difference_once(pay, world):
    _paid(pay, world, 202405)
    _paid(pay, world, 202406)

    _raise(pay, world, "2400.00", 202405)
    _raise(pay, world, "2500.00", 202406)  # a correction before the next payroll: two pending back pays
    assert BackPay.objects.filter(payroll__isnull=True).count() == 2
    july = generate(pay, 202407)

    lines = sorted(july.lines.filter(person=world.person_a).values_list("period", "kind", "amount"))
    assert lines == [
        (202405, "arrears", Decimal("54.40")),
        (202406, "arrears", Decimal("154.40")),
        (202407, "normal", Decimal("2500.00")),
    ]


def test_a_death_after_a_decrease_makes_the_whole_month_an_overpayment(pay, world):
    import datetime as dt

    from shebao.payments.services import death_record

    _paid(pay, world, 202405)
    _paid(pay, world, 202406)
    _raise(pay, world, "2300.00", 202405)

    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)

    owed = sorted(Overpayment.objects.filter(person=world.person_a).values_list("line__period", "amount"))
    # May was owed (the month of death) at 2300.00: 45.60 too much; June was not owed at all.
    assert owed == [(202405, Decimal("45.60")), (202406, Decimal("2345.60"))]
