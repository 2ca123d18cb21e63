"""Item 9 for payments the bank never saw: the pre-flight held a line paid into a switched card account
because the account name differs (or the card is lost or being replaced); once the payroll is filed without
it, the case goes back to the unit with the reason, as a bank rejection would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shebao.payments.models import PaymentLine
from shebao.payments.services import entitlement_create, payroll_approve, payroll_file, payroll_generate
from shebao.switching.automatic import switch_failures_from_returns
from shebao.switching.models import SwitchFailure
from shebao.switching.services import account_change_approve, account_change_prepare
from tests.switching.factories import NEW_ACCOUNT, beneficiary
from tests.switching.test_return_failures import PERIOD, _pension

pytestmark = pytest.mark.django_db


def _switch_with_other_name(world: Any) -> Any:
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk,
        person=person,
        account_no=NEW_ACCOUNT,
        account_name=person.name + "华",  # the bank account is in another spelling
        bank=world.bank_a,
        submitted_on=dt.date(2024, 5, 10),
    )
    return account_change_approve(change_id=change.pk, actor=world.supervisor, today=dt.date(2024, 5, 20))


def _payroll(world: Any) -> Any:
    pension = _pension()
    for p in (world.person_a, world.person_b):
        entitlement_create(
            person=p, benefit_type=pension, from_period=202301, amount="2000.00", actor=world.centre_clerk
        )
    payroll = payroll_generate(
        region=world.region, period=PERIOD, benefit_type=pension, actor=world.centre_clerk
    )
    return payroll_approve(payroll=payroll, actor=world.supervisor)


def test_a_line_held_for_the_name_goes_back_to_the_unit_when_the_payroll_is_filed(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    change = _switch_with_other_name(world)
    payroll = _payroll(world)
    line = PaymentLine.objects.get(payroll=payroll, person=world.person_a)
    assert line.state == PaymentLine.State.HELD and line.hold_code == "preflight:name_mismatch"
    # while the payroll is not filed, a whitelist entry may still release the line: nothing goes back yet
    assert switch_failures_from_returns(actor=world.centre_clerk, payroll_ids=[payroll.pk]) == 0

    with django_capture_on_commit_callbacks(execute=True):
        payroll_file(payroll=payroll, actor=world.centre_clerk)

    failure = SwitchFailure.objects.get(person=world.person_a)
    assert failure.change_id == change.pk
    assert failure.reason == SwitchFailure.Reason.NAME_MISMATCH
    assert failure.payment_line_id == line.pk
    assert "报盘前检查暂缓发放" in failure.detail
    assert failure.employer_id == world.person_a.employer_id or failure.township_id is not None
    # person B was paid normally (no switch), so nothing goes back for them
    assert not SwitchFailure.objects.filter(person=world.person_b).exists()
    # the sweep running again changes nothing
    assert switch_failures_from_returns(actor=world.centre_clerk) == 0
    assert SwitchFailure.objects.count() == 1
