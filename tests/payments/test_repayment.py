from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shebao.core.errors import StateError, ValidationError
from shebao.payments.models import NameWhitelist, PaymentLine, Payroll
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import (
    line_resolve,
    name_whitelist_confirm,
    payroll_approve,
    payroll_file,
    repayment_generate,
    return_file_import,
)
from tests.factories import AccountFactory, BankFactory
from tests.payments.factories import filed, return_bytes


@pytest.fixture
def failures(pay, world):
    """June: A fails with 户名不符 at bank A, B fails with 挂失 at bank B."""
    payroll = filed(pay)
    for bank_file in payroll.bank_files.all():
        reason = "name_mismatch" if bank_file.bank == world.bank_a else "lost"
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures={1: reason}),
            file_name=f"{bank_file.batch_no}.txt",
            actor=world.centre_clerk,
        )
    lines = {line.person: line for line in PaymentLine.objects.filter(payroll=payroll)}
    return payroll, lines[world.person_a], lines[world.person_b]


def _confirm(world, spelling: str = "王晓明") -> None:  # type: ignore[no-untyped-def]
    """A supervisor confirms the spelling the clerk recorded (maker-checker on the whitelist)."""
    entry = NameWhitelist.objects.get(person=world.person_a, spelling=spelling)
    name_whitelist_confirm(entry=entry, actor=world.supervisor)


def _repay(pay, world):  # type: ignore[no-untyped-def]
    return repayment_generate(
        region=world.region, benefit_type=pay.pension, period=202406, actor=world.centre_clerk
    )


def test_a_name_mismatch_is_whitelisted_and_paid_again_with_the_bank_spelling(pay, world, failures):
    _, line_a, _ = failures

    line_resolve(
        line=line_a, kind="name_verified", spelling="王晓明", note="本人核实", actor=world.centre_clerk
    )
    batch = _repay(pay, world)
    # The clerk's spelling is held back until a supervisor confirms it.
    assert batch.lines.get().state == "held"
    _confirm(world)

    assert NameWhitelist.objects.filter(person=world.person_a, spelling="王晓明").exists()
    repay = batch.lines.get()
    assert (repay.kind, repay.original, repay.amount, repay.period) == (
        "repayment",
        line_a,
        Decimal("2345.60"),
        202406,
    )
    assert (repay.bank, repay.account_no, repay.account_name, repay.state) == (
        world.bank_a,
        line_a.account_no,
        "王晓明",
        "pending",
    )
    assert batch.kind == "repayment" and batch.state == "draft"


def test_a_lost_card_waits_for_the_new_account(pay, world, failures):
    _, _, line_b = failures

    with pytest.raises(StateError, match="等待新卡"):
        line_resolve(line=line_b, kind="new_account", actor=world.centre_clerk)

    AccountFactory(
        person=world.person_b, bank=world.bank_b, account_no="6230000000000000011", valid_from=202406
    )
    line_resolve(line=line_b, kind="new_account", actor=world.centre_clerk)
    assert _repay(pay, world).lines.get().account_no == "6230000000000000011"


def test_an_alternate_account_needs_its_proof(pay, world, failures):
    _, _, line_b = failures
    other_bank = BankFactory(name="丁银行")
    kwargs = dict(
        line=line_b,
        kind="alternate",
        bank=other_bank,
        account_no="6212 2600 0000 0000 019",
        account_name="李小红",
        actor=world.centre_clerk,
    )

    with pytest.raises(ValidationError, match="凭证"):
        line_resolve(**kwargs)
    line_resolve(**kwargs, proof="确认书2024-0618号")

    repay = _repay(pay, world).lines.get()
    assert (repay.bank, repay.account_no) == (other_bank, "6212260000000000019")


def test_the_second_payment_goes_through_approval_file_and_return(pay, world, failures):
    payroll, line_a, line_b = failures
    line_resolve(line=line_a, kind="name_verified", spelling="王晓明", actor=world.centre_clerk)
    _confirm(world)
    AccountFactory(
        person=world.person_b, bank=world.bank_b, account_no="6230000000000000011", valid_from=202406
    )
    line_resolve(line=line_b, kind="new_account", actor=world.centre_clerk)

    batch = payroll_approve(payroll=_repay(pay, world), actor=world.supervisor)
    files = payroll_file(payroll=batch, actor=world.centre_clerk)
    for bank_file in files:
        return_file_import(
            payroll=batch, data=return_bytes(bank_file), file_name="r2.txt", actor=world.centre_clerk
        )

    batch.refresh_from_db()
    fig = payroll_reconcile(batch)
    assert batch.state == "reconciled" and (fig.paid.count, fig.paid.amount) == (2, Decimal("4145.60"))
    assert payroll_reconcile(payroll).failed.count == 2  # the June payroll keeps its history


