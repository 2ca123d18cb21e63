"""The card-state pre-flight rule: lines whose card cannot take money never reach the bank."""

from __future__ import annotations

from django.utils import timezone

from shebao.cards.models import Card, CardState
from shebao.cards.services import LossKind, card_report_loss
from shebao.payments.models import PaymentLine
from shebao.people.models import PaymentAccount
from tests.cards.factories import make_card
from tests.factories import AccountFactory
from tests.payments.factories import generate


def _line(payroll, person):  # type: ignore[no-untyped-def]
    return PaymentLine.objects.get(payroll=payroll, person=person)


def _card_account(world, state=CardState.ISSUED, *, activated=True, valid_from=202405):  # type: ignore[no-untyped-def]
    """From `valid_from` A is paid into the account of a bank-A card in `state`."""
    card = make_card(world.person_a, world.bank_a, state, outlet=world.outlet_a, generation=2)
    if activated:
        Card.objects.filter(pk=card.pk).update(fin_activated_at=timezone.now())
    AccountFactory(
        person=world.person_a,
        bank=world.bank_a,
        account_no=card.bank_account,
        kind=PaymentAccount.Kind.CARD,
        valid_from=valid_from,
    )
    return card


def test_it_pays_into_the_old_account_when_the_new_card_was_reported_lost(pay, world):
    card = _card_account(world)
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)

    line = _line(generate(pay, 202406), world.person_a)

    old_account = world.person_a.accounts.order_by("valid_from").first()
    assert (line.state, line.account_no) == ("pending", old_account.account_no)
    assert "按原账户发放" in line.route_note


def test_after_six_months_a_lost_card_line_is_held_with_a_chinese_reason(pay, world):
    card = _card_account(world)
    card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk)

    line = _line(generate(pay, 202412), world.person_a)

    assert (line.state, line.hold_code, line.account_no) == ("held", "preflight:card_lost", card.bank_account)
    assert "正式挂失" in line.hold_reason and card.card_no in line.hold_reason


def test_a_cancelled_card_is_held_for_a_clerk_never_rerouted(pay, world):
    _card_account(world, CardState.CANCELLED)

    line = _line(generate(pay, 202406), world.person_a)

    assert (line.state, line.hold_code) == ("held", "preflight:card_cancelled")
    assert "注销" in line.hold_reason


def test_a_recalled_card_is_held(pay, world):
    _card_account(world, CardState.RECALLED)

    line = _line(generate(pay, 202406), world.person_a)

    assert (line.state, line.hold_code) == ("held", "preflight:card_recalled")


def test_a_card_being_replaced_falls_back_to_the_old_account(pay, world):
    _card_account(world, CardState.REPLACED)

    line = _line(generate(pay, 202406), world.person_a)

    assert line.state == "pending" and line.route_note


def test_a_card_without_financial_activation_is_caught(pay, world):
    _card_account(world, activated=False)

    line = _line(generate(pay, 202412), world.person_a)

    assert (line.state, line.hold_code) == ("held", "preflight:card_not_activated")
    assert "金融功能未激活" in line.hold_reason


def test_an_issued_and_activated_card_is_paid(pay, world):
    card = _card_account(world)

    line = _line(generate(pay, 202406), world.person_a)

    assert (line.state, line.account_no, line.route_note) == ("pending", card.bank_account, "")


def test_a_lost_card_does_not_hold_a_passbook_line(pay, world):
    card = make_card(world.person_b, world.bank_b, CardState.ISSUED, outlet=world.outlet_a)
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)

    line = _line(generate(pay, 202406), world.person_b)

    assert (line.state, line.hold_code) == ("pending", "")


def test_a_card_account_not_matching_any_card_uses_the_newest_card(pay, world):
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk)
    AccountFactory(
        person=world.person_a,
        bank=world.bank_a,
        account_no="6217000000000099999",
        kind=PaymentAccount.Kind.CARD,
        valid_from=202301,
    )

    line = _line(generate(pay, 202406), world.person_a)

    assert (line.state, line.hold_code) == ("held", "preflight:card_lost")


def test_unlocking_the_card_releases_the_line_at_the_next_preflight(pay, world):
    from shebao.cards.services import card_unlock
    from shebao.payments.services import payroll_preflight

    card = _card_account(world)
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)
    payroll = generate(pay, 202412)
    assert _line(payroll, world.person_a).state == "held"

    card_unlock(card=card, actor=world.centre_clerk)
    payroll_preflight(payroll=payroll, actor=world.centre_clerk)

    assert (_line(payroll, world.person_a).state, _line(payroll, world.person_a).hold_code) == ("pending", "")
