from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shebao.core.errors import StateError
from shebao.payments.models import Entitlement, PaymentLine, Payroll
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import entitlement_amount_change, entitlement_create, entitlement_transition
from tests.factories import AccountFactory, BankFactory, PersonFactory
from tests.payments.factories import approved, generate


def _lines(payroll: Payroll) -> dict[str, PaymentLine]:
    return {line.person.name: line for line in payroll.lines.select_related("person")}


def test_it_pays_each_active_entitlement_its_amount_for_the_period(pay):
    payroll = generate(pay)
    lines = _lines(payroll)
    assert set(lines) == {"王小明", "李小红"}
    assert lines["王小明"].amount == Decimal("2345.60")
    assert lines["李小红"].amount == Decimal("1800.00")
    assert all(
        line.kind == "normal" and line.period == 202406 and line.state == "pending" for line in lines.values()
    )
    assert payroll_reconcile(payroll).issued.amount == Decimal("4145.60")


def test_it_uses_the_amount_effective_for_the_period_when_the_amount_changes_mid_history(pay):
    clerk = pay.world.centre_clerk
    entitlement_amount_change(entitlement=pay.ent_a, amount="2401.37", valid_from=202407, actor=clerk)
    entitlement_amount_change(entitlement=pay.ent_a, amount="2500.01", valid_from=202501, actor=clerk)
    # A correction for the same month: the latest row wins.
    entitlement_amount_change(entitlement=pay.ent_a, amount="2402.37", valid_from=202407, actor=clerk)

    assert _lines(generate(pay, 202406))["王小明"].amount == Decimal("2345.60")
    assert _lines(generate(pay, 202407))["王小明"].amount == Decimal("2402.37")
    assert _lines(generate(pay, 202412))["王小明"].amount == Decimal("2402.37")
    assert _lines(generate(pay, 202501))["王小明"].amount == Decimal("2500.01")


def test_it_pays_into_the_account_effective_for_the_period(pay):
    w = pay.world
    new_bank = BankFactory(name="丙银行")
    AccountFactory(person=w.person_a, bank=new_bank, account_no="6228480000000000017", valid_from=202407)

    june = _lines(generate(pay, 202406))["王小明"]
    july = _lines(generate(pay, 202407))["王小明"]

    assert june.bank == w.bank_a and june.account_no != "6228480000000000017"
    assert (july.bank, july.account_no, july.account_name) == (new_bank, "6228480000000000017", "王小明")


def test_it_skips_suspended_terminated_and_expired_entitlements(pay, world):
    entitlement_transition(
        entitlement=pay.ent_a,
        to_state="suspended",
        reason="1201",
        from_period=202406,
        actor=world.centre_clerk,
    )
    assert set(_lines(generate(pay, 202405))) == {"王小明", "李小红"}  # owed before the suspension
    assert set(_lines(generate(pay, 202406))) == {"李小红"}

    Entitlement.objects.filter(pk=pay.ent_b.pk).update(to_period=202406)
    assert set(_lines(generate(pay, 202406))) == {"李小红"}
    assert set(_lines(generate(pay, 202407))) == set()


def test_it_pays_the_month_of_death_and_nothing_after(pay, world):
    world.person_a.death_date = dt.date(2024, 6, 30)
    world.person_a.save()

    assert "王小明" in _lines(generate(pay, 202406))
    assert "王小明" not in _lines(generate(pay, 202407))


def test_it_regenerates_a_draft_with_the_current_figures(pay, world):
    payroll = generate(pay)
    entitlement_amount_change(
        entitlement=pay.ent_b, amount="1900.00", valid_from=202406, actor=world.centre_clerk
    )

    again = generate(pay)

    assert again.pk == payroll.pk and again.state == "draft"
    assert PaymentLine.objects.filter(payroll=payroll).count() == 2
    assert _lines(again)["李小红"].amount == Decimal("1900.00")


def test_it_refuses_to_regenerate_an_approved_payroll_and_keeps_its_lines(pay, world):
    payroll = approved(pay)
    before = list(payroll.lines.values_list("id", "amount", "account_no"))
    entitlement_amount_change(
        entitlement=pay.ent_b, amount="1900.00", valid_from=202406, actor=world.centre_clerk
    )

    with pytest.raises(StateError, match="不能重新生成"):
        generate(pay)

    assert list(payroll.lines.values_list("id", "amount", "account_no")) == before
    payroll_reconcile(payroll)


def test_the_database_refuses_a_second_normal_line_for_the_same_person_and_period(pay):
    line = generate(pay).lines.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentLine.objects.create(
            payroll=line.payroll,
            person=line.person,
            benefit_type=line.benefit_type,
            period=line.period,
            amount=Decimal("1.00"),
            kind="normal",
        )


def test_a_month_already_paid_cannot_be_back_paid_but_can_be_paid_again_after_a_failure(pay):
    line = generate(pay).lines.first()
    fields = dict(
        payroll=line.payroll,
        person=line.person,
        benefit_type=line.benefit_type,
        period=line.period,
        amount=line.amount,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentLine.objects.create(**fields, kind="back_pay")
    PaymentLine.objects.create(**fields, kind="repayment", original=line)


def test_it_holds_a_line_without_an_account(pay, world):
    newcomer = PersonFactory(region=world.region, name="赵无账")
    entitlement_create(
        person=newcomer,
        benefit_type=pay.pension,
        from_period=202406,
        amount="1000.00",
        actor=world.centre_clerk,
    )

    line = _lines(generate(pay))["赵无账"]

    assert line.state == "held" and "无有效发放账户" in line.hold_reason


def test_totals_are_exact_to_the_fen_on_every_database(pay, world):
    for amount in ("0.10", "0.20", "1234567.89"):
        person = PersonFactory(region=world.region)
        AccountFactory(person=person, bank=world.bank_a)
        entitlement_create(
            person=person,
            benefit_type=pay.pension,
            from_period=202401,
            amount=amount,
            actor=world.centre_clerk,
        )

    payroll = approved(pay)
    fig = payroll_reconcile(payroll)

    assert str(fig.issued.amount) == "1238713.79" and str(payroll.control_total) == "1238713.79"
