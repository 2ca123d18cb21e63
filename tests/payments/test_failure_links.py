"""A failed payment into an account a switch made shows its switching failure case on the failures page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from shebao.payments.models import BenefitType, PaymentLine
from shebao.payments.services import (
    entitlement_create,
    payroll_approve,
    payroll_file,
    payroll_generate,
    return_file_import,
)
from shebao.switching.models import SwitchFailure
from shebao.switching.services import account_change_approve, account_change_prepare
from tests.factories import PASSWORD
from tests.payments.factories import return_bytes
from tests.switching.factories import NEW_ACCOUNT, beneficiary

pytestmark = pytest.mark.django_db
PERIOD = 202406


def _failed_after_switch(world: Any, django_capture_on_commit_callbacks: Any) -> SwitchFailure:
    """王小明 switched to his card account from 202406 and the bank rejects June; 刘大 (never switched)
    is rejected too."""
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk,
        person=person,
        account_no=NEW_ACCOUNT,
        account_name=person.name,
        bank=world.bank_a,
        submitted_on=dt.date(2024, 5, 10),
    )
    account_change_approve(change_id=change.pk, actor=world.supervisor, today=dt.date(2024, 5, 20))
    pension = BenefitType.objects.get(code="PEN-EMP")
    for p in (world.person_a, world.person_b):
        entitlement_create(
            person=p, benefit_type=pension, from_period=202301, amount="2000.00", actor=world.centre_clerk
        )
    payroll = payroll_generate(
        region=world.region, period=PERIOD, benefit_type=pension, actor=world.centre_clerk
    )
    payroll = payroll_approve(payroll=payroll, actor=world.supervisor)
    payroll_file(payroll=payroll, actor=world.centre_clerk)
    for bank_file in payroll.bank_files.all():
        failures = {
            seq: "lost"
            for seq in PaymentLine.objects.filter(bank_file=bank_file).values_list("seq", flat=True)
        }
        with django_capture_on_commit_callbacks(execute=True):
            return_file_import(
                payroll=payroll,
                data=return_bytes(bank_file, failures=failures),
                file_name=f"{bank_file.batch_no}.txt",
                actor=world.centre_clerk,
            )
    return SwitchFailure.objects.get()


def test_it_links_a_failed_line_to_its_switching_failure_case(
    client: Any, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    failure = _failed_after_switch(world, django_capture_on_commit_callbacks)
    assert failure.payment_line is not None and failure.person == world.person_a

    client.login(username=world.centre_clerk.username, password=PASSWORD)
    page = client.get(reverse("payments:failures")).content.decode()

    link = f'<a class="badge badge-default" href="{reverse("switching:failures")}"'
    assert page.count(link) == 1  # 王小明's line only: 刘大 was never switched
    assert f"换卡失败反馈：{failure.get_state_display()}" in page
