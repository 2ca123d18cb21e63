"""A financially activated card's account is offered to the payment-account history."""

from __future__ import annotations

import pytest

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.campaigns.links import (
    card_account_offer_accept,
    card_account_offer_reject,
    card_account_offers_pending,
)
from shebao.cards.models import CardAccountOffer, CardState, FinancialChannel
from shebao.cards.services import card_activate_financial
from shebao.core.errors import PermissionDenied, StateError
from shebao.payments.models import PaymentLine
from shebao.people.models import PaymentAccount
from tests.cards.factories import make_card
from tests.factories import UserFactory
from tests.payments.factories import generate


@pytest.fixture
def offer(world):  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_activate_financial(
        card=card, channel=FinancialChannel.COUNTER, place="甲银行营业部", actor=world.bank_clerk
    )
    return CardAccountOffer.objects.get(card=card)


def test_the_bank_activation_offers_the_card_account(offer, world):
    assert list(card_account_offers_pending(world.centre_clerk)) == [offer]
    assert list(card_account_offers_pending(world.township_clerk)) == [offer]  # 甲镇 is A's township
    other_unit = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    assert not card_account_offers_pending(other_unit).exists()


def test_accepting_makes_the_card_account_pay_from_the_chosen_period(pay, offer, world):
    account = card_account_offer_accept(offer=offer, valid_from=202407, actor=world.centre_clerk)

    assert (account.kind, account.source, account.valid_from) == (
        PaymentAccount.Kind.CARD,
        PaymentAccount.Source.CARD_ACTIVATION,
        202407,
    )
    offer.refresh_from_db()
    assert offer.state == CardAccountOffer.State.APPLIED
    assert AuditLog.objects.filter(action="campaign.card_account_offer_accept").count() == 1
    line = PaymentLine.objects.get(payroll=generate(pay, 202407), person=world.person_a)
    assert (line.state, line.account_no, line.bank) == ("pending", offer.account_no, world.bank_a)


def test_an_offer_is_decided_once(offer, world):
    card_account_offer_accept(offer=offer, valid_from=202407, actor=world.centre_clerk)

    with pytest.raises(StateError):
        card_account_offer_reject(offer=offer, reason="本人要求继续使用存折", actor=world.centre_clerk)


def test_rejecting_keeps_the_history_unchanged(offer, world):
    before = PaymentAccount.objects.count()

    card_account_offer_reject(offer=offer, reason="本人要求继续使用存折", actor=world.centre_clerk)

    assert PaymentAccount.objects.count() == before
    assert AuditLog.objects.get(action="campaign.card_account_offer_reject").reason == "本人要求继续使用存折"


def test_a_bank_clerk_cannot_change_payment_accounts(offer, world):
    with pytest.raises(PermissionDenied):
        card_account_offer_accept(offer=offer, valid_from=202407, actor=world.bank_clerk)
