from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shebao.cards.models import CardIssue, CardState, TempCard
from shebao.cards.selectors import temp_reconcile_date, temp_reconciliation_report
from shebao.cards.services import (
    Receiver,
    card_issue,
    temp_card_reconcile,
    temp_card_register,
    temp_card_settle,
)
from shebao.core.errors import StateError, ValidationError
from tests.cards.factories import make_card
from tests.factories import PersonFactory


@pytest.fixture
def temp(world):
    return temp_card_register(
        person=world.person_a, temp_no="LS0001", issued_on=dt.date(2024, 1, 5), actor=world.centre_clerk
    )


def issue(world, card):  # type: ignore[no-untyped-def]
    return card_issue(
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
        actor=world.bank_clerk,
    )


def test_it_refuses_the_formal_card_until_the_temporary_card_is_recovered(world, temp) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    with pytest.raises(StateError, match="未回收的临时卡（LS0001）"):
        issue(world, card)
    temp_card_settle(temp_card=temp, outcome="recovered", outlet=world.outlet_a, actor=world.bank_clerk)
    assert issue(world, card).card.state == CardState.ISSUED
    temp.refresh_from_db()
    assert temp.state == TempCard.State.RECOVERED and temp.fee is None


def test_it_charges_the_configured_fee_against_a_numbered_receipt_for_a_lost_card(
    world, temp, settings
) -> None:
    with pytest.raises(ValidationError, match="收据编号"):
        temp_card_settle(temp_card=temp, outcome="lost", outlet=world.outlet_a, actor=world.bank_clerk)
    settings.SHEBAO_TEMP_CARD_FEE = "25"
    settled = temp_card_settle(
        temp_card=temp, outcome="lost", receipt_no="sj-001", outlet=world.outlet_a, actor=world.bank_clerk
    )
    assert (
        settled.fee == Decimal("25.00")
        and isinstance(settled.fee, Decimal)
        and settled.receipt_no == "SJ-001"
    )
    with pytest.raises(StateError, match="已处理过"):
        temp_card_settle(temp_card=temp, outcome="recovered", outlet=world.outlet_a, actor=world.bank_clerk)


def test_it_refuses_a_receipt_number_used_twice(world, temp) -> None:
    temp_card_settle(
        temp_card=temp, outcome="damaged", receipt_no="SJ-9", outlet=world.outlet_a, actor=world.bank_clerk
    )
    other = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    make_card(other, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)  # the bank sees its own holders
    temp2 = temp_card_register(
        person=other, temp_no="LS0002", issued_on=dt.date(2024, 1, 5), actor=world.centre_clerk
    )
    with pytest.raises(ValidationError, match="已使用过"):
        temp_card_settle(
            temp_card=temp2, outcome="lost", receipt_no="SJ-9", outlet=world.outlet_a, actor=world.bank_clerk
        )


def test_it_reconciles_on_the_fifteenth_or_the_next_working_day(db) -> None:
    assert temp_reconcile_date(202405) == dt.date(2024, 5, 15)  # a Wednesday
    assert temp_reconcile_date(202406) == dt.date(2024, 6, 17)  # Saturday the 15th → Monday
    assert temp_reconcile_date(202409) == dt.date(2024, 9, 18)  # Sunday, then the Mid-Autumn holiday


def test_it_reconciles_an_outlets_cards_and_fees_once(world, temp) -> None:
    other = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    make_card(other, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)  # the bank sees its own holders
    temp2 = temp_card_register(
        person=other, temp_no="LS0002", issued_on=dt.date(2024, 1, 5), actor=world.centre_clerk
    )
    temp_card_settle(temp_card=temp, outcome="recovered", outlet=world.outlet_a, actor=world.bank_clerk)
    temp_card_settle(
        temp_card=temp2, outcome="lost", receipt_no="SJ-1", outlet=world.outlet_a, actor=world.bank_clerk
    )
    TempCard.objects.update(settled_at=timezone.make_aware(dt.datetime(2024, 6, 10, 10)))
    with pytest.raises(ValidationError, match="2024-06-17"):
        temp_card_reconcile(
            outlet=world.outlet_a,
            period=202406,
            checked_by="孙会计",
            actor=world.centre_clerk,
            today=dt.date(2024, 6, 15),
        )
    rec = temp_card_reconcile(
        outlet=world.outlet_a,
        period=202406,
        checked_by="孙会计",
        actor=world.centre_clerk,
        today=dt.date(2024, 6, 17),
    )
    report = temp_reconciliation_report(rec)
    assert (report["recovered"], report["charged"], report["fees"]) == (1, 1, Decimal("20.00"))
    with pytest.raises(StateError, match="已核对过"):
        temp_card_reconcile(
            outlet=world.outlet_a,
            period=202406,
            checked_by="孙会计",
            actor=world.centre_clerk,
            today=dt.date(2024, 6, 17),
        )


def test_it_settles_and_reports_from_the_pages(client, world, temp) -> None:
    client.force_login(world.bank_clerk)
    page = client.get(f"/cards/temp/?q={world.person_a.ssn}").content.decode()
    assert "LS0001" in page
    client.post(
        "/cards/temp/", {"step": "settle", "temp_card": temp.pk, "outcome": "damaged", "receipt_no": "SJ-7"}
    )
    temp.refresh_from_db()
    assert temp.state == "damaged" and temp.fee == Decimal("20.00")
    client.force_login(world.centre_clerk)
    body = client.get("/cards/temp/").content.decode()
    assert "20.00" in body and world.outlet_a.name in body


def test_it_registers_a_temporary_card_for_an_outlet_from_the_page(client, world) -> None:
    client.force_login(world.centre_clerk)
    r = client.post(
        "/cards/temp/",
        {
            "step": "register",
            "ssn": world.person_a.ssn,
            "temp_no": "ls0009",
            "issued_on": "2024-03-01",
            "outlet": world.outlet_a.pk,
        },
    )
    assert r.status_code == 302 and world.person_a.ssn not in r["Location"]
    temp = TempCard.objects.get()
    assert (temp.temp_no, temp.outlet, temp.state) == ("LS0009", world.outlet_a, "outstanding")
    assert "LS0009" in client.get(r["Location"]).content.decode()
