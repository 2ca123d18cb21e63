"""注销: the cancelled state reached from the card page by a centre clerk, audited, and idempotent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.cards import actions
from shebao.cards.models import CardApplication, CardMovement, CardState
from shebao.cards.selectors import card_location_now, waste_candidates
from shebao.cards.services import LossKind, card_cancel, card_report_loss, waste_handover
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from tests.cards.factories import make_application, make_card


def _cancel_audits(card) -> int:  # type: ignore[no-untyped-def]
    return AuditLog.objects.filter(
        object_type="cards.card", object_id=str(card.pk), action=actions.CARD_CANCEL
    ).count()


def test_it_withdraws_an_application_not_yet_produced(world) -> None:
    app = make_application(world.person_a, world.bank_a, world.centre_clerk)
    card = make_card(world.person_a, world.bank_a, CardState.APPLIED, application=app)

    outcome = card_cancel(card=card, reason="申领人撤回申领", actor=world.centre_clerk)

    assert outcome.changed and outcome.card.state == CardState.CANCELLED
    app.refresh_from_db()
    assert app.state == CardApplication.State.CANCELLED
    row = AuditLog.objects.get(action=actions.CARD_CANCEL, object_id=str(card.pk))
    assert row.old["state"] == CardState.APPLIED and row.new["state"] == CardState.CANCELLED
    assert row.reason == "申领人撤回申领"


def test_a_second_cancel_is_a_normal_answer_and_writes_nothing(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_cancel(card=card, reason="持卡人死亡", actor=world.centre_clerk)
    again = card_cancel(card=card, reason="持卡人死亡", actor=world.centre_clerk)
    assert not again.changed
    assert _cancel_audits(card) == 1


def test_a_formally_lost_card_may_be_cancelled_instead_of_replaced(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk)
    assert (
        card_cancel(card=card, reason="不再补卡", actor=world.centre_clerk).card.state == CardState.CANCELLED
    )


@pytest.mark.parametrize("state", [CardState.IN_STOCK, CardState.PRODUCED, CardState.TEMPORARILY_LOST])
def test_it_refuses_states_the_table_does_not_list(world, state) -> None:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, state, outlet=world.outlet_a)
    with pytest.raises(StateError, match="不能办理为“已注销”"):
        card_cancel(card=card, reason="试试", actor=world.centre_clerk)
    card.refresh_from_db()
    assert card.state == state and _cancel_audits(card) == 0


def test_it_needs_a_reason(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    with pytest.raises(ValidationError, match="注销原因"):
        card_cancel(card=card, reason="  ", actor=world.centre_clerk)


def test_it_refuses_a_card_outside_the_actors_scope(world) -> None:
    card = make_card(world.person_b, world.bank_b, CardState.ISSUED, outlet=world.outlet_a)
    with pytest.raises(PermissionDenied):
        card_cancel(card=card, reason="持卡人死亡", actor=world.unit_clerk)
    card.refresh_from_db()
    assert card.state == CardState.ISSUED


def test_a_card_handed_in_enters_the_outlets_custody_and_can_go_to_destruction(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)

    card_cancel(card=card, reason="换代后原卡注销", returned_at=world.outlet_a, actor=world.centre_clerk)

    where = card_location_now(card.pk)
    assert where is not None and where.outlet_id == world.outlet_a.pk
    assert card.movements.filter(kind=CardMovement.Kind.RETURNED).count() == 1
    assert card in waste_candidates(world.centre_clerk)
    destruction = waste_handover(
        card_ids=[card.pk], handed_over_by="张交付", received_by="李接收", actor=world.centre_clerk
    )
    assert destruction.card_count == 1


def test_a_lost_card_cannot_be_handed_in(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.FORMALLY_LOST, outlet=world.outlet_a)
    with pytest.raises(ValidationError, match="没有可交回的实体卡"):
        card_cancel(card=card, reason="不再补卡", returned_at=world.outlet_a, actor=world.centre_clerk)
    assert card.movements.filter(kind=CardMovement.Kind.RETURNED).count() == 0


def test_a_centre_clerk_cancels_from_the_card_page(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.centre_clerk)
    page = client.get(reverse("cards:detail", args=[card.pk])).content.decode()
    assert 'id="cancel-form"' in page and "交回：" in page

    response = client.post(
        reverse("cards:action", args=[card.pk]),
        {"action": "cancel", "reason": "持卡人死亡", "returned_at": str(world.outlet_a.pk)},
        follow=True,
    )

    assert "已注销该卡" in response.content.decode()
    card.refresh_from_db()
    assert card.state == CardState.CANCELLED
    assert card_location_now(card.pk) is not None


@pytest.mark.parametrize("persona", ["bank_clerk", "supervisor", "auditor", "cardholder", "unit_clerk"])
def test_other_roles_see_no_cancel_button_and_are_refused(client, world, persona) -> None:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(getattr(world, persona))
    assert 'id="cancel-form"' not in client.get(reverse("cards:detail", args=[card.pk])).content.decode()
    response = client.post(reverse("cards:action", args=[card.pk]), {"action": "cancel", "reason": "x"})
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.state == CardState.ISSUED
