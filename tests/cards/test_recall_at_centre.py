"""The centre takes back an issued error card or a deceased holder's card from its pages."""

from __future__ import annotations

import pytest

from shebao.cards.models import CardLocation, CardMovement, CardRecall, CardState
from shebao.cards.selectors import card_balance_at, card_location_now
from shebao.cards.services import card_recall
from shebao.core.errors import ValidationError
from tests.cards.factories import make_card


def test_a_centre_clerk_recalls_an_issued_error_card_into_the_centre_vault(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.centre_clerk)
    page = client.get(f"/cards/{card.pk}/").content.decode()
    assert 'name="recall_outlet"' in page and "中心窗口收回" in page

    response = client.post(
        f"/cards/{card.pk}/action/", {"action": "recall", "kind": "error", "reason": "姓名错印"}, follow=True
    )

    assert "已回收该卡" in response.content.decode()
    recall = CardRecall.objects.get(card=card)
    assert recall.location.kind == CardLocation.Kind.CENTRE
    where = card_location_now(card.pk)
    assert where == recall.location and card_balance_at(card.pk, where.pk) == 1
    line = CardMovement.objects.get(card=card, kind=CardMovement.Kind.RECALLED)
    assert line.custodian == world.centre_clerk.display_name and line.location == where
    card.refresh_from_db()
    assert card.state == CardState.RECALLED


def test_a_centre_clerk_may_record_the_recall_at_an_outlet(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.centre_clerk)
    client.post(
        f"/cards/{card.pk}/action/",
        {"action": "recall", "kind": "error", "reason": "号码错印", "recall_outlet": world.outlet_a.pk},
    )
    assert CardRecall.objects.get(card=card).location.outlet == world.outlet_a


def test_a_family_hands_in_a_deceased_holders_card_at_the_centre(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    world.person_a.death_date = world.person_a.birth_date.replace(year=2024)
    world.person_a.save()
    client.force_login(world.centre_clerk)
    client.post(
        "/cards/destruction/",
        {
            "step": "recall",
            "card_no": card.card_no,
            "cause": "deceased",
            "death_certificate_no": "SW-2024-7",
            "handed_in_by": "王大明",
            "reason": "家属交回",
        },
    )
    recall = CardRecall.objects.get(card=card)
    assert (recall.cause, recall.death_certificate_no) == ("deceased", "SW-2024-7")
    line = CardMovement.objects.get(card=card, kind=CardMovement.Kind.RECALLED)
    assert "王大明" in line.counterparty and line.location.kind == CardLocation.Kind.CENTRE
    # the centre can then hand it to the provincial centre for destruction
    page = client.get("/cards/destruction/").content.decode()
    assert card.card_no in page


def test_a_bank_clerk_without_an_outlet_must_still_name_one(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    world.bank_clerk.outlet = None
    world.bank_clerk.save()
    with pytest.raises(ValidationError, match="请选择收回该卡的网点"):
        card_recall(card=card, kind="error", reason="错印", actor=world.bank_clerk)
    assert not CardMovement.objects.filter(card=card, kind=CardMovement.Kind.RECALLED).exists()
