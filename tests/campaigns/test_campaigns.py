"""Generation replacement campaigns (文登): phases by month and group, assignment, balance transfer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from shebao.audit.models import AuditLog
from shebao.campaigns.models import Campaign, CampaignMember, MedicalTransfer, TargetGroup
from shebao.campaigns.selectors import phase_progress
from shebao.campaigns.services import (
    campaign_close,
    campaign_create,
    medical_transfer_approve,
    medical_transfer_reject,
    medical_transfer_request,
    members_assign,
    phase_create,
)
from shebao.cards.models import Card, CardState, SocialChannel
from shebao.cards.services import card_activate_social
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from tests.cards.factories import make_card
from tests.factories import PersonFactory


@pytest.fixture
def campaign(world):  # type: ignore[no-untyped-def]
    return campaign_create(
        name="文登区二代社保卡集中换发",
        transition_end=dt.date(2018, 12, 31),
        bank=world.bank_a,
        actor=world.centre_clerk,
    )


@pytest.fixture
def old_cards(world):  # type: ignore[no-untyped-def]
    """Both persons hold a first-generation card; a third person of unit A too."""
    third = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_b, name="赵大海")
    return {
        p: make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
        for p in (world.person_a, world.person_b, third)
    }


def _phase(campaign, world, group=TargetGroup.UNIT_PROXY, month=201805, **kw):  # type: ignore[no-untyped-def]
    if group == TargetGroup.UNIT_PROXY and "units" not in kw:
        kw["units"] = [world.unit_a]
    return phase_create(
        campaign=campaign, month=month, group=group, outlet=world.outlet_a, actor=world.centre_clerk, **kw
    )


def test_a_clerk_creates_a_campaign_with_monthly_phases(campaign, world):
    may = _phase(campaign, world)
    june = _phase(campaign, world, TargetGroup.CUSTODIAL, 201806)
    july = _phase(campaign, world, TargetGroup.SWEEP, 201807)

    assert [str(p) for p in campaign.phases.order_by("month")] == [str(may), str(june), str(july)]
    assert str(june) == "2018年6月 托管退休人员"
    assert AuditLog.objects.filter(action="campaign.phase_create").count() == 3


def test_a_unit_proxy_phase_needs_its_units(campaign, world):
    with pytest.raises(ValidationError, match="代领单位"):
        _phase(campaign, world, units=[])


def test_the_same_group_twice_in_a_month_is_refused(campaign, world):
    _phase(campaign, world, TargetGroup.CUSTODIAL)
    with pytest.raises(ValidationError, match="相同对象"):
        _phase(campaign, world, TargetGroup.CUSTODIAL)


def test_only_a_centre_clerk_organises_a_campaign(world):
    with pytest.raises(PermissionDenied):
        campaign_create(name="x", transition_end=dt.date(2018, 12, 31), actor=world.unit_clerk)


def test_a_unit_proxy_phase_takes_the_listed_units_retirees(campaign, world, old_cards):
    phase = _phase(campaign, world)

    result = members_assign(phase=phase, actor=world.centre_clerk)

    assert result.assigned == 2  # 王小明 and 赵大海 of 甲单位
    assert set(CampaignMember.objects.values_list("person__name", flat=True)) == {"王小明", "赵大海"}
    assert CampaignMember.objects.get(person=world.person_a).old_card == old_cards[world.person_a]


def test_assigning_by_ssn_reports_who_could_not_be_assigned(campaign, world, old_cards):
    may = _phase(campaign, world)
    members_assign(phase=may, actor=world.centre_clerk)
    june = _phase(campaign, world, TargetGroup.URBAN_RESIDENT, 201806)
    nobody = PersonFactory(region=world.region)

    result = members_assign(
        phase=june,
        actor=world.centre_clerk,
        ssns=[world.person_b.ssn, world.person_a.ssn, nobody.ssn, "110101194001010015"],
    )

    assert result.assigned == 1
    reasons = dict(result.refused)
    assert "其他阶段" in reasons[world.person_a.ssn]
    assert "没有在手的第1代社保卡" in reasons[nobody.ssn]
    assert "没有该人员" in reasons["110101194001010015"]


def test_the_sweep_takes_everyone_left(campaign, world, old_cards):
    members_assign(phase=_phase(campaign, world), actor=world.centre_clerk)
    sweep = _phase(campaign, world, TargetGroup.SWEEP, 201807)

    assert members_assign(phase=sweep, actor=world.centre_clerk).assigned == 1
    assert members_assign(phase=sweep, actor=world.centre_clerk).assigned == 0  # twice changes nothing


@pytest.fixture
def member(campaign, world, old_cards):  # type: ignore[no-untyped-def]
    members_assign(phase=_phase(campaign, world), actor=world.centre_clerk)
    return CampaignMember.objects.get(person=world.person_a)


def _new_card(world, *, social=True):  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    if social:
        card_activate_social(
            card=card, channel=SocialChannel.BANK_OUTLET, place="工行昆崙所", actor=world.centre_clerk
        )
    return card


def test_the_balance_moves_only_after_the_new_cards_social_function_is_enabled(member, world):
    _new_card(world, social=False)

    with pytest.raises(StateError, match="尚未启用人社功能"):
        medical_transfer_request(member=member, amount="1234.56", actor=world.centre_clerk)


def test_a_supervisor_confirms_the_balance_transfer_and_the_old_medical_function_stops(member, world):
    new = _new_card(world)
    transfer = medical_transfer_request(member=member, amount="1234.56", actor=world.centre_clerk)
    assert transfer.state == MedicalTransfer.State.REQUESTED

    medical_transfer_approve(transfer=transfer, actor=world.supervisor)

    transfer.refresh_from_db()
    assert (transfer.state, transfer.amount, transfer.new_card) == ("done", Decimal("1234.56"), new)
    assert transfer.old_medical_stopped_at is not None
    stop = AuditLog.objects.get(action="campaign.old_card_medical_stop")
    assert stop.object_id == str(member.old_card_id) and stop.new["medical_function"] == "stopped"
    assert AuditLog.objects.get(action="campaign.medical_transfer_approve").new["amount"] == "1234.56"
    # The old card is not cancelled: it keeps working until the transition end date.
    assert Card.objects.get(pk=member.old_card_id).state == CardState.ISSUED


def test_the_clerk_who_recorded_the_balance_cannot_confirm_it(member, world):
    _new_card(world)
    transfer = medical_transfer_request(member=member, amount="10.00", actor=world.centre_clerk)

    with pytest.raises(PermissionDenied):
        medical_transfer_approve(transfer=transfer, actor=world.centre_clerk)


def test_a_transfer_is_confirmed_once(member, world):
    _new_card(world)
    transfer = medical_transfer_request(member=member, amount="10.00", actor=world.centre_clerk)
    medical_transfer_approve(transfer=transfer, actor=world.supervisor)

    with pytest.raises(StateError):
        medical_transfer_approve(transfer=transfer, actor=world.supervisor)
    with pytest.raises(StateError, match="已有待复核或已完成"):
        medical_transfer_request(member=member, amount="10.00", actor=world.centre_clerk)


def test_a_rejected_transfer_can_be_recorded_again(member, world):
    _new_card(world)
    transfer = medical_transfer_request(member=member, amount="100.00", actor=world.centre_clerk)
    medical_transfer_reject(transfer=transfer, reason="金额与医保系统不符", actor=world.supervisor)

    again = medical_transfer_request(member=member, amount="1000.00", actor=world.centre_clerk)

    assert again.state == MedicalTransfer.State.REQUESTED and again.amount == Decimal("1000.00")


@pytest.mark.parametrize("amount", ["abc", "-1", "1.234", ""])
def test_an_unparseable_amount_is_refused_never_zero(member, world, amount):
    _new_card(world)
    with pytest.raises(ValidationError):
        medical_transfer_request(member=member, amount=amount, actor=world.centre_clerk)


def test_progress_per_phase(member, world):
    new = _new_card(world)
    Card.objects.filter(pk=new.pk).update(fin_activated_at=timezone.now())
    transfer = medical_transfer_request(member=member, amount="5.00", actor=world.centre_clerk)
    medical_transfer_approve(transfer=transfer, actor=world.supervisor)

    rows = phase_progress(member.campaign)

    may, total = rows[0], rows[-1]
    assert (may["members"], may["produced"], may["issued"], may["social"], may["financial"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert (may["transferred"], may["old_live"]) == (1, 2)
    assert total["members"] == 2 and total["phase"] is None


def test_the_transition_period_cannot_end_early(campaign, world):
    with pytest.raises(StateError, match="过渡期"):
        campaign_close(campaign=campaign, actor=world.centre_clerk, today=dt.date(2018, 12, 31))


def test_after_the_transition_end_old_cards_are_due_for_cancellation(member, world):
    due = campaign_close(campaign=member.campaign, actor=world.centre_clerk, today=dt.date(2019, 1, 1))

    assert due == 2
    assert Campaign.objects.get(pk=member.campaign_id).state == Campaign.State.CLOSED
    with pytest.raises(StateError):
        members_assign(phase=member.phase, actor=world.centre_clerk)
