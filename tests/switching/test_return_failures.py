"""Item 9: the bank rejects a payment into a switched card account in its return file; the case goes back to
the unit by itself, with the person and the reason on the unit's page, and through the same flow again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.payments.models import BenefitType, PaymentLine
from shebao.payments.services import entitlement_create, return_file_import
from shebao.switching.automatic import switch_failures_from_returns
from shebao.switching.models import SwitchFailure
from shebao.switching.services import account_change_approve, account_change_prepare
from tests.payments.factories import return_bytes
from tests.switching.factories import NEW_ACCOUNT, beneficiary

pytestmark = pytest.mark.django_db
PERIOD = 202406


def _pension() -> BenefitType:
    if not BenefitType.objects.filter(code="PEN-EMP").exists():
        # A transactional test elsewhere flushed the rows the data migration seeded: seed them again.
        import importlib

        from django.apps import apps

        importlib.import_module("shebao.payments.migrations.0002_benefit_types").seed(apps, None)
    return BenefitType.objects.get(code="PEN-EMP")


def _filed_payroll(world: Any) -> Any:
    """王小明 switched to his card account from 202406; 刘大 (person B) stays on his passbook. Both are paid."""
    from shebao.payments.services import payroll_approve, payroll_file, payroll_generate

    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk,
        person=person,
        account_no=NEW_ACCOUNT,
        account_name=person.name,
        bank=world.bank_a,
        submitted_on=dt.date(2024, 5, 10),
    )
    change = account_change_approve(change_id=change.pk, actor=world.supervisor, today=dt.date(2024, 5, 20))
    assert change.valid_from == PERIOD
    pension = _pension()
    for p in (world.person_a, world.person_b):
        entitlement_create(
            person=p, benefit_type=pension, from_period=202301, amount="2000.00", actor=world.centre_clerk
        )
    payroll = payroll_generate(
        region=world.region, period=PERIOD, benefit_type=pension, actor=world.centre_clerk
    )
    payroll = payroll_approve(payroll=payroll, actor=world.supervisor)
    payroll_file(payroll=payroll, actor=world.centre_clerk)
    payroll.refresh_from_db()
    return payroll, change


def _reject(world: Any, payroll: Any, people: dict[Any, str]) -> None:
    """Import the bank's return files of the payroll, failing the lines of `people` (person -> reason)."""
    for bank_file in payroll.bank_files.all():
        failures = {
            line.seq: people[line.person]
            for line in PaymentLine.objects.filter(bank_file=bank_file).select_related("person")
            if line.person in people
        }
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures=failures),
            file_name=f"{bank_file.batch_no}.txt",
            actor=world.centre_clerk,
        )