def test_a_failed_line_is_paid_again_only_once(pay, world, failures):
    _, line_a, _ = failures
    line_resolve(line=line_a, kind="name_verified", spelling="王晓明", actor=world.centre_clerk)
    batch = payroll_approve(payroll=_repay(pay, world), actor=world.supervisor)

    with pytest.raises(StateError, match="已处理"):
        line_resolve(line=line_a, kind="name_verified", spelling="王晓明", actor=world.centre_clerk)
    with pytest.raises(StateError, match="没有已处理"):
        _repay(pay, world)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentLine.objects.create(
            payroll=batch,
            person=line_a.person,
            benefit_type=line_a.benefit_type,
            period=202406,
            amount=line_a.amount,
            kind="repayment",
            original=line_a,
        )
    assert Payroll.objects.filter(kind="repayment").count() == 1


def test_a_paid_line_cannot_be_resolved(pay, world):
    payroll = filed(pay)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )

    with pytest.raises(StateError, match="只有发放失败"):
        line_resolve(
            line=payroll.lines.first(), kind="name_verified", spelling="王小明", actor=world.centre_clerk
        )


def test_a_month_after_death_is_not_paid_again(pay, world, failures):
    _, line_a, line_b = failures
    line_resolve(line=line_a, kind="name_verified", spelling="王晓明", actor=world.centre_clerk)
    _confirm(world)
    AccountFactory(
        person=world.person_b, bank=world.bank_b, account_no="6230000000000000011", valid_from=202406
    )
    line_resolve(line=line_b, kind="new_account", actor=world.centre_clerk)
    world.person_b.death_date = dt.date(2024, 5, 20)
    world.person_b.save()

    batch = _repay(pay, world)

    assert list(batch.lines.values_list("person__name", flat=True)) == ["王小明"]


def test_a_line_held_at_filing_is_paid_in_the_second_batch(pay, world):
    AccountFactory(person=world.person_a, bank=world.bank_a, account_name="王晓明", valid_from=202406)
    payroll = filed(pay)
    held = PaymentLine.objects.get(payroll=payroll, person=world.person_a)
    assert held.state == "held" and held.bank_file is None

    line_resolve(line=held, kind="name_verified", spelling="王晓明", actor=world.centre_clerk)
    _confirm(world)
    repay = _repay(pay, world).lines.get()

    assert (repay.original, repay.state, repay.account_name) == (held, "pending", "王晓明")


def test_the_bank_spelling_is_sent_from_the_next_month_so_the_name_does_not_fail_again(pay, world, failures):
    """After a 户名不符 verified with the person, the following payrolls carry the spelling the bank accepts
    (a new row of the account history), and the pre-flight passes it through the whitelist."""
    from shebao.people.models import PaymentAccount
    from tests.payments.factories import generate

    _, line_a, _ = failures
    line_resolve(
        line=line_a, kind="name_verified", spelling="王晓明", note="本人核实", actor=world.centre_clerk
    )
    _confirm(world)

    rows = list(PaymentAccount.objects.filter(person=world.person_a).order_by("valid_from", "pk"))
    assert rows[-1].account_name == "王晓明" and rows[-1].account_no == line_a.account_no
    assert rows[-1].valid_from == 202407 and rows[-2].account_name == "王小明"  # history kept
    july = generate(pay, 202407).lines.get(person=world.person_a)
    assert (july.account_no, july.account_name, july.state) == (line_a.account_no, "王晓明", "pending")


def test_a_switched_account_is_not_overridden_by_the_old_accounts_spelling(pay, world, failures):
    from shebao.people.models import PaymentAccount

    _, line_a, _ = failures
    AccountFactory(person=world.person_a, bank=world.bank_b, valid_from=202407)  # moved to another account
    before = PaymentAccount.objects.filter(person=world.person_a).count()
    line_resolve(
        line=line_a, kind="name_verified", spelling="王晓明", note="本人核实", actor=world.centre_clerk
    )
    assert PaymentAccount.objects.filter(person=world.person_a).count() == before


def test_whoever_chose_the_account_of_a_second_payment_cannot_approve_its_batch(pay, world, failures):
    """An alternate account resolved by a supervisor must be approved by another supervisor."""
    from shebao.core.errors import PermissionDenied
    from tests.factories import UserFactory

    _, line_a, _ = failures
    line_resolve(
        line=line_a,
        kind="alternate",
        bank=world.bank_b,
        account_no=AccountFactory.build().account_no,
        account_name="王小明",
        proof="本人签字确认书 2024-07-01",
        actor=world.supervisor,
    )
    batch = _repay(pay, world)
    with pytest.raises(PermissionDenied, match="另一名复核员"):
        payroll_approve(payroll=batch, actor=world.supervisor)
    other = UserFactory(username="sup2", role="centre_supervisor", region=world.region)
    assert payroll_approve(payroll=batch, actor=other).state == "approved"


def test_a_failed_month_after_the_person_s_death_is_not_paid_again(pay, world, failures):
    from shebao.payments.services import death_record

    _, _, line_b = failures  # June, failed (挂失)
    death_record(person=world.person_b, death_date=dt.date(2024, 5, 10), actor=world.centre_clerk)

    with pytest.raises(StateError, match="不再支付"):
        line_resolve(
            line=line_b,
            kind="alternate",
            bank=world.bank_a,
            account_no="6222000000000000123",
            account_name=world.person_b.name,
            proof="家属提供",
            actor=world.centre_clerk,
        )
