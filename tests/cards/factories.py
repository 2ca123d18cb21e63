"""Cards in any state, with the ledger lines that state implies (faster than walking every service)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from shebao.cards.models import Card, CardApplication, CardLocation, CardMovement, CardState, DeliveryMode
from shebao.cards.services import centre_location, outlet_location
from shebao.core.values.bank import luhn_check_digit, make_card_uid

_seq = itertools.count(1)

AT_CENTRE = {CardState.PRODUCED}
AT_OUTLET = {CardState.IN_STOCK}
PRODUCED_STATES = {
    CardState.PRODUCED,
    CardState.SHIPPED,
    CardState.IN_STOCK,
    CardState.ISSUED,
    CardState.TEMPORARILY_LOST,
    CardState.FORMALLY_LOST,
    CardState.REPLACED,
    CardState.CANCELLED,
    CardState.RECALLED,
    CardState.DESTROYED,
}


def account_no(n: int) -> str:
    head = f"621700{n:012d}"
    return head + luhn_check_digit(head)


def make_card(
    person: Any,
    bank: Any,
    state: str = CardState.IN_STOCK,
    *,
    outlet: Any = None,
    generation: int = 3,
    application: CardApplication | None = None,
    actor: Any = None,
    moved_at: dt.datetime | None = None,
) -> Card:
    """A card in `state`; produced cards sit in the centre vault, in-stock ones at `outlet`. Its ledger
    lines are dated `moved_at` (now by default): the ledger cannot be changed afterwards."""
    n = next(_seq)
    produced = state in PRODUCED_STATES
    card = Card.objects.create(
        person=person,
        bank=bank,
        generation=generation,
        state=state,
        application=application,
        card_no=f"T{n:08d}" if produced else None,
        card_uid=make_card_uid("341521", n) if produced else "",
        bank_account=account_no(n) if produced else "",
        issue_date=dt.date(2024, 5, 16) if produced else None,
        expiry_date=dt.date(2034, 5, 16) if produced else None,
    )
    now = moved_at or timezone.now()
    if produced:
        centre = centre_location(person.region)
        _move(card, centre, CardMovement.Kind.RECEIVED, now)
        if state != CardState.PRODUCED:
            _move(card, centre, CardMovement.Kind.HANDED_OVER, now)
            if state != CardState.SHIPPED:
                assert outlet is not None, "a card past 配送 needs an outlet"
                loc = outlet_location(outlet)
                _move(card, loc, CardMovement.Kind.RECEIVED, now)
                if state != CardState.IN_STOCK:
                    _move(card, loc, CardMovement.Kind.ISSUED, now)
    return card


def _move(card: Card, location: CardLocation, kind: str, at: dt.datetime) -> None:
    CardMovement.objects.create(card=card, location=location, kind=kind, custodian="测试保管员", at=at)


def make_application(person: Any, bank: Any, actor: Any, **kw: Any) -> CardApplication:
    kw.setdefault("delivery", DeliveryMode.UNIT_COLLECTIVE)
    return CardApplication.objects.create(person=person, bank=bank, created_by=actor, **kw)


def photograph_waiting() -> None:
    """Give every application still without a photo one (by name only), so its card can go to production."""
    CardApplication.objects.filter(photo="").update(photo="cards/photos/taken-at-window.jpg")
