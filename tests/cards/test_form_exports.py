"""附件2, 附件3 and 附件4 as xlsx beside their A4 printouts, scoped and masked like the pages."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from shebao.cards.models import CardState
from shebao.cards.services import (
    Receiver,
    card_issue_collective,
    card_notice_record,
    card_recall,
    shipment_create,
)
from shebao.core.values.ssn import make_ssn
from tests.cards.factories import make_card
from tests.factories import OutletFactory, PersonFactory, UserFactory


def _rows(response) -> list[list]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


@pytest.fixture
def shipment(world):  # type: ignore[no-untyped-def]
    cards = [make_card(world.person_a, world.bank_a, CardState.PRODUCED)]
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    cards.append(make_card(colleague, world.bank_a, CardState.PRODUCED))
    return shipment_create(
        card_ids=[c.pk for c in cards],
        outlet=world.outlet_a,
        boxes="B007",
        handed_over_by="孙库管",
        received_by="周柜员",
        actor=world.centre_clerk,
    ), cards


def test_form_two_exports_every_card_of_the_shipment(client, world, shipment) -> None:
    ship, cards = shipment
    client.force_login(world.centre_clerk)
    url = reverse("cards:shipment_print", args=[ship.pk])
    assert "?format=xlsx" in client.get(url).content.decode()

    rows = _rows(client.get(url + "?format=xlsx"))

    assert rows[0][:5] == ["序号", "登记编号", "领卡网点", "箱号", "社会保障卡卡号"]
    assert {r[4] for r in rows[1:]} == {c.card_no for c in cards}
    assert {r[2] for r in rows[1:]} == {world.outlet_a.name} and {r[10] for r in rows[1:]} == {"孙库管"}
    assert world.person_a.ssn in {r[6] for r in rows[1:]}  # the centre sees full ID numbers


def test_form_two_masks_ids_for_the_bank_and_is_refused_to_another_bank(client, world, shipment) -> None:
    ship, _ = shipment
    client.force_login(world.bank_clerk)
    rows = _rows(client.get(reverse("cards:shipment_print", args=[ship.pk]) + "?format=xlsx"))
    assert world.person_a.ssn not in {r[6] for r in rows[1:]}
    assert all("*" in r[6] for r in rows[1:])

    other = OutletFactory(region=world.region, bank=world.bank_b)
    client.force_login(UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=other))
    response = client.get(reverse("cards:shipment_print", args=[ship.pk]) + "?format=xlsx")
    assert response.status_code == 403


def test_form_three_lists_the_units_cards_for_the_outlet_and_the_unit(client, world) -> None:
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    cards = [
        make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        make_card(colleague, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
    ]
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="fax", actor=world.bank_clerk
    )
    handover = card_issue_collective(
        card_ids=[c.pk for c in cards],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字9号",
        clerks=(
            Receiver(name="孙会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
            Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
        ),
        actor=world.bank_clerk,
    )
    url = reverse("cards:handover_print", args=[handover.pk]) + "?format=xlsx"
    for user in (world.bank_clerk, world.unit_clerk, world.centre_clerk):
        client.force_login(user)
        rows = _rows(client.get(url))
        assert rows[0][5:8] == ["姓名", "社会保障号码", "社会保障卡卡号"]
        assert {r[7] for r in rows[1:]} == {c.card_no for c in cards}
        assert {r[2] for r in rows[1:]} == {"甲单位"} and {r[4] for r in rows[1:]} == {"介字9号"}

    client.force_login(UserFactory(role="unit_clerk", region=None, employer=world.unit_b))
    assert client.get(url).status_code == 403


def test_form_four_lists_the_error_cards_recalled_at_the_users_locations(client, world) -> None:
    wrong = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_recall(
        card=wrong, kind="error", reason="卡面姓名错字", outlet=world.outlet_a, actor=world.bank_clerk
    )
    other_outlet = OutletFactory(region=world.region, bank=world.bank_b, name="乙银行网点")
    elsewhere = make_card(world.person_b, world.bank_b, CardState.ISSUED, outlet=other_outlet)
    clerk_b = UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=other_outlet)
    card_recall(card=elsewhere, kind="error", reason="出生日期有误", outlet=other_outlet, actor=clerk_b)
    url = reverse("cards:error_list_print") + "?format=xlsx"

    client.force_login(world.bank_clerk)
    assert "?format=xlsx" in client.get(reverse("cards:error_list_print")).content.decode()
    rows = _rows(client.get(url))
    assert rows[0] == [
        "序号",
        "姓名",
        "社会保障号码",
        "社会保障卡卡号",
        "合作银行",
        "错误信息",
        "回收网点",
        "回收日期",
    ]
    assert [r[3] for r in rows[1:]] == [wrong.card_no] and rows[1][5] == "卡面姓名错字"

    client.force_login(world.centre_clerk)
    assert {r[3] for r in _rows(client.get(url))[1:]} == {wrong.card_no, elsewhere.card_no}
