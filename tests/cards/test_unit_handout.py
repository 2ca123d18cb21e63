"""文登: the unit records which members got their cards; the outlet takes back the rest; the bank activates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shebao.cards.models import CardIssue, CardState, FinancialChannel, SocialChannel
from shebao.cards.services import (
    Receiver,
    card_issue_collective,
    card_notice_record,
    handover_activate_financial,
    unit_handover_settle,
    unit_member_handout_record,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.ssn import make_ssn
from tests.cards.factories import make_card
from tests.factories import PersonFactory

CLERKS = (
    Receiver(name="孙会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
    Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
)


@pytest.fixture
def handover(world):
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    cards = [
        make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
        make_card(colleague, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a),
    ]
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", actor=world.bank_clerk
    )
    return card_issue_collective(
        card_ids=[c.pk for c in cards],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字8号",
        clerks=CLERKS,
        actor=world.bank_clerk,
    )


def test_it_records_the_members_the_unit_handed_cards_to(world, handover) -> None:
    first = CardIssue.objects.filter(handover=handover, card__person=world.person_a).get()
    n = unit_member_handout_record(
        handover=handover, card_ids=[first.card_id], handed_on=timezone.localdate(), actor=world.unit_clerk
    )
    first.refresh_from_db()
    assert (
        n == 1
        and first.member_received_on == timezone.localdate()
        and first.member_recorded_by == world.unit_clerk
    )


def test_it_refuses_another_unit_a_future_day_or_a_settled_handover(world, handover, client) -> None:
    ids = list(CardIssue.objects.filter(handover=handover).values_list("card_id", flat=True))
    with pytest.raises(PermissionDenied):
        unit_member_handout_record(
            handover=handover, card_ids=ids, handed_on=timezone.localdate(), actor=world.bank_clerk
        )
    with pytest.raises(ValidationError, match="晚于今天"):
        unit_member_handout_record(
            handover=handover,
            card_ids=ids,
            handed_on=timezone.localdate() + dt.timedelta(days=1),
            actor=world.unit_clerk,
        )
    unit_handover_settle(handover=handover, returned_card_ids=[], custodian="柜员", actor=world.bank_clerk)
    with pytest.raises(StateError, match="已交回"):
        unit_member_handout_record(
            handover=handover, card_ids=ids, handed_on=timezone.localdate(), actor=world.unit_clerk
        )


def test_it_activates_the_handed_out_cards_by_mobile_pos_after_the_return(world, handover) -> None:
    issues = list(CardIssue.objects.filter(handover=handover).order_by("card__person__name"))
    with pytest.raises(StateError, match="尚未交回"):
        handover_activate_financial(handover=handover, place="甲单位", actor=world.bank_clerk)
    returned = [i.card_id for i in issues if i.card.person_id != world.person_a.pk]
    unit_handover_settle(
        handover=handover, returned_card_ids=returned, custodian="柜员", actor=world.bank_clerk
    )
    assert handover_activate_financial(handover=handover, place="甲单位会议室", actor=world.bank_clerk) == 1
    mine = next(i.card for i in issues if i.card.person_id == world.person_a.pk)
    mine.refresh_from_db()
    assert mine.fin_activated_channel == FinancialChannel.MOBILE_TERMINAL
    # 按发卡名单启用: the social function too, by the bank on the centre's behalf
    assert mine.ss_activated_channel == SocialChannel.BANK_OUTLET and mine.ss_activated_by == world.bank_clerk
    assert "甲单位会议室" in mine.ss_activated_place
    back = next(i.card for i in issues if i.card.person_id != world.person_a.pk)
    back.refresh_from_db()
    assert back.ss_activated_at is None and back.fin_activated_at is None
    with pytest.raises(StateError, match="没有待启用"):
        handover_activate_financial(handover=handover, place="甲单位", actor=world.bank_clerk)


def test_it_lets_the_unit_clerk_record_from_its_page_and_the_outlet_sees_it(client, world, handover) -> None:
    mine = CardIssue.objects.get(handover=handover, card__person=world.person_a)
    client.force_login(world.unit_clerk)
    page = client.get("/cards/collective/unit/").content.decode()
    assert "张小华" in page and world.person_a.ssn not in page
    client.post(
        "/cards/collective/unit/",
        {"handover": handover.pk, "card": [mine.card_id], "handed_on": timezone.localdate().isoformat()},
    )
    mine.refresh_from_db()
    assert mine.member_received_on is not None
    client.force_login(world.bank_clerk)
    outlet_page = client.get("/cards/collective/").content.decode()
    assert "已发" in outlet_page
