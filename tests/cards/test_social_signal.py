"""`social_function_enabled`: sent once per card, inside the activation's transaction, whatever the channel.

Other apps (generation-replacement campaigns) listen to it; the cards app never imports them.
"""

from __future__ import annotations

from typing import Any

import pytest

from shebao.cards.models import Card, CardIssue, CardState, SocialChannel
from shebao.cards.services import Receiver, card_activate_social, card_issue
from shebao.cards.signals import social_function_enabled
from tests.cards.factories import make_card


@pytest.fixture
def heard() -> Any:
    calls: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    social_function_enabled.connect(listener, dispatch_uid="test.heard")
    yield calls
    social_function_enabled.disconnect(dispatch_uid="test.heard")


def test_it_is_sent_once_when_the_function_is_enabled(world, heard) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    for _ in range(2):
        card_activate_social(
            card=card, channel=SocialChannel.TOWNSHIP_STATION, place="甲镇人社站", actor=world.township_clerk
        )

    assert len(heard) == 1
    assert heard[0]["card"].pk == card.pk and heard[0]["channel"] == SocialChannel.TOWNSHIP_STATION
    assert heard[0]["actor"] == world.township_clerk and heard[0]["at"] is not None


def test_it_is_sent_by_a_counter_issue_that_enables_the_function(world, heard) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    card_issue(
        card=card,
        outlet=world.outlet_a,
        mode=CardIssue.Mode.PERSONAL,
        receiver=Receiver(
            name=world.person_a.name,
            ssn=world.person_a.ssn,
            phone="13800000000",
            address="甲镇1号",
            form_signed=True,
        ),
        activate_social=True,
        actor=world.bank_clerk,
    )
    assert [c["card"].pk for c in heard] == [card.pk]


def test_a_failing_listener_fails_the_activation(world) -> None:
    """Listeners write in the activation's transaction: a new card is never enabled without them."""

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    social_function_enabled.connect(broken, dispatch_uid="test.broken")
    try:
        with pytest.raises(RuntimeError):
            card_activate_social(
                card=card, channel=SocialChannel.WINDOW, place="窗口", actor=world.centre_clerk
            )
    finally:
        social_function_enabled.disconnect(dispatch_uid="test.broken")
    assert Card.objects.get(pk=card.pk).ss_activated_at is None
