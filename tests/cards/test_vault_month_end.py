"""月清月结: a month's count is compared with the ledger's stock at that month's end, not with today's."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from shebao.cards.models import Card, CardMovement, CardState
from shebao.cards.selectors import closing_summary
from shebao.cards.services import centre_location, outlet_location, vault_count_submit
from shebao.core.values.period import period_of
from tests.cards.factories import account_no
from tests.factories import PersonFactory


def _card(world, n: int) -> Card:  # type: ignore[no-untyped-def]
    person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    return Card.objects.create(
        person=person,
        bank=world.bank_a,
        generation=3,
        state=CardState.IN_STOCK,
        card_no=f"M{n:08d}",
        bank_account=account_no(900 + n),
    )


def _line(card: Card, location, kind: str, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    CardMovement.objects.create(card=card, location=location, kind=kind, custodian="周柜员", at=at)


def test_a_count_entered_after_the_month_compares_with_the_month_end_stock(world) -> None:
    outlet = outlet_location(world.outlet_a)
    centre = centre_location(world.region)
    first_of_this_month = timezone.localdate().replace(day=1)
    last_month_day = first_of_this_month - dt.timedelta(days=10)
    last_month = timezone.make_aware(dt.datetime.combine(last_month_day, dt.time(10)))
    this_month = timezone.make_aware(dt.datetime.combine(first_of_this_month, dt.time(9)))
    # in stock at last month's end, issued this month
    issued_since = _card(world, 1)
    for loc, kind in ((centre, "received"), (centre, "handed_over"), (outlet, "received")):
        _line(issued_since, loc, kind, last_month)
    _line(issued_since, outlet, "issued", this_month)
    # received only this month
    arrived_since = _card(world, 2)
    for loc, kind in ((centre, "received"), (centre, "handed_over")):
        _line(arrived_since, loc, kind, last_month)
    _line(arrived_since, outlet, "received", this_month)

    closing = vault_count_submit(
        location=outlet,
        period=period_of(last_month_day),
        card_nos=[issued_since.card_no],
        counted_by="周柜员",
        actor=world.bank_clerk,
    )

    assert closing_summary(closing) == {"ledger": 1, "counted": 1, "missing": 0, "extra": 0, "unexplained": 0}
