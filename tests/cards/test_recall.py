from __future__ import annotations

import pytest

from shebao.cards.models import CardMovement, CardRecall, CardState, DeliveryMode
from shebao.cards.selectors import card_location_now
from shebao.cards.services import card_apply, card_recall, outlet_location
from shebao.core.errors import StateError, ValidationError
from tests.cards.factories import make_card


def test_it_takes_an_error_card_back_over_the_counter_and_a_new_card_can_be_applied_for(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    recall = card_recall(
        card=card, kind="error", reason="卡面姓名错字", outlet=world.outlet_a, actor=world.bank_clerk
    )
    card.refresh_from_db()
    assert card.state == CardState.RECALLED and recall.kind == CardRecall.Kind.ERROR
    assert card_location_now(card.pk) == outlet_location(world.outlet_a)
    assert CardMovement.objects.filter(card=card, kind=CardMovement.Kind.RECALLED).count() == 1
    new = card_apply(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )
    assert new.state == CardState.APPLIED


def test_it_recalls_a_card_still_in_stock_where_it_lies(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    card_recall(card=card, kind="waste", reason="持卡人已死亡", actor=world.bank_clerk)
    assert card_location_now(card.pk) == outlet_location(world.outlet_a)
    assert not CardMovement.objects.filter(card=card, kind=CardMovement.Kind.RECALLED).exists()


def test_it_refuses_a_recall_outside_the_table_or_without_a_reason(world) -> None:
    lost = make_card(world.person_a, world.bank_a, CardState.TEMPORARILY_LOST, outlet=world.outlet_a)
    with pytest.raises(StateError, match="临时挂失"):
        card_recall(card=lost, kind="error", reason="错", outlet=world.outlet_a, actor=world.bank_clerk)
    with pytest.raises(ValidationError, match="回收原因"):
        card_recall(card=lost, kind="error", reason=" ", outlet=world.outlet_a, actor=world.bank_clerk)


def test_it_recalls_from_the_card_page_and_lists_it_on_the_error_list(client, world) -> None:
    from django.urls import reverse

    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.bank_clerk)
    client.post(
        reverse("cards:action", args=[card.pk]),
        {"action": "recall", "kind": "error", "reason": "出生日期错误"},
    )
    card.refresh_from_db()
    assert card.state == CardState.RECALLED
    printed = client.get(reverse("cards:error_list_print")).content.decode()
    assert "信息有误人员清单" in printed and "出生日期错误" in printed and card.card_no in printed
    client.force_login(world.unit_clerk)
    assert client.get(reverse("cards:error_list_print")).status_code == 403
