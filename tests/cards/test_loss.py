from __future__ import annotations

import pytest

from shebao.audit.models import AuditLog
from shebao.cards import actions
from shebao.cards.models import CardApplication, CardState
from shebao.cards.services import LossKind, card_replace, card_report_loss, card_unlock
from shebao.core.errors import PermissionDenied, StateError
from tests.cards.factories import make_application, make_card


@pytest.fixture
def card(world):
    app = make_application(world.person_a, world.bank_a, world.centre_clerk, agent_name="", agent_ssn="")
    return make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, application=app)


def _audits(card, action: str) -> int:
    return AuditLog.objects.filter(object_type="cards.card", object_id=str(card.pk), action=action).count()


def test_it_reports_a_temporary_loss_once_and_answers_normally_the_second_time(world, card) -> None:
    first = card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.cardholder)
    again = card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.cardholder)
    assert first.changed and not again.changed
    assert again.card.state == CardState.TEMPORARILY_LOST
    assert _audits(card, actions.CARD_LOSS_TEMPORARY) == 1


def test_it_unlocks_a_temporary_loss_and_an_already_normal_card_is_a_normal_answer(world, card) -> None:
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)
    assert card_unlock(card=card, actor=world.centre_clerk).changed
    again = card_unlock(card=card, actor=world.centre_clerk)
    assert not again.changed and again.card.state == CardState.ISSUED
    assert _audits(card, actions.CARD_UNLOCK) == 1


def test_it_formal_loss_is_idempotent_and_cannot_be_unlocked(world, card) -> None:
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)
    assert card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk).changed
    assert not card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk).changed
    assert _audits(card, actions.CARD_LOSS_FORMAL) == 1
    with pytest.raises(StateError, match="正式挂失的卡不能解挂"):
        card_unlock(card=card, actor=world.centre_clerk)
    with pytest.raises(StateError, match="已正式挂失"):
        card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)


def test_it_refuses_a_loss_report_for_a_card_not_yet_issued(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    with pytest.raises(StateError, match="网点待领"):
        card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)


def test_it_refuses_a_cardholder_reporting_somebody_elses_card(world) -> None:
    other = make_card(world.person_b, world.bank_b, CardState.ISSUED, outlet=world.outlet_a)
    with pytest.raises(PermissionDenied):
        card_report_loss(card=other, kind=LossKind.TEMPORARY, actor=world.cardholder)
    other.refresh_from_db()
    assert other.state == CardState.ISSUED


def test_it_replacement_needs_a_formal_loss_first(world, card) -> None:
    with pytest.raises(StateError, match="补卡须先办理正式挂失"):
        card_replace(card=card, actor=world.centre_clerk)
    card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=world.centre_clerk)
    with pytest.raises(StateError, match="补卡须先办理正式挂失"):
        card_replace(card=card, actor=world.centre_clerk)


def test_it_replaces_a_formally_lost_card_with_a_new_application_linked_to_the_old(world, card) -> None:
    card_report_loss(card=card, kind=LossKind.FORMAL, actor=world.centre_clerk)
    new = card_replace(card=card, actor=world.centre_clerk, reason="本人遗失")
    card.refresh_from_db()
    assert card.state == CardState.REPLACED
    assert new.replaces == card and new.state == CardState.APPLIED and new.card_no is None
    assert new.application.reason == CardApplication.Reason.REPLACEMENT
    assert list(card.replaced_by.all()) == [new]
    with pytest.raises(StateError):
        card_replace(card=card, actor=world.centre_clerk)
