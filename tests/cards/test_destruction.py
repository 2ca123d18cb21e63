from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from shebao.cards.models import CardMovement, CardState, DocumentDisposal, WasteCause
from shebao.cards.selectors import card_location_now, waste_candidates
from shebao.cards.services import (
    card_recall,
    document_disposal_record,
    provincial_location,
    waste_destroy,
    waste_handover,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.orgs.models import Region
from tests.cards.factories import make_card

WITNESSES = {
    "place": "省厅信息管理中心销毁室",
    "method": "碎卡机粉碎",
    "witness_centre": "周主任",
    "witness_bank": "吴行长",
    "witness_factory": "郑厂长",
}


@pytest.fixture
def province(world):
    province = Region.objects.create(code="340000", name="安徽省", level=Region.Level.PROVINCE)
    world.region.parent = province
    world.region.save()
    return province


@pytest.fixture
def waste(world, province):
    dead = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    error = make_card(world.person_b, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    card_recall(
        card=dead,
        kind="waste",
        cause=WasteCause.DECEASED,
        death_certificate_no="SW2024001",
        reason="持卡人已死亡",
        actor=world.bank_clerk,
    )
    card_recall(card=error, kind="error", reason="姓名错字", actor=world.bank_clerk)
    return [dead, error]


def test_it_needs_a_death_certificate_for_a_deceased_holders_card(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    with pytest.raises(ValidationError, match="死亡证明"):
        card_recall(card=card, kind="waste", cause=WasteCause.DECEASED, reason="死亡", actor=world.bank_clerk)


def test_it_hands_waste_cards_to_the_province_and_destroys_them_before_witnesses(
    world, waste, province
) -> None:
    assert set(waste_candidates(world.centre_clerk)) == set(waste)
    destruction = waste_handover(
        card_ids=[c.pk for c in waste],
        handed_over_by="冯科长",
        received_by="陈处长",
        actor=world.centre_clerk,
    )
    vault = provincial_location(world.region)
    assert vault.region == province
    assert all(card_location_now(c.pk) == vault for c in waste)
    assert {i.cause for i in destruction.items.all()} == {WasteCause.DECEASED, WasteCause.ERROR}
    assert not waste_candidates(world.centre_clerk).exists()
    waste_destroy(destruction=destruction, actor=world.centre_clerk, **WITNESSES)
    for c in waste:
        c.refresh_from_db()
        assert c.state == CardState.DESTROYED and card_location_now(c.pk) is None
    assert CardMovement.objects.filter(kind="destroyed", location=vault).count() == 2
    with pytest.raises(StateError, match="已销毁"):
        waste_destroy(destruction=destruction, actor=world.centre_clerk, **WITNESSES)


def test_it_refuses_a_destruction_without_all_three_witnesses(world, waste) -> None:
    destruction = waste_handover(
        card_ids=[waste[0].pk], handed_over_by="冯", received_by="陈", actor=world.centre_clerk
    )
    with pytest.raises(ValidationError, match="卡厂监销人"):
        waste_destroy(
            destruction=destruction, actor=world.centre_clerk, **{**WITNESSES, "witness_factory": ""}
        )
    with pytest.raises(PermissionDenied):
        waste_destroy(destruction=destruction, actor=world.bank_clerk, **WITNESSES)


def test_it_refuses_to_hand_over_a_card_that_is_not_waste(world, province) -> None:
    live = make_card(world.person_a, world.bank_a, CardState.PRODUCED)
    with pytest.raises(StateError, match="只有已回收或已注销的卡"):
        waste_handover(card_ids=[live.pk], handed_over_by="冯", received_by="陈", actor=world.centre_clerk)


def test_it_records_a_document_disposal_and_prints_form_six(client, world) -> None:
    with pytest.raises(ValidationError, match="纸质单据须粉碎或焚毁"):
        document_disposal_record(
            document="个人领取登记表复印件",
            medium="paper",
            quantity="120页",
            method="delete",
            disposed_on=timezone.localdate(),
            disposed_by="甲",
            witness="乙",
            outlet=world.outlet_a,
            actor=world.bank_clerk,
        )
    record = document_disposal_record(
        document="个人领取登记表复印件",
        medium="paper",
        quantity="120页",
        method="shred",
        covers="2024年5月发放",
        disposed_on=timezone.localdate() - dt.timedelta(days=1),
        disposed_by="甲",
        witness="乙",
        outlet=world.outlet_a,
        actor=world.bank_clerk,
    )
    assert record.region == world.region
    client.force_login(world.bank_clerk)
    body = client.get("/cards/disposals/?print=1").content.decode()
    assert "文件销毁/处置记录表" in body and "个人领取登记表复印件" in body and "碎纸机粉碎" in body
    client.post(
        "/cards/disposals/",
        {
            "outlet": world.outlet_a.pk,
            "disposed_on": timezone.localdate().isoformat(),
            "document": "制卡数据文件",
            "medium": "electronic",
            "quantity": "3个文件",
            "method": "delete",
            "disposed_by": "甲",
            "witness": "乙",
        },
    )
    assert DocumentDisposal.objects.count() == 2


def test_it_runs_the_destruction_from_the_pages(client, world, waste) -> None:
    client.force_login(world.centre_clerk)
    page = client.get("/cards/destruction/").content.decode()
    assert waste[0].card_no in page and "持卡人死亡" in page
    r = client.post(
        "/cards/destruction/",
        {
            "step": "handover",
            "card": [c.pk for c in waste],
            "handed_over_by": "冯科长",
            "received_by": "陈处长",
        },
    )
    assert r.status_code == 302
    client.post(r["Location"], WITNESSES)
    printed = client.get(r["Location"] + "?print=1").content.decode()
    assert "郑厂长" in printed and "已销毁" in client.get(r["Location"]).content.decode()


def test_it_exports_the_destruction_list_and_form_six_as_xlsx(client, world, waste) -> None:
    from python_calamine import CalamineWorkbook

    destruction = waste_handover(
        card_ids=[c.pk for c in waste], handed_over_by="冯", received_by="陈", actor=world.centre_clerk
    )
    client.force_login(world.centre_clerk)
    response = client.get(f"/cards/destruction/{destruction.pk}/?format=xlsx")
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows[0][1] == "社会保障卡卡号" and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {c.card_no for c in waste}
    response = client.get("/cards/disposals/?format=xlsx")
    assert b"".join(response.streaming_content)[:2] == b"PK"
