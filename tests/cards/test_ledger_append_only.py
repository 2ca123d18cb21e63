"""The card ledger is append-only in the database too, not only in the model."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from shebao.cards.models import CardMovement, CardState
from tests.cards.factories import make_card

pytestmark = pytest.mark.django_db


def test_the_database_refuses_to_change_a_ledger_line(world):
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    line = CardMovement.objects.filter(card=card).first()
    assert line is not None

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CardMovement.objects.filter(pk=line.pk).update(custodian="改过的人")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE cards_cardmovement SET kind = 'destroyed' WHERE id = %s", [line.pk])

    line.refresh_from_db()
    assert line.custodian == "测试保管员"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE for the test flush")
def test_postgresql_refuses_to_delete_a_ledger_line(world):
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM cards_cardmovement WHERE card_id = %s", [card.pk])

    assert CardMovement.objects.filter(card=card).exists()