def test_it_sends_a_payment_the_bank_rejected_back_to_the_unit_by_itself(
    world: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    payroll, change = _filed_payroll(world)
    with django_capture_on_commit_callbacks(execute=True):
        _reject(world, payroll, {world.person_a: "name_mismatch", world.person_b: "lost"})

    failure = SwitchFailure.objects.get()  # 刘大 was never switched: his failure stays with payments only
    line = PaymentLine.objects.get(payroll=payroll, person=world.person_a)
    assert (failure.change, failure.person, failure.employer, failure.period) == (
        change,
        world.person_a,
        world.unit_a,
        PERIOD,
    )
    assert (failure.reason, failure.state, failure.payment_line) == ("name_mismatch", "open", line)
    assert failure.detail == "银行回盘：户名不符"
    assert failure.reported_by == world.centre_clerk
    audit = AuditLog.objects.get(action="switching.failure_report")
    assert (audit.object_id, audit.new["payment_line"]) == (str(world.person_a.pk), line.pk)
    assert line.switch_failure == failure  # the way back from the payments failure to the case

    client.force_login(world.unit_clerk)
    page = client.get(reverse("switching:my_forms")).content.decode()
    assert "户名不符" in page and world.person_a.name in page and "银行回盘" in page
    client.force_login(world.centre_clerk)
    page = client.get(reverse("switching:failures")).content.decode()
    assert f"银行回盘（发放表#{payroll.pk}）" in page

    # the sweep and the button find nothing more; the trigger recorded it once
    assert switch_failures_from_returns(actor=world.centre_clerk) == 0
    client.post(reverse("switching:failures_collect"))
    call_command("switching_sweep", "--user", world.centre_clerk.username, "--region", world.region.code)
    assert SwitchFailure.objects.count() == 1
    assert AuditLog.objects.filter(action="switching.failure_report").count() == 1


def test_the_sweep_catches_up_a_return_imported_without_the_trigger(
    world: Any, client: Any, capsys: Any
) -> None:
    payroll, change = _filed_payroll(world)
    _reject(world, payroll, {world.person_a: "card_replacing"})  # on_commit never ran in this test
    assert not SwitchFailure.objects.exists()

    client.force_login(world.unit_clerk)
    assert client.post(reverse("switching:failures_collect")).status_code == 403
    call_command("switching_sweep", "--user", world.centre_clerk.username, "--region", world.region.code)
    assert "回盘失败退回单位（乡镇）：1人" in capsys.readouterr().out
    failure = SwitchFailure.objects.get()
    assert (failure.reason, failure.change) == ("replacing", change)


def test_it_sends_one_case_per_switch_and_none_for_an_account_already_replaced(world: Any) -> None:
    payroll, change = _filed_payroll(world)
    _reject(world, payroll, {world.person_a: "no_account"})
    # The unit had already sent a corrected account that the centre approved: the failure is history.
    newer = account_change_prepare(
        actor=world.centre_clerk,
        person=world.person_a,
        account_no="6217000000000000013",
        account_name=world.person_a.name,
        bank=world.bank_a,
    )
    assert switch_failures_from_returns(actor=world.centre_clerk) == 0
    from shebao.switching.services import account_change_reject

    account_change_reject(change_id=newer.pk, actor=world.supervisor, reason="账号有误")
    assert switch_failures_from_returns(actor=world.centre_clerk) == 1
    assert SwitchFailure.objects.get().reason == "account_closed"
    assert switch_failures_from_returns(actor=world.centre_clerk) == 0


def _taken_in_by_township(world: Any, change: Any) -> None:
    """The switch came from 甲镇's walk-in intake (王小明 has a unit, but the township took him in)."""
    from shebao.switching.models import TownshipIntake, TownshipSubmission

    submission = TownshipSubmission.objects.create(
        township=world.town_a,
        submitted_by=world.township_clerk,
        submitted_on=dt.date(2024, 5, 10),
        scan_file="s.pdf",
    )
    TownshipIntake.objects.create(
        township=world.town_a,
        person=world.person_a,
        card_no="A12345678",
        account_no=NEW_ACCOUNT,
        account_name=world.person_a.name,
        fin_activated=True,
        card_photo="c.jpg",
        id_photo="i.jpg",
        recorded_by=world.township_clerk,
        recorded_on=dt.date(2024, 5, 3),
        submission=submission,
        change=change,
    )


def test_a_failed_switch_from_township_intake_goes_back_to_the_township(world: Any, client: Any) -> None:
    payroll, change = _filed_payroll(world)
    _taken_in_by_township(world, change)
    _reject(world, payroll, {world.person_a: "name_mismatch"})
    assert switch_failures_from_returns(actor=world.centre_clerk) == 1
    failure = SwitchFailure.objects.get()
    assert (failure.employer, failure.township) == (None, world.town_a)
    client.force_login(world.township_clerk)
    assert "户名不符" in client.get(reverse("switching:my_forms")).content.decode()
    client.force_login(world.unit_clerk)
    assert "户名不符" not in client.get(reverse("switching:my_forms")).content.decode()


def test_a_failure_recorded_by_hand_for_a_township_intake_goes_to_the_township(world: Any) -> None:
    from shebao.switching.services import switch_failure_report

    _, change = _filed_payroll(world)
    _taken_in_by_township(world, change)
    failure = switch_failure_report(
        actor=world.centre_clerk, change_id=change.pk, period=PERIOD, reason="lost"
    )
    assert (failure.employer, failure.township) == (None, world.town_a)
