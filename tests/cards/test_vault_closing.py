from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.cards.models import CardState, VaultClosing, VaultDifference
from shebao.cards.selectors import closing_summary
from shebao.cards.services import outlet_location, vault_close, vault_count_submit, vault_difference_explain
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import period_of
from tests.cards.factories import make_card
from tests.factories import OutletFactory, PersonFactory

# the cards of the fixtures enter the ledger today: their stock is this month's
THIS = period_of(timezone.localdate())


@pytest.fixture
def vault(world):
    people = [
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a) for _ in range(3)
    ]
    cards = [make_card(p, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a) for p in people]
    return outlet_location(world.outlet_a), cards


def test_it_closes_a_month_whose_count_matches_the_ledger(world, vault) -> None:
    location, cards = vault
    closing = vault_count_submit(
        location=location,
        period=THIS,
        card_nos=[c.card_no for c in cards],
        counted_by="周柜员",
        actor=world.bank_clerk,
    )
    assert closing_summary(closing) == {"ledger": 3, "counted": 3, "missing": 0, "extra": 0, "unexplained": 0}
    assert vault_close(closing=closing, actor=world.bank_clerk).state == VaultClosing.State.CLOSED


def test_it_every_difference_must_be_explained_before_closing(world, vault) -> None:
    location, cards = vault
    stranger = make_card(
        world.person_b, world.bank_b, CardState.ISSUED, outlet=OutletFactory(region=world.region)
    )
    closing = vault_count_submit(
        location=location,
        period=THIS,
        card_nos=[cards[0].card_no, cards[1].card_no.lower(), stranger.card_no],
        counted_by="周柜员",
        actor=world.bank_clerk,
    )
    diffs = {d.card_no: d for d in closing.differences.all()}
    assert {no: d.kind for no, d in diffs.items()} == {cards[2].card_no: "missing", stranger.card_no: "extra"}
    assert closing_summary(closing)["ledger"] == 3
    with pytest.raises(StateError, match="还有2处盘点差异未说明原因"):
        vault_close(closing=closing, actor=world.bank_clerk)
    vault_difference_explain(
        difference=diffs[cards[2].card_no], explanation="已发放未登记，补录", actor=world.bank_clerk
    )
    with pytest.raises(StateError, match="还有1处"):
        vault_close(closing=closing, actor=world.bank_clerk)
    with pytest.raises(ValidationError):
        vault_difference_explain(difference=diffs[stranger.card_no], explanation="  ", actor=world.bank_clerk)
    vault_difference_explain(
        difference=diffs[stranger.card_no], explanation="他行卡误放，已退回", actor=world.bank_clerk
    )
    vault_close(closing=closing, actor=world.bank_clerk)
    with pytest.raises(StateError, match="已结账"):
        vault_difference_explain(difference=diffs[stranger.card_no], explanation="改", actor=world.bank_clerk)


def test_it_a_month_is_counted_once_and_never_in_the_future(world, vault) -> None:
    location, cards = vault
    vault_count_submit(location=location, period=202405, card_nos=[], counted_by="周", actor=world.bank_clerk)
    with pytest.raises(StateError, match="已盘点"):
        vault_count_submit(
            location=location, period=202405, card_nos=[], counted_by="周", actor=world.bank_clerk
        )
    with pytest.raises(ValidationError, match="未来"):
        vault_count_submit(
            location=location, period=220001, card_nos=[], counted_by="周", actor=world.bank_clerk
        )
    with pytest.raises(ValidationError, match="卡号格式有误"):
        vault_count_submit(
            location=location, period=202404, card_nos=["12"], counted_by="周", actor=world.bank_clerk
        )


def test_it_a_bank_clerk_cannot_count_another_outlet(world) -> None:
    other = outlet_location(OutletFactory(region=world.region, bank=world.bank_b))
    with pytest.raises(PermissionDenied):
        vault_count_submit(
            location=other, period=202405, card_nos=[], counted_by="周", actor=world.bank_clerk
        )


def test_it_the_closing_pages_walk_from_count_to_closed(client, world, vault) -> None:
    location, cards = vault
    client.force_login(world.bank_clerk)
    resp = client.post(
        reverse("cards:closings"),
        {
            "location": location.pk,
            "period": str(THIS),
            "counted_by": "周柜员",
            "card_nos": "\n".join(c.card_no for c in cards[:2]),
        },
    )
    closing = VaultClosing.objects.get()
    assert resp.status_code == 302
    page = client.get(resp.url).content.decode()
    assert "帐有卡无" in page and cards[2].card_no in page
    client.post(resp.url, {"action": "close"})
    closing.refresh_from_db()
    assert closing.state == VaultClosing.State.COUNTED
    diff = VaultDifference.objects.get()
    client.post(resp.url, {"difference": diff.pk, "explanation": "已发放未登记"})
    client.post(resp.url, {"action": "close"})
    closing.refresh_from_db()
    assert closing.state == VaultClosing.State.CLOSED
    assert client.get(reverse("cards:closings")).status_code == 200
    # the centre sees the report; another bank's outlet does not
    client.force_login(world.centre_clerk)
    assert client.get(resp.url).status_code == 200
