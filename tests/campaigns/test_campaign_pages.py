"""A centre clerk organises a replacement campaign through the pages; a supervisor confirms transfers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.campaigns.models import Campaign, CampaignMember, CampaignPhase, MedicalTransfer
from shebao.cards.models import Card, CardAccountOffer, CardState
from shebao.people.models import PaymentAccount
from tests.cards.factories import make_card


@pytest.fixture
def old_cards(world):  # type: ignore[no-untyped-def]
    return [
        make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
        for p in (world.person_a, world.person_b)
    ]


def test_it_walks_a_campaign_from_creation_to_a_confirmed_balance_transfer(client, world, old_cards):
    client.force_login(world.centre_clerk)
    page = client.post(
        reverse("campaigns:list"),
        {
            "name": "文登区二代社保卡集中换发",
            "bank": world.bank_a.pk,
            "old_generation": 1,
            "new_generation": 2,
            "transition_end": "2018-12-31",
        },
    )
    campaign = Campaign.objects.get()
    assert page.status_code == 302 and page.url == reverse("campaigns:detail", args=[campaign.pk])

    page = client.post(
        reverse("campaigns:detail", args=[campaign.pk]),
        {
            "action": "phase",
            "month": "2018-05",
            "group": "unit_proxy",
            "outlet": world.outlet_a.pk,
            "units": f"{world.unit_a.name}\n",
        },
    )
    assert page.status_code == 302
    phase = CampaignPhase.objects.get()
    assert list(phase.units.all()) == [world.unit_a]

    page = client.post(
        reverse("campaigns:phase", args=[phase.pk]), {"action": "assign", "ssns": ""}, follow=True
    )
    assert "已分配 1 人" in page.content.decode()
    member = CampaignMember.objects.get()

    new = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    Card.objects.filter(pk=new.pk).update(ss_activated_at=timezone.now())
    page = client.post(
        reverse("campaigns:phase", args=[phase.pk]),
        {"action": "transfer", "member": member.pk, "amount": "1,234.50"},
        follow=True,
    )
    assert "待复核" in page.content.decode()

    client.force_login(world.supervisor)
    page = client.get(reverse("campaigns:transfers"))
    assert "1234.50" in page.content.decode()
    transfer = MedicalTransfer.objects.get()
    page = client.post(
        reverse("campaigns:transfer_decide", args=[transfer.pk]), {"decision": "approve"}, follow=True
    )
    assert "原卡医保功能停用" in page.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == "done"

    page = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    html = page.content.decode()
    assert "2018年5月 单位代领" in html


def test_an_unknown_unit_is_reported_on_the_form(client, world):
    client.force_login(world.centre_clerk)
    client.post(
        reverse("campaigns:list"),
        {"name": "换卡", "old_generation": 1, "new_generation": 2, "transition_end": "2018-12-31"},
    )
    campaign = Campaign.objects.get()

    page = client.post(
        reverse("campaigns:detail", args=[campaign.pk]),
        {"action": "phase", "month": "2018-05", "group": "unit_proxy", "units": "高岛制盐有限公司"},
    )

    assert page.status_code == 200
    assert "高岛制盐有限公司" in page.content.decode() and "不存在" in page.content.decode()


def test_other_roles_do_not_reach_campaigns(client, world):
    for user in (world.unit_clerk, world.bank_clerk, world.township_clerk):
        client.force_login(user)
        assert client.get(reverse("campaigns:list")).status_code == 403


def test_a_clerk_takes_an_activated_card_account_for_payments(client, world):
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    offer = CardAccountOffer.objects.create(
        person=world.person_a,
        card=card,
        bank=world.bank_a,
        account_no=card.bank_account,
        offered_at=timezone.now(),
    )
    client.force_login(world.centre_clerk)
    assert card.bank_account in client.get(reverse("campaigns:offers")).content.decode()

    page = client.post(
        reverse("campaigns:offers"),
        {"offer": offer.pk, "decision": "accept", "valid_from": "2024-07"},
        follow=True,
    )

    assert "已登记为发放账户" in page.content.decode()
    account = PaymentAccount.objects.get(account_no=card.bank_account)
    assert (account.valid_from, account.kind) == (202407, "card")


def test_it_lists_the_old_cards_the_transition_end_could_not_cancel_with_a_link_to_each(
    client, world, old_cards
):
    from shebao.campaigns.services import campaign_close, campaign_create, members_assign, phase_create

    campaign = campaign_create(
        name="二代社保卡集中换发", transition_end=dt.date(2018, 12, 31), actor=world.centre_clerk
    )
    phase = phase_create(
        campaign=campaign, month=201806, group="custodial", outlet=world.outlet_a, actor=world.centre_clerk
    )
    members_assign(phase=phase, ssns=[world.person_a.ssn, world.person_b.ssn], actor=world.centre_clerk)
    lost, held = old_cards
    Card.objects.filter(pk=lost.pk).update(state=CardState.TEMPORARILY_LOST)
    client.force_login(world.centre_clerk)
    assert (
        'id="left-old-cards"'
        not in client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    )

    campaign_close(campaign=campaign, actor=world.centre_clerk)
    response = client.post(
        reverse("campaigns:detail", args=[campaign.pk]), {"action": "cancel_old"}, follow=True
    )

    page = response.content.decode()
    assert "已注销 1 张原卡" in page and "另有 1 张原卡处于临时挂失等状态" in page
    assert 'id="left-old-cards"' in page and "临时挂失" in page
    assert reverse("cards:detail", args=[lost.pk]) in page
    assert reverse("cards:detail", args=[held.pk]) not in page
