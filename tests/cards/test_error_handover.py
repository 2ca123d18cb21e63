"""Item 6: the outlet hands its recalled error cards to the centre with the 信息有误人员清单 (附件4)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from shebao.audit.models import AuditLog
from shebao.cards.models import CardMovement, CardState
from shebao.cards.selectors import card_location_now, error_recalls
from shebao.cards.services import card_recall, centre_location, error_cards_handover
from shebao.core.errors import PermissionDenied, ValidationError
from tests.cards.factories import make_card
from tests.factories import OutletFactory, UserFactory


@pytest.fixture
def wrong(world):  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_recall(card=card, kind="error", reason="卡面姓名错字", outlet=world.outlet_a, actor=world.bank_clerk)
    return card


def test_the_error_cards_move_from_the_outlet_to_the_centre_vault(world, wrong) -> None:
    batch = error_cards_handover(
        outlet=world.outlet_a, handed_over_by="周柜员", received_by="孙库管", actor=world.bank_clerk
    )
    assert card_location_now(wrong.pk) == centre_location(world.region)
    moves = CardMovement.objects.filter(card=wrong, batch_ref=batch)
    assert set(moves.values_list("kind", "custodian")) == {("handed_over", "周柜员"), ("received", "孙库管")}
    wrong.refresh_from_db()
    assert wrong.state == CardState.RECALLED
    assert (
        AuditLog.objects.filter(action="card.error_handover", object_id=str(wrong.pk), reason=batch).count()
        == 1
    )
    assert [r.card_id for r in error_recalls(world.bank_clerk, batch=batch)] == [wrong.pk]
    assert not error_recalls(world.bank_clerk, awaiting=True).exists()
    with pytest.raises(ValidationError, match="没有待移交"):
        error_cards_handover(
            outlet=world.outlet_a, handed_over_by="周", received_by="孙", actor=world.bank_clerk
        )


def test_it_needs_both_names_and_the_outlet_in_scope(world, wrong) -> None:
    with pytest.raises(ValidationError, match="双方"):
        error_cards_handover(
            outlet=world.outlet_a, handed_over_by="周柜员", received_by=" ", actor=world.bank_clerk
        )
    other = OutletFactory(region=world.region, bank=world.bank_b)
    clerk_b = UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=other)
    with pytest.raises(PermissionDenied):
        error_cards_handover(outlet=world.outlet_a, handed_over_by="周", received_by="孙", actor=clerk_b)
    assert card_location_now(wrong.pk).outlet_id == world.outlet_a.pk  # type: ignore[union-attr]


def test_the_outlet_hands_over_from_the_list_and_prints_the_batch(client, world, wrong) -> None:
    client.force_login(world.bank_clerk)
    page = client.get(reverse("cards:error_list_print")).content.decode()
    assert 'id="error-handover-form"' in page and wrong.card_no in page and "待移交人社部门" in page

    response = client.post(
        reverse("cards:error_list_print"), {"handed_over_by": "周柜员", "received_by": "孙库管"}, follow=True
    )
    printed = response.content.decode()
    assert "移交批次：附件4-" in printed and wrong.card_no in printed and "孙库管" in printed
    assert 'id="error-handover-form"' not in printed
    batch_url = response.redirect_chain[-1][0]
    rows = (
        CalamineWorkbook.from_filelike(
            io.BytesIO(b"".join(client.get(batch_url + "&format=xlsx").streaming_content))
        )
        .get_sheet_by_index(0)
        .to_python()
    )
    assert [r[3] for r in rows[1:]] == [wrong.card_no]
    assert wrong.card_no not in client.get(reverse("cards:error_list_print")).content.decode()
    assert card_location_now(wrong.pk) == centre_location(world.region)


def test_a_centre_clerk_picks_the_outlet(client, world, wrong) -> None:
    client.force_login(world.centre_clerk)
    client.post(
        reverse("cards:error_list_print"),
        {"outlet": world.outlet_a.pk, "handed_over_by": "周柜员", "received_by": "孙库管"},
    )
    assert card_location_now(wrong.pk) == centre_location(world.region)
