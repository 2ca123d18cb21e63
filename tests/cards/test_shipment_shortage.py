"""A shipment with cards missing: the outlet signs in what it found, lists the rest, signs them in later."""

from __future__ import annotations

import pytest

from shebao.audit.models import AuditLog
from shebao.cards.models import CardState, Shipment
from shebao.cards.selectors import card_location_now, shipment_missing_cards, stock_cards
from shebao.cards.services import outlet_location, shipment_create, shipment_receive, shipment_receive_late
from shebao.core.errors import StateError, ValidationError
from tests.cards.factories import make_card
from tests.factories import PersonFactory


@pytest.fixture
def vault_cards(world):  # type: ignore[no-untyped-def]
    people = [
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a) for _ in range(3)
    ]
    return [make_card(p, world.bank_a, CardState.PRODUCED) for p in people]


@pytest.fixture
def shipment(world, vault_cards):
    return shipment_create(
        card_ids=[c.pk for c in vault_cards],
        outlet=world.outlet_a,
        boxes="B007",
        handed_over_by="孙库管",
        received_by="周柜员",
        actor=world.centre_clerk,
    )


def test_it_signs_in_the_cards_found_and_keeps_the_missing_one_in_transit(
    world, vault_cards, shipment
) -> None:
    lost = vault_cards[2]
    shipment_receive(
        shipment=shipment,
        custodian="周柜员",
        missing_card_nos=[lost.card_no.lower()],
        shortage_note="B007箱少一张",
        actor=world.bank_clerk,
    )
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.SHORT and shipment.shortage_note == "B007箱少一张"
    assert list(shipment_missing_cards(shipment)) == [lost]
    lost.refresh_from_db()
    assert lost.state == CardState.SHIPPED and card_location_now(lost.pk) is None
    assert stock_cards(outlet_location(world.outlet_a)).count() == 2
    assert AuditLog.objects.filter(action="card.receive_short", object_id=str(shipment.pk)).exists()

    # the card turns up in another box
    shipment_receive_late(
        shipment=shipment, card_nos=[lost.card_no], custodian="周柜员", actor=world.bank_clerk
    )
    shipment.refresh_from_db()
    lost.refresh_from_db()
    assert shipment.state == Shipment.State.RECEIVED and lost.state == CardState.IN_STOCK
    assert stock_cards(outlet_location(world.outlet_a)).count() == 3
    with pytest.raises(StateError, match="没有待查的短缺卡"):
        shipment_receive_late(
            shipment=shipment, card_nos=[lost.card_no], custodian="周柜员", actor=world.bank_clerk
        )


def test_it_wants_a_note_and_numbers_of_this_shipment(world, vault_cards, shipment) -> None:
    with pytest.raises(ValidationError, match="短缺说明"):
        shipment_receive(
            shipment=shipment,
            custodian="周",
            missing_card_nos=[vault_cards[0].card_no],
            actor=world.bank_clerk,
        )
    with pytest.raises(ValidationError, match="不在本批配送中"):
        shipment_receive(
            shipment=shipment,
            custodian="周",
            missing_card_nos=["T99999999"],
            shortage_note="少",
            actor=world.bank_clerk,
        )
    with pytest.raises(ValidationError, match="全部短缺"):
        shipment_receive(
            shipment=shipment,
            custodian="周",
            missing_card_nos=[" ".join(c.card_no for c in vault_cards)],
            shortage_note="整箱未到",
            actor=world.bank_clerk,
        )
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.IN_TRANSIT
    assert not stock_cards(outlet_location(world.outlet_a)).exists()


def test_the_outlet_records_a_shortage_from_the_shipments_page(client, world, vault_cards, shipment) -> None:
    client.force_login(world.bank_clerk)
    response = client.post(
        "/cards/shipments/",
        {
            "step": "receive",
            "shipment": shipment.pk,
            "custodian": "周柜员",
            "missing_card_nos": vault_cards[1].card_no,
            "shortage_note": "清点少一张",
        },
        follow=True,
    )
    assert "已签收入库2张社保卡，登记短缺1张" in response.content.decode()
    page = response.content.decode()
    assert "有短缺待查" in page and "短缺卡补收入库" in page
    client.post(
        "/cards/shipments/",
        {
            "step": "receive_late",
            "shipment": shipment.pk,
            "custodian": "周柜员",
            "card_nos": vault_cards[1].card_no,
        },
    )
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.RECEIVED


def test_a_whole_shipment_is_still_signed_in_at_once(world, vault_cards, shipment) -> None:
    shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)
    shipment.refresh_from_db()
    assert (
        shipment.state == Shipment.State.RECEIVED
        and stock_cards(outlet_location(world.outlet_a)).count() == 3
    )
    with pytest.raises(StateError, match="无需重复签收"):
        shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)


def test_a_missing_card_never_found_is_declared_lost_by_a_supervisor_and_made_again(
    world, vault_cards, shipment, client
) -> None:
    from django.urls import reverse

    from shebao.cards.models import CardApplication
    from shebao.cards.services import shipment_cards_declare_lost
    from shebao.core.errors import PermissionDenied

    lost = vault_cards[2]
    shipment_receive(
        shipment=shipment,
        custodian="周柜员",
        missing_card_nos=[lost.card_no],
        shortage_note="B007箱少一张",
        actor=world.bank_clerk,
    )
    # The outlet clerk who recorded the shortage, or a centre clerk, cannot decide it is lost.
    for who in (world.bank_clerk, world.centre_clerk):
        with pytest.raises(PermissionDenied):
            shipment_cards_declare_lost(shipment=shipment, card_nos=[lost.card_no], reason="查无", actor=who)
    with pytest.raises(ValidationError, match="核查经过"):
        shipment_cards_declare_lost(
            shipment=shipment, card_nos=[lost.card_no], reason=" ", actor=world.supervisor
        )
    with pytest.raises(ValidationError, match="不是本批的短缺卡"):
        shipment_cards_declare_lost(
            shipment=shipment, card_nos=[vault_cards[0].card_no], reason="查无", actor=world.supervisor
        )

    client.force_login(world.supervisor)
    page = client.get(reverse("cards:shipments")).content.decode()
    assert "认定遗失，注销并重新制卡" in page
    response = client.post(
        reverse("cards:shipments"),
        {
            "step": "declare_lost",
            "shipment": shipment.pk,
            "card_nos": lost.card_no,
            "reason": "与物流、网点核对均未找到",
        },
    )
    assert response.status_code == 302
    assert "已认定遗失并注销1张社保卡" in client.get(response.url).content.decode()

    lost.refresh_from_db()
    shipment.refresh_from_db()
    assert lost.state == CardState.CANCELLED and shipment.state == Shipment.State.RECEIVED
    new = lost.person.cards.exclude(pk=lost.pk).get()
    assert new.state == CardState.APPLIED and new.bank_id == lost.bank_id
    assert new.application.reason == CardApplication.Reason.LOST_IN_TRANSIT
    assert AuditLog.objects.filter(action="card.lost_in_transit", object_id=str(shipment.pk)).exists()
    assert stock_cards(outlet_location(world.outlet_a)).count() == 2  # the ledger never held the lost one
