"""Only the card's co-brand bank activates the financial function; at a comprehensive window the window
enables the social function and the bank activates the financial one, recorded separately."""

from __future__ import annotations

import pytest

from shebao.accounts.roles import Role
from shebao.cards.models import CardState, FinancialChannel, SocialChannel
from shebao.cards.services import card_activate_financial, card_issue
from shebao.core.errors import PermissionDenied
from shebao.orgs.models import Outlet
from tests.cards.factories import make_application, make_card
from tests.cards.test_issue import holder
from tests.factories import OutletFactory, UserFactory


@pytest.fixture
def window(world):
    return OutletFactory(region=world.region, kind=Outlet.Kind.SERVICE_WINDOW, bank=None, name="综合服务窗口")


@pytest.fixture
def card(world, window):
    app = make_application(world.person_a, world.bank_a, world.centre_clerk)
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=window, application=app)


def test_a_centre_clerk_at_a_window_cannot_activate_the_financial_function(world, window, card) -> None:
    with pytest.raises(PermissionDenied, match="联名银行"):
        card_issue(
            card=card,
            outlet=window,
            mode="personal",
            receiver=holder(world),
            activate_social=True,
            activate_financial=True,
            actor=world.centre_clerk,
        )
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK and card.ss_activated_at is None


def test_the_window_enables_social_and_the_bank_financial_separately(world, window, card) -> None:
    card_issue(
        card=card,
        outlet=window,
        mode="personal",
        receiver=holder(world),
        activate_social=True,
        actor=world.centre_clerk,
    )
    card_activate_financial(
        card=card, channel=FinancialChannel.COUNTER, place="综合服务窗口银行柜台", actor=world.bank_clerk
    )
    card.refresh_from_db()
    assert (card.ss_activated_channel, card.ss_activated_by) == (SocialChannel.WINDOW, world.centre_clerk)
    assert (card.fin_activated_channel, card.fin_activated_by) == (FinancialChannel.COUNTER, world.bank_clerk)


def test_another_bank_or_a_township_or_unit_cannot_activate_the_financial_function(world, card) -> None:
    card.state = CardState.ISSUED
    card.save()
    other = UserFactory(username="bank_b", role=Role.BANK_CLERK, region=None, bank=world.bank_b, outlet=None)
    for actor in (other, world.township_clerk, world.unit_clerk):
        with pytest.raises(PermissionDenied):
            card_activate_financial(card=card, channel=FinancialChannel.COUNTER, place="柜面", actor=actor)
    card.refresh_from_db()
    assert card.fin_activated_at is None


def test_the_card_page_offers_financial_activation_to_the_bank_only(client, world, card) -> None:
    card.state = CardState.ISSUED
    card.save()
    client.force_login(world.centre_clerk)
    assert 'value="activate_financial"' not in client.get(f"/cards/{card.pk}/").content.decode()
    response = client.post(
        f"/cards/{card.pk}/action/", {"action": "activate_financial", "channel": "counter", "place": "窗口"}
    )
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.fin_activated_at is None


def test_the_issue_page_hides_the_financial_box_from_who_may_not_tick_it(client, world, window, card) -> None:
    client.force_login(world.centre_clerk)
    page = client.get(f"/cards/{card.pk}/issue/").content.decode()
    assert 'name="activate_financial"' not in page and 'id="financial-by-bank"' in page
    # a forged tick changes nothing: the form has no such field, the card is issued without it
    client.post(
        f"/cards/{card.pk}/issue/",
        {
            "mode": "personal",
            "receiver_name": world.person_a.name,
            "receiver_ssn": world.person_a.ssn,
            "phone": "13800000000",
            "address": "甲镇1号",
            "activate_social": "on",
            "activate_financial": "on",
            "form_signed": "on",
        },
    )
    card.refresh_from_db()
    assert card.state == CardState.ISSUED and card.fin_activated_at is None


def test_the_cards_bank_sees_the_box(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    client.force_login(world.bank_clerk)
    assert 'name="activate_financial"' in client.get(f"/cards/{card.pk}/issue/").content.decode()
