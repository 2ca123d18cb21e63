"""Two clerks issuing the same card at once: exactly one succeeds."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from shebao.cards.models import Card, CardIssue, CardMovement, CardState
from shebao.cards.services import Receiver, card_issue
from shebao.core.errors import StateError
from tests.cards.factories import make_card
from tests.factories import UserFactory


def _holder(world) -> Receiver:  # type: ignore[no-untyped-def]
    return Receiver(
        name=world.person_a.name,
        ssn=world.person_a.ssn,
        phone="13800000000",
        address="甲镇1号",
        form_signed=True,
    )


def test_it_the_second_clerk_with_the_same_card_on_screen_gets_a_state_error(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    second_clerk = UserFactory(role="bank_clerk", region=None, bank=world.bank_a, outlet=world.outlet_a)
    on_screen_a, on_screen_b = Card.objects.get(pk=card.pk), Card.objects.get(pk=card.pk)
    card_issue(
        card=on_screen_a,
        outlet=world.outlet_a,
        mode="personal",
        receiver=_holder(world),
        actor=world.bank_clerk,
    )
    with pytest.raises(StateError):
        card_issue(
            card=on_screen_b,
            outlet=world.outlet_a,
            mode="personal",
            receiver=_holder(world),
            actor=second_clerk,
        )
    assert CardIssue.objects.filter(card=card).count() == 1
    assert CardMovement.objects.filter(card=card, kind=CardMovement.Kind.ISSUED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_two_clerks_at_the_same_moment_exactly_one_succeeds(world) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real row locks need PostgreSQL; the in-memory SQLite test database is shared-cache")
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    second_clerk = UserFactory(role="bank_clerk", region=None, bank=world.bank_a, outlet=world.outlet_a)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def issue(actor) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            card_issue(
                card=card, outlet=world.outlet_a, mode="personal", receiver=_holder(world), actor=actor
            )
            results.append("ok")
        except StateError:
            results.append("state_error")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=issue, args=(u,)) for u in (world.bank_clerk, second_clerk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "state_error"]
    assert CardIssue.objects.filter(card=card).count() == 1
