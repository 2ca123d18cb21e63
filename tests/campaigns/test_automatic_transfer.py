"""文登: 二代卡社保功能启用后，原一代卡医保个人账户余额自动转到二代卡上，一代卡医保功能自动失效.

Whatever the channel that enables a campaign member's new card, the old card's medical function stops
in the same transaction and the medical system's balance moves after commit; without a balance from
the medical system a clerk enters it and a supervisor confirms it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.audit.models import AuditLog
from shebao.campaigns.medical import MedicalSystemError
from shebao.campaigns.models import CampaignMember, MedicalTransfer, TargetGroup
from shebao.campaigns.selectors import phase_progress
from shebao.campaigns.services import (
    campaign_create,
    medical_transfer_approve,
    medical_transfer_fetch,
    medical_transfer_request,
    members_assign,
    phase_create,
)
from shebao.cards.models import Card, CardIssue, CardState, DeliveryMode, SocialChannel
from shebao.cards.services import (
    Receiver,
    VillageChecks,
    card_activate_social,
    card_issue,
    card_issue_collective,
    card_issue_village,
    card_notice_record,
    card_replace,
    card_report_loss,
    mail_dispatch,
    mail_proof_upload,
    mail_request_approve,
    mail_request_create,
    unit_handover_settle,
    unit_member_handout_record,
    village_session_plan,
)
from shebao.core.errors import StateError
from shebao.core.values.ssn import make_ssn
from shebao.orgs.models import Outlet
from tests.cards.factories import make_card
from tests.cards.test_mail import files
from tests.factories import OutletFactory

SOURCE = "tests.campaigns.test_automatic_transfer"


class FixedBalance:
    """The medical system moved 1,234.56 yuan for everybody."""

    name = "医保系统（测试）"

    def balance(self, *, person_ssn: str, old_card_no: str, new_card_no: str) -> Decimal | None:
        return Decimal("1234.56")


class DownMedicalSystem:
    name = "医保系统（故障）"

    def balance(self, *, person_ssn: str, old_card_no: str, new_card_no: str) -> Decimal | None:
        raise MedicalSystemError("连接超时")


class FloatBalance:
    name = "医保系统（浮点）"

    def balance(self, *, person_ssn: str, old_card_no: str, new_card_no: str) -> Any:
        return 1234.56


@pytest.fixture
def medical_system(settings):  # type: ignore[no-untyped-def]
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"


@pytest.fixture
def member(world) -> CampaignMember:  # type: ignore[no-untyped-def]
    """Person A (unit A) holds a first-generation card and is in the May unit-proxy phase."""
    make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    campaign = campaign_create(
        name="文登区二代社保卡集中换发", transition_end=dt.date(2018, 12, 31), actor=world.centre_clerk
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
    return CampaignMember.objects.get(person=world.person_a)


def _holder(world) -> Receiver:  # type: ignore[no-untyped-def]
    return Receiver(
        name=world.person_a.name,
        ssn=world.person_a.ssn,
        phone="13900000000",
        address="甲镇东村3组",
        form_signed=True,
    )


# ---------------------------------------------------------------- each channel that enables the social function


def by_window(world, settings) -> Card:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=2)
    card_issue(
        card=card,
        outlet=world.outlet_a,
        mode=CardIssue.Mode.PERSONAL,
        receiver=_holder(world),
        activate_social=True,
        actor=world.bank_clerk,
    )
    return card


def by_township_station(world, settings) -> Card:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    card_activate_social(
        card=card, channel=SocialChannel.TOWNSHIP_STATION, place="甲镇人社站", actor=world.township_clerk
    )
    return card


def by_village_session(world, settings) -> Card:  # type: ignore[no-untyped-def]
    station = OutletFactory(
        region=world.region, kind=Outlet.Kind.GRASSROOTS_STATION, bank=None, township=world.town_a
    )
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=station, generation=2)
    session = village_session_plan(
        outlet=station,
        township=world.town_a,
        held_on=timezone.localdate(),
        place="甲镇东村村委会",
        villages="东村",
        notified_by="村委会广播",
        station_officer="赵专员",
        bank_officer="钱经理",
        actor=world.township_clerk,
    )
    checks = VillageChecks(id_checked=True, photo_checked=True, address_checked=True, form_signed=True)
    card_issue_village(
        session=session, card=card, receiver=_holder(world), checks=checks, actor=world.township_clerk
    )
    return card


def by_mail(world, settings) -> Card:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=2)
    req = mail_request_create(
        card=card, address="文登区昆崙路37号", phone="13800000000", actor=world.cardholder
    )
    for kind, upload in files().items():
        mail_proof_upload(request=req, kind=kind, upload=upload, actor=world.cardholder)
    mail_request_approve(request=req, actor=world.centre_clerk)
    mail_dispatch(request=req, tracking_no="EA123456789CN", actor=world.centre_clerk)
    return card


def by_unit_collective_pickup(world, settings) -> Card:  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a, generation=2)
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", actor=world.bank_clerk
    )
    handover = card_issue_collective(
        card_ids=[card.pk],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字1号",
        clerks=(
            Receiver(name="孙会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
            Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
        ),
        actor=world.bank_clerk,
    )
    unit_member_handout_record(
        handover=handover, card_ids=[card.pk], handed_on=timezone.localdate(), actor=world.unit_clerk
    )
    unit_handover_settle(handover=handover, returned_card_ids=[], custodian="周柜员", actor=world.bank_clerk)
    # 文登: 工商银行根据发卡名单对已发卡人员进行社保卡启用
    card_activate_social(
        card=card, channel=SocialChannel.BANK_OUTLET, place="工行昆崙所", actor=world.bank_clerk
    )
    return card


CHANNELS: list[Callable[..., Card]] = [
    by_window,
    by_township_station,
    by_village_session,
    by_mail,
    by_unit_collective_pickup,
]


@pytest.mark.parametrize("enable", CHANNELS, ids=lambda f: f.__name__)
def test_it_moves_the_balance_whatever_channel_enables_the_new_card(
    world, member, medical_system, enable, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        new = enable(world, settings)

    new.refresh_from_db()
    transfer = MedicalTransfer.objects.get(member=member)
    assert new.ss_activated_at is not None
    assert (transfer.state, transfer.amount, transfer.source) == (
        "done",
        Decimal("1234.56"),
        "medical_system",
    )
    assert transfer.new_card == new and transfer.old_card_id == member.old_card_id
    assert transfer.old_medical_stopped_at == new.ss_activated_at
    stop = AuditLog.objects.get(action="campaign.old_card_medical_stop")
    assert stop.object_id == str(member.old_card_id) and stop.new["balance_moves_to"] == new.card_no
    moved = AuditLog.objects.get(action="campaign.medical_transfer_from_system")
    assert moved.new["amount"] == "1234.56" and moved.actor_label == "医保系统（测试）"
    # The old card keeps working (its bank account) until the transition end.
    assert Card.objects.get(pk=member.old_card_id).state == CardState.ISSUED
    assert phase_progress(member.campaign)[0]["transferred"] == 1


def test_enabling_twice_or_a_replacement_card_moves_nothing_twice(
    world, member, medical_system, django_capture_on_commit_callbacks
) -> None:
    new = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = card_activate_social(
            card=new, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )
        again = card_activate_social(
            card=new, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )
    assert first.changed and not again.changed and len(callbacks) == 1
    transfer = MedicalTransfer.objects.get(member=member)
    assert medical_transfer_fetch(transfer_id=transfer.pk).amount == Decimal("1234.56")

    # The new card is lost and replaced; enabling the replacement moves nothing again.
    card_report_loss(card=new, kind="formal", actor=world.centre_clerk)
    replacement = card_replace(
        card=new, delivery=DeliveryMode.OUTLET_PICKUP, outlet=world.outlet_a, actor=world.centre_clerk
    )
    Card.objects.filter(pk=replacement.pk).update(state=CardState.ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        card_activate_social(
            card=replacement, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )

    assert MedicalTransfer.objects.filter(member=member).count() == 1
    assert AuditLog.objects.filter(action="campaign.old_card_medical_stop").count() == 1
    assert AuditLog.objects.filter(action="campaign.medical_transfer_from_system").count() == 1


def test_nothing_happens_for_a_person_who_is_not_a_campaign_member(
    world, member, medical_system, django_capture_on_commit_callbacks
) -> None:
    make_card(world.person_b, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    new = make_card(world.person_b, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = card_activate_social(
            card=new, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )

    assert outcome.changed
    assert not MedicalTransfer.objects.exists()
    assert (
        not AuditLog.objects.filter(action__startswith="campaign.")
        .exclude(action__in=["campaign.create", "campaign.phase_create", "campaign.members_assign"])
        .exists()
    )


def test_a_card_of_another_generation_moves_nothing(world, member, medical_system) -> None:
    third = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=3)
    card_activate_social(
        card=third, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
    )
    assert not MedicalTransfer.objects.exists()


def test_without_a_balance_from_the_medical_system_a_clerk_enters_it_and_a_supervisor_confirms(
    client, world, member, django_capture_on_commit_callbacks
) -> None:
    new = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    with django_capture_on_commit_callbacks(execute=True):
        card_activate_social(
            card=new, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )

    transfer = MedicalTransfer.objects.get(member=member)
    assert transfer.state == "pending" and transfer.amount is None
    assert transfer.old_medical_stopped_at is not None  # stopped at once, whatever the balance
    with pytest.raises(StateError, match="尚未登记余额"):
        medical_transfer_approve(transfer=transfer, actor=world.supervisor)

    client.force_login(world.centre_clerk)
    page = client.get(reverse("campaigns:phase", args=[member.phase_id])).content.decode()
    assert "原卡医保已停用，待录入余额" in page
    client.post(
        reverse("campaigns:phase", args=[member.phase_id]),
        {"action": "transfer", "member": member.pk, "amount": "1,234.50"},
    )
    transfer.refresh_from_db()
    assert (transfer.state, transfer.amount, transfer.source) == ("requested", Decimal("1234.50"), "clerk")

    medical_transfer_approve(transfer=transfer, actor=world.supervisor)
    transfer.refresh_from_db()
    assert transfer.state == "done" and MedicalTransfer.objects.filter(member=member).count() == 1
    assert AuditLog.objects.filter(action="campaign.old_card_medical_stop").count() == 1


@pytest.mark.parametrize("source", ["DownMedicalSystem", "FloatBalance"])
def test_a_failing_medical_system_leaves_the_activation_and_the_transfer_to_a_clerk(
    world, member, settings, source, django_capture_on_commit_callbacks
) -> None:
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.{source}"
    new = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    with django_capture_on_commit_callbacks(execute=True):
        card_activate_social(
            card=new, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )

    new.refresh_from_db()
    transfer = MedicalTransfer.objects.get(member=member)
    assert new.ss_activated_at is not None
    assert transfer.state == "pending" and transfer.amount is None
    again = medical_transfer_request(member=member, amount="88.80", actor=world.centre_clerk)
    assert again.pk == transfer.pk and again.amount == Decimal("88.80")
