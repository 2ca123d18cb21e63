"""The card API answers where a card is and whether it works, within the caller's scope, masked."""

from __future__ import annotations

import pytest

from shebao.accounts.services import token_create
from shebao.cards.models import CardState
from tests.cards.factories import make_card


def _key(world, user) -> str:  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic():
        _t, key = token_create(actor=world.supervisor, user=user, name="测试")
    return key


def _get(client, url, key):  # type: ignore[no-untyped-def]
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def cards(world):  # type: ignore[no-untyped-def]
    a = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    b = make_card(world.person_b, world.bank_b, CardState.PRODUCED)
    return a, b


@pytest.mark.parametrize(
    ("persona", "names"),
    [
        ("centre_clerk", {"王小明", "李小红"}),
        ("auditor", {"王小明", "李小红"}),
        ("unit_clerk", {"王小明"}),
        ("township_clerk", {"王小明"}),
        ("bank_clerk", {"王小明"}),
        ("cardholder", {"王小明"}),
    ],
)
def test_it_lists_only_the_cards_in_scope(client, world, cards, persona, names):  # type: ignore[no-untyped-def]
    response = _get(client, "/api/v1/cards", _key(world, getattr(world, persona)))

    assert response.status_code == 200
    assert {c["person_name"] for c in response.json()["items"]} == names


def test_it_refuses_a_card_outside_the_scope_by_id(client, world, cards):  # type: ignore[no-untyped-def]
    _a, b = cards
    response = _get(client, f"/api/v1/cards/{b.pk}", _key(world, world.unit_clerk))

    assert response.status_code == 403
    assert "李小红" not in response.content.decode()


def test_it_masks_numbers_for_a_unit_but_not_for_the_holder(client, world, cards):  # type: ignore[no-untyped-def]
    a, _b = cards
    unit = _get(client, f"/api/v1/cards/{a.pk}", _key(world, world.unit_clerk)).json()
    own = _get(client, f"/api/v1/cards/{a.pk}", _key(world, world.cardholder)).json()

    assert unit["bank_account"] != a.bank_account and unit["bank_account"][-4:] == a.bank_account[-4:]
    assert unit["ssn"] != world.person_a.ssn
    assert own["bank_account"] == a.bank_account and own["ssn"] == world.person_a.ssn


def test_it_tells_state_location_and_the_ledger(client, world, cards):  # type: ignore[no-untyped-def]
    a, _b = cards
    body = _get(client, f"/api/v1/cards/{a.pk}", _key(world, world.centre_clerk)).json()

    assert body["state"] == "in_stock" and body["state_label"] == CardState.IN_STOCK.label
    assert body["location"] and world.outlet_a.name in body["location"]
    assert [m["kind"] for m in body["movements"]] == ["入库", "交出", "入库"]
    assert body["financial_activated"] is False and body["financial_activation"] is None


def test_it_searches_by_card_number_and_rejects_an_unknown_state(client, world, cards):  # type: ignore[no-untyped-def]
    a, _b = cards
    key = _key(world, world.centre_clerk)

    found = _get(client, f"/api/v1/cards?q={a.card_no}", key).json()["items"]
    bad = _get(client, "/api/v1/cards?state=nonsense", key)

    assert [c["id"] for c in found] == [a.pk]
    assert bad.status_code == 400 and "未知的卡状态" in bad.json()["detail"]
