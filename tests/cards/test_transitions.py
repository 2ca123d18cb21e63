from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from shebao.cards.models import CARD_TRANSITIONS, Card, CardState
from shebao.cards.services import check_transition
from shebao.core.errors import StateError
from tests.cards.factories import make_card

ALLOWED = [(old, new) for old, targets in CARD_TRANSITIONS.items() for new in sorted(targets)]


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_it_allows_every_transition_in_the_table(old: str, new: str) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (CardState.APPLIED, CardState.ISSUED),
        (CardState.IN_PRODUCTION, CardState.SHIPPED),
        (CardState.PRODUCED, CardState.ISSUED),
        (CardState.SHIPPED, CardState.ISSUED),
        (CardState.IN_STOCK, CardState.FORMALLY_LOST),
        (CardState.ISSUED, CardState.REPLACED),
        (CardState.TEMPORARILY_LOST, CardState.REPLACED),
        (CardState.FORMALLY_LOST, CardState.ISSUED),
        (CardState.REPLACED, CardState.ISSUED),
        (CardState.DESTROYED, CardState.ISSUED),
        (CardState.CANCELLED, CardState.ISSUED),
    ],
)
def test_it_refuses_a_transition_outside_the_table_with_a_chinese_message(old: str, new: str) -> None:
    with pytest.raises(StateError) as exc:
        check_transition(old, new)
    assert "不能办理为" in exc.value.message
    assert CardState(old).label in exc.value.message


def test_it_covers_every_state_in_the_table() -> None:
    assert set(CARD_TRANSITIONS) == set(CardState.values)
    for targets in CARD_TRANSITIONS.values():
        assert targets <= set(CardState.values)


def test_it_replacement_is_reachable_only_through_a_formal_loss() -> None:
    sources = {old for old, targets in CARD_TRANSITIONS.items() if CardState.REPLACED in targets}
    assert sources == {CardState.FORMALLY_LOST}


def test_it_keeps_one_live_card_per_person_and_generation_in_the_database(world) -> None:
    make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Card.objects.create(person=world.person_a, bank=world.bank_a, generation=3)
    # another generation, or a dead card of the same generation, does not count
    Card.objects.create(person=world.person_a, bank=world.bank_a, generation=2)
    make_card(world.person_b, world.bank_b, CardState.REPLACED, outlet=world.outlet_a)
    Card.objects.create(person=world.person_b, bank=world.bank_b, generation=3)
