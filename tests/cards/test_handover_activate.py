"""文登: the bank enables the handed-out cards of a unit's list; campaign members get their medical balance moved."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.campaigns.models import MedicalTransfer, TargetGroup
from shebao.campaigns.services import campaign_create, members_assign, phase_create
from shebao.cards.models import CardState, SocialChannel
from shebao.cards.services import (
    card_issue_collective,
    card_notice_record,
    handover_activate,
    unit_handover_settle,
)
from shebao.core.errors import PermissionDenied
from tests.cards.factories import make_card
from tests.cards.test_unit_handout import CLERKS
from tests.factories import PersonFactory


@pytest.fixture
def members(world):  # type: ignore[no-untyped-def]
    """Unit A's two people hold first-generation cards and are members of a unit-proxy phase."""
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    people = [world.person_a, colleague]
    for p in people:
        make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    campaign = campaign_create(
        name="文登区二代社保卡集中换发",
        transition_end=dt.date(2030, 12, 31),
        bank=world.bank_a,
        actor=world.centre_clerk,
    )
    phase = phase_create(
        campaign=campaign,
        month=201805,
        group=TargetGroup.UNIT_PROXY,
        units=[world.unit_a],
        outlet=world.outlet_a,
        actor=world.centre_clerk,
    )
    members_assign(phase=phase, actor=world.centre_clerk)
    return people, campaign.new_generation


def _handover(world, cards):  # type: ignore[no-untyped-def]
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", actor=world.bank_clerk
    )
    return card_issue_collective(
        card_ids=[c.pk for c in cards],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字9号",
        clerks=CLERKS,
        actor=world.bank_clerk,
    )


def test_it_enables_the_listed_cards_and_moves_the_campaign_members_medical_balance(world, members) -> None:
    people, generation = members
    new = [
        make_card(p, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=generation)
        for p in people
    ]
    handover = _handover(world, new)
    # the unit could not reach 张小华: that card comes back and is neither enabled nor transferred
    unit_handover_settle(
        handover=handover, returned_card_ids=[new[1].pk], custodian="周柜员", actor=world.bank_clerk
    )

    done = handover_activate(handover=handover, place="甲单位会议室", actor=world.bank_clerk)

    assert (done.social, done.financial) == (1, 1)
    new[0].refresh_from_db()
    assert new[0].ss_activated_channel == SocialChannel.BANK_OUTLET and new[0].fin_activated_at is not None
    transfer = MedicalTransfer.objects.get()
    assert transfer.new_card_id == new[0].pk and transfer.member.person_id == world.person_a.pk
    assert transfer.old_medical_stopped_at is not None


def test_it_enables_the_social_function_of_cards_already_activated_at_the_bank(world, members) -> None:
    people, generation = members
    card = make_card(
        people[0], world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=generation
    )
    handover = _handover(world, [card])
    unit_handover_settle(handover=handover, returned_card_ids=[], custodian="周柜员", actor=world.bank_clerk)
    from shebao.cards.services import card_activate_financial

    card_activate_financial(card=card, channel="counter", place="甲银行柜面", actor=world.bank_clerk)
    done = handover_activate(handover=handover, place="甲单位", actor=world.bank_clerk)
    assert (done.social, done.financial) == (1, 0)
    assert MedicalTransfer.objects.filter(new_card=card).count() == 1


def test_only_the_bank_enables_a_units_list(world, members) -> None:
    people, generation = members
    card = make_card(
        people[0], world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=generation
    )
    handover = _handover(world, [card])
    unit_handover_settle(handover=handover, returned_card_ids=[], custodian="周柜员", actor=world.bank_clerk)
    with pytest.raises(PermissionDenied):
        handover_activate(handover=handover, place="甲单位", actor=world.centre_clerk)
    assert not MedicalTransfer.objects.exists()
