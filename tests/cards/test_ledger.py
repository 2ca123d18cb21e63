from __future__ import annotations

import pytest
from django.db import transaction

from shebao.cards.models import Card, CardMovement, CardState
from shebao.cards.selectors import stock_by_location, stock_cards
from shebao.cards.services import _post, centre_location, outlet_location, shipment_create, shipment_receive
from shebao.core.errors import StateError, ValidationError
from tests.cards.factories import make_card


def _stock(user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {s["location"].name: s["in_stock"] for s in stock_by_location(user)}


@pytest.fixture
def vault_cards(world):
    from tests.factories import PersonFactory

    people = [
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a) for _ in range(3)
    ]
    return [make_card(p, world.bank_a, CardState.PRODUCED) for p in people]


def test_it_ships_cards_to_an_outlet_and_the_outlet_signs_them_into_stock(world, vault_cards) -> None:
    shipment = shipment_create(
        card_ids=[c.pk for c in vault_cards[:2]],
        outlet=world.outlet_a,
        boxes="B001",
        handed_over_by="孙库管",
        received_by="周柜员",
        actor=world.centre_clerk,
    )
    assert _stock(world.centre_clerk) == {"寿县社保卡中心库房": 1, world.outlet_a.name: 0}
    assert set(
        Card.objects.filter(pk__in=[c.pk for c in vault_cards[:2]]).values_list("state", flat=True)
    ) == {CardState.SHIPPED}
    shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)
    assert _stock(world.centre_clerk) == {"寿县社保卡中心库房": 1, world.outlet_a.name: 2}
    assert _stock(world.bank_clerk) == {world.outlet_a.name: 2}
    assert set(stock_cards(outlet_location(world.outlet_a))) == set(vault_cards[:2])
    with pytest.raises(StateError, match="无需重复签收"):
        shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)


def test_it_refuses_to_ship_a_card_not_in_the_vault_or_of_another_bank(world, vault_cards) -> None:
    issued = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    kw = {"outlet": world.outlet_a, "handed_over_by": "孙", "received_by": "周", "actor": world.centre_clerk}
    with pytest.raises(StateError, match="不在中心库房"):
        shipment_create(card_ids=[vault_cards[0].pk, issued.pk], **kw)
    other_bank = make_card(world.person_b, world.bank_b, CardState.PRODUCED)
    with pytest.raises(ValidationError, match="不能配送到"):
        shipment_create(card_ids=[other_bank.pk], **kw)
    assert not CardMovement.objects.filter(kind=CardMovement.Kind.HANDED_OVER, card__in=vault_cards).exists()


def test_it_stock_never_goes_negative(world, vault_cards) -> None:
    card = vault_cards[0]
    centre, outlet = centre_location(world.region), outlet_location(world.outlet_a)
    with transaction.atomic(), pytest.raises(StateError, match="不在“.*”的库存中"):
        _post(card, outlet, CardMovement.Kind.ISSUED, custodian="周", actor=world.bank_clerk)
    with transaction.atomic():
        _post(card, centre, CardMovement.Kind.HANDED_OVER, custodian="孙", actor=world.centre_clerk)
    with transaction.atomic(), pytest.raises(StateError):
        _post(card, centre, CardMovement.Kind.HANDED_OVER, custodian="孙", actor=world.centre_clerk)
    assert _stock(world.centre_clerk)["寿县社保卡中心库房"] == 2


def test_it_a_card_is_in_one_place_at_most(world, vault_cards) -> None:
    with transaction.atomic(), pytest.raises(StateError, match="不能重复入库"):
        _post(
            vault_cards[0],
            outlet_location(world.outlet_a),
            CardMovement.Kind.RECEIVED,
            custodian="周",
            actor=None,
        )


def test_it_keeps_the_ledger_append_only(world, vault_cards) -> None:
    line = CardMovement.objects.filter(card=vault_cards[0]).first()
    line.custodian = "改过"
    with pytest.raises(RuntimeError):
        line.save()
    with pytest.raises(RuntimeError):
        line.delete()
