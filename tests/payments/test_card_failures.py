"""佛山's actions for a lost or replaced card in the failure queue: pay the old account, or wait for the new card."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError
from shebao.core.values.period import period_of, prev_period
from shebao.payments import actions
from shebao.payments.failures import line_await_card
from shebao.payments.models import CardWait, PaymentLine
from shebao.payments.services import line_resolve, repayment_generate, return_file_import
from tests.factories import AccountFactory
from tests.payments.factories import filed, return_bytes

NOW = period_of(timezone.localdate())


def _fail_this_month(pay, world, card_months_ago: int):  # type: ignore[no-untyped-def]
    """B switched to a card `card_months_ago` months ago; this month's line to the card fails with 挂失,
    A's with 户名不符."""
    AccountFactory(
        person=world.person_b,
        bank=world.bank_b,
        account_no="6230000000000000029",
        kind="card",
        valid_from=prev_period(NOW, card_months_ago),
    )
    payroll = filed(pay, NOW)
    for bank_file in payroll.bank_files.all():
        reason = "name_mismatch" if bank_file.bank == world.bank_a else "lost"
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures={1: reason}),
            file_name=f"{bank_file.batch_no}.txt",
            actor=world.centre_clerk,
        )
    lines = {line.person: line for line in PaymentLine.objects.filter(payroll=payroll)}
    return lines[world.person_a], lines[world.person_b]


def test_a_lost_card_is_paid_again_into_the_old_account_within_six_months(pay, world):
    _, line_b = _fail_this_month(pay, world, card_months_ago=2)
    assert line_b.account_no == "6230000000000000029"
    old = world.person_b.accounts.exclude(account_no="6230000000000000029").get()

    resolution = line_resolve(
        line=line_b, kind="old_account", note="本人同意先发原存折", actor=world.centre_clerk
    )

    assert (resolution.bank_id, resolution.account_no) == (old.bank_id, old.account_no)
    repay = repayment_generate(
        region=world.region, benefit_type=pay.pension, period=NOW, actor=world.centre_clerk
    ).lines.get()
    assert (repay.original, repay.account_no, repay.amount) == (line_b, old.account_no, line_b.amount)


def test_the_old_account_is_refused_after_its_six_months(pay, world):
    _, line_b = _fail_this_month(pay, world, card_months_ago=6)

    with pytest.raises(StateError, match="6个月"):
        line_resolve(line=line_b, kind="old_account", actor=world.centre_clerk)
    assert not hasattr(PaymentLine.objects.get(pk=line_b.pk), "resolution")


def test_the_old_account_is_only_for_a_card_failure(pay, world):
    line_a, _ = _fail_this_month(pay, world, card_months_ago=2)

    with pytest.raises(StateError, match="挂失"):
        line_resolve(line=line_a, kind="old_account", actor=world.centre_clerk)


def test_a_line_waiting_for_the_new_card_stays_in_the_queue_marked(client, pay, world):
    line_a, line_b = _fail_this_month(pay, world, card_months_ago=2)

    with pytest.raises(PermissionDenied):
        line_await_card(line=line_b, note="下周领新卡", actor=world.auditor)
    with pytest.raises(StateError):
        line_await_card(line=line_a, actor=world.centre_clerk)  # 户名不符 is not a card problem
    line_await_card(line=line_b, note="下周领新卡", actor=world.centre_clerk)
    with pytest.raises(StateError, match="已登记"):
        line_await_card(line=line_b, actor=world.centre_clerk)

    assert CardWait.objects.get(line=line_b).note == "下周领新卡"
    assert AuditLog.objects.filter(action=actions.LINE_AWAIT_CARD, object_id=str(line_b.pk)).count() == 1
    client.force_login(world.centre_clerk)
    page = client.get(reverse("payments:failures") + "?status=open").content.decode()
    assert "等待新卡" in page and world.person_b.name in page
    # The new card arrives: the line is resolved as usual and leaves the open queue.
    AccountFactory(person=world.person_b, bank=world.bank_b, account_no="6230000000000000037", valid_from=NOW)
    line_resolve(line=line_b, kind="new_account", actor=world.centre_clerk)
    page = client.get(reverse("payments:failures") + "?status=open").content.decode()
    assert world.person_b.name not in page


def test_waiting_for_the_new_card_through_the_resolve_page(client, pay, world):
    _, line_b = _fail_this_month(pay, world, card_months_ago=2)
    client.force_login(world.centre_clerk)

    response = client.post(
        reverse("payments:line_await_card", args=[line_b.pk]), {"note": "换卡中"}, follow=True
    )

    assert "已登记等待新卡" in response.content.decode()
    page = client.get(reverse("payments:line_resolve", args=[line_b.pk])).content.decode()
    assert 'id="card-wait"' in page and "await-card-form" not in page
