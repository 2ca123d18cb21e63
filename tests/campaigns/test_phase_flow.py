"""A generation-replacement phase end to end (文登): assignment, bulk applications from the phase page,
production, shipment, unit collective pickup, activation, balance transfer, and the old cards cancelled
after the transition end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.campaigns import services as campaign_services
from shebao.campaigns.models import Campaign, TargetGroup
from shebao.campaigns.selectors import phase_progress
from shebao.campaigns.services import (
    campaign_close,
    campaign_create,
    campaign_old_cards_cancel,
    medical_transfer_approve,
    medical_transfer_request,
    members_assign,
    phase_applications_create,
    phase_create,
)
from shebao.cards.models import Card, CardApplication, CardState, DeliveryMode, SocialChannel
from shebao.cards.services import (
    Receiver,
    card_activate_social,
    card_apply,
    card_issue_collective,
    card_notice_record,
    handover_activate_financial,
    production_file_write,
    production_return_import,
    shipment_create,
    shipment_receive,
    unit_handover_settle,
    unit_member_handout_record,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.ssn import make_ssn
from shebao.jobs.models import Job
from tests.cards.factories import make_card, photograph_waiting
from tests.cards.test_production import good_row, write_return
from tests.factories import PersonFactory

CLERKS = (
    Receiver(name="孙会计", ssn=make_ssn("341521", dt.date(1975, 1, 1), 11)),
    Receiver(name="钱出纳", ssn=make_ssn("341521", dt.date(1976, 2, 2), 22)),
)


@pytest.fixture
def phase(world):  # type: ignore[no-untyped-def]
    """Unit A's two retirees hold first-generation cards; person B (unit B) too, outside the phase."""
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    for p in (world.person_a, colleague, world.person_b):
        make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    campaign = campaign_create(
        name="文登区二代社保卡集中换发",
        transition_end=dt.date(2018, 12, 31),
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
    assert members_assign(phase=phase, actor=world.centre_clerk).assigned == 2
    return phase


def _new_cards(phase):  # type: ignore[no-untyped-def]
    return Card.objects.filter(generation=phase.campaign.new_generation).order_by("pk")


def test_the_whole_phase_flow(client, world, phase, tmp_path) -> None:
    campaign = phase.campaign
    old_ids = set(phase.members.values_list("old_card_id", flat=True))

    # 1. the clerk applies for the phase from its page
    client.force_login(world.centre_clerk)
    page = client.get(reverse("campaigns:phase", args=[phase.pk])).content.decode()
    assert 'id="apply-form"' in page and "<strong>2</strong>" in page
    response = client.post(reverse("campaigns:phase", args=[phase.pk]), {"action": "apply"}, follow=True)
    assert "已为本阶段 2 人申领第2代社保卡" in response.content.decode()
    new = list(_new_cards(phase))
    assert len(new) == 2 and {c.state for c in new} == {CardState.APPLIED}
    assert {c.replaces_id for c in new} == old_ids and {c.bank_id for c in new} == {world.bank_a.pk}
    apps = CardApplication.objects.filter(cards__in=new)
    assert set(apps.values_list("reason", "delivery")) == {
        (CardApplication.Reason.GENERATION, DeliveryMode.UNIT_COLLECTIVE)
    }
    assert AuditLog.objects.filter(action="card.apply", object_id__in=[str(c.pk) for c in new]).count() == 2
    again = client.post(reverse("campaigns:phase", args=[phase.pk]), {"action": "apply"}, follow=True)
    assert "无需再申领" in again.content.decode() and _new_cards(phase).count() == 2

    # 2. production, return file, shipment to the outlet
    photograph_waiting()
    production_file_write(actor=world.centre_clerk, directory=tmp_path)
    rows = [good_row(Card.objects.get(pk=c.pk), 900 + n) for n, c in enumerate(new)]
    production_return_import(path=write_return(tmp_path / "return.csv", rows), actor=world.centre_clerk)
    assert set(_new_cards(phase).values_list("state", flat=True)) == {CardState.PRODUCED}
    shipment = shipment_create(
        card_ids=[c.pk for c in new],
        outlet=world.outlet_a,
        handed_over_by="孙库管",
        received_by="周柜员",
        actor=world.centre_clerk,
    )
    shipment_receive(shipment=shipment, custodian="周柜员", actor=world.bank_clerk)

    # 3. unit collective pickup, the unit hands out, the bank activates, the window enables the social function
    notice = card_notice_record(
        outlet=world.outlet_a, employer=world.unit_a, channel="phone", actor=world.bank_clerk
    )
    handover = card_issue_collective(
        card_ids=[c.pk for c in new],
        outlet=world.outlet_a,
        employer=world.unit_a,
        notice=notice,
        letter_no="介字1号",
        clerks=CLERKS,
        actor=world.bank_clerk,
    )
    unit_member_handout_record(
        handover=handover, card_ids=[c.pk for c in new], handed_on=dt.date.today(), actor=world.unit_clerk
    )
    unit_handover_settle(handover=handover, returned_card_ids=[], custodian="周柜员", actor=world.bank_clerk)
    assert handover_activate_financial(handover=handover, place="甲单位会议室", actor=world.bank_clerk) == 2
    for card in new:
        card_activate_social(
            card=card, channel=SocialChannel.WINDOW, place="综合服务窗口", actor=world.centre_clerk
        )

    # 4. the old card's medical balance moves to the new card (maker-checker)
    member = phase.members.get(person=world.person_a)
    transfer = medical_transfer_request(member=member, amount="1234.56", actor=world.centre_clerk)
    medical_transfer_approve(transfer=transfer, actor=world.supervisor)

    row = phase_progress(campaign)[0]
    assert (row["members"], row["produced"], row["issued"], row["social"], row["financial"]) == (
        2,
        2,
        2,
        2,
        2,
    )
    assert (row["transferred"], row["old_live"]) == (1, 2)

    # 5. after the transition end the old cards are cancelled from the campaign page; B's card is untouched
    with pytest.raises(StateError, match="过渡期"):
        campaign_old_cards_cancel(campaign=campaign, actor=world.centre_clerk)
    assert campaign_close(campaign=campaign, actor=world.centre_clerk) == 2
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'id="cancel-old-form"' in detail
    response = client.post(
        reverse("campaigns:detail", args=[campaign.pk]), {"action": "cancel_old"}, follow=True
    )
    assert "已注销 2 张原卡" in response.content.decode()
    assert set(Card.objects.filter(pk__in=old_ids).values_list("state", flat=True)) == {CardState.CANCELLED}
    assert Card.objects.get(person=world.person_b, generation=1).state == CardState.ISSUED
    assert AuditLog.objects.filter(action="card.cancel", object_id__in=[str(i) for i in old_ids]).count() == 2
    assert phase_progress(campaign)[0]["old_live"] == 0
    assert set(_new_cards(phase).values_list("state", flat=True)) == {CardState.ISSUED}


def test_a_large_phase_is_applied_for_by_a_background_job(
    client, world, phase, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    settings.SHEBAO_JOBS_INLINE = True
    monkeypatch.setattr(campaign_services, "APPLY_INLINE_LIMIT", 1)
    monkeypatch.setattr("shebao.campaigns.views.APPLY_INLINE_LIMIT", 1)
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:phase", args=[phase.pk]), {"action": "apply"})
    job = Job.objects.get(kind="campaigns.phase_apply")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    assert job.state == Job.State.SUCCEEDED and job.result["applications"] == 2
    assert _new_cards(phase).count() == 2
    # a re-run (a crashed worker) changes nothing
    from shebao.jobs.services import job_run

    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)
    assert job_run(job.pk).result["applications"] == 0 and _new_cards(phase).count() == 2


def test_members_who_applied_at_a_window_or_died_are_skipped(world, phase) -> None:
    card_apply(
        person=world.person_a,
        bank=world.bank_a,
        generation=2,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )
    colleague = phase.members.exclude(person=world.person_a).get().person
    colleague.death_date = dt.date(2018, 4, 1)
    colleague.save(update_fields=["death_date"])
    assert phase_applications_create(phase=phase, actor=world.centre_clerk) == 0
    assert _new_cards(phase).count() == 1


def test_a_self_pickup_phase_needs_its_outlet(world, phase) -> None:
    custodial = phase_create(
        campaign=phase.campaign, month=201806, group=TargetGroup.CUSTODIAL, actor=world.centre_clerk
    )
    members_assign(phase=custodial, ssns=[world.person_b.ssn], actor=world.centre_clerk)
    with pytest.raises(ValidationError, match="领卡地点"):
        phase_applications_create(phase=custodial, actor=world.centre_clerk)


@pytest.mark.parametrize("persona", ["supervisor", "auditor"])
def test_only_a_centre_clerk_applies_for_a_phase(client, world, phase, persona) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        phase_applications_create(phase=phase, actor=getattr(world, persona))
    client.force_login(getattr(world, persona))
    assert 'id="apply-form"' not in client.get(reverse("campaigns:phase", args=[phase.pk])).content.decode()
    assert client.post(reverse("campaigns:phase", args=[phase.pk]), {"action": "apply"}).status_code == 403
    assert _new_cards(phase).count() == 0


def test_a_closed_campaign_takes_no_applications(world, phase) -> None:
    campaign_close(campaign=phase.campaign, actor=world.centre_clerk)
    phase.campaign.refresh_from_db()
    assert phase.campaign.state == Campaign.State.CLOSED
    with pytest.raises(StateError, match="过渡期已结束"):
        phase_applications_create(phase=phase, actor=world.centre_clerk)
