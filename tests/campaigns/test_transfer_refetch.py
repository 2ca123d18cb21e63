"""Item 10: transfers still waiting for a balance are listed, and a clerk asks the medical system again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.audit.models import AuditLog
from shebao.campaigns import services
from shebao.campaigns.models import CampaignMember, MedicalTransfer
from shebao.campaigns.services import medical_transfers_refetch
from shebao.cards.models import CardState
from shebao.core.errors import PermissionDenied
from shebao.people.models import Person
from tests.campaigns.test_automatic_transfer import SOURCE, by_township_station, member  # noqa: F401
from tests.cards.factories import make_card
from tests.factories import PersonFactory

REFETCH = "campaign.medical_transfer_refetch"


@pytest.fixture
def waiting(world, settings, member) -> MedicalTransfer:  # type: ignore[no-untyped-def]  # noqa: F811
    """Person A's new card was enabled while the medical system was down: the transfer waits."""
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.DownMedicalSystem"
    by_township_station(world, settings)
    transfer = MedicalTransfer.objects.get(member=member)
    assert transfer.state == MedicalTransfer.State.PENDING
    return transfer


def _second_waiting(world: Any, settings: Any, member: CampaignMember) -> MedicalTransfer:  # noqa: F811
    from shebao.cards.models import SocialChannel
    from shebao.cards.services import card_activate_social

    person: Person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    old = make_card(person, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=1)
    other = CampaignMember.objects.create(
        campaign=member.campaign,
        phase=member.phase,
        person=person,
        old_card=old,
        assigned_at=timezone.now(),
        assigned_by=world.centre_clerk,
    )
    new = make_card(person, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, generation=2)
    card_activate_social(
        card=new, channel=SocialChannel.TOWNSHIP_STATION, place="甲镇人社站", actor=world.township_clerk
    )
    return MedicalTransfer.objects.get(member=other)


def test_the_transfers_page_lists_those_waiting_for_a_balance(client, world, waiting) -> None:
    client.force_login(world.supervisor)
    page = client.get(reverse("campaigns:transfers")).content.decode()
    assert 'id="waiting-table"' in page and world.person_a.name in page
    assert "再次获取" not in page  # the supervisor confirms; asking again is the clerk's
    client.force_login(world.centre_clerk)
    page = client.get(reverse("campaigns:transfers")).content.decode()
    assert "本阶段全部再次获取" in page and ">再次获取<" in page


def test_asking_again_for_one_transfer_moves_the_balance(client, world, settings, waiting) -> None:
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"
    client.force_login(world.centre_clerk)
    response = client.post(reverse("campaigns:transfer_refetch"), {"transfer": waiting.pk}, follow=True)
    assert "1 条已转移" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == MedicalTransfer.State.DONE and waiting.amount == Decimal("1234.56")
    assert waiting.source == MedicalTransfer.Source.MEDICAL_SYSTEM
    log = AuditLog.objects.get(action=REFETCH)
    assert log.actor == world.centre_clerk and log.new["done"] == [waiting.pk]

    # asking again changes nothing and writes nothing
    again = client.post(reverse("campaigns:transfer_refetch"), {"transfer": waiting.pk}, follow=True)
    assert "无需再次获取" in again.content.decode()
    assert AuditLog.objects.filter(action=REFETCH).count() == 1
    assert AuditLog.objects.filter(action="campaign.medical_transfer_from_system").count() == 1


def test_a_system_still_down_leaves_the_transfer_pending(client, world, waiting) -> None:
    client.force_login(world.centre_clerk)
    response = client.post(reverse("campaigns:transfer_refetch"), {"transfer": waiting.pk}, follow=True)
    assert "1 条仍无余额" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == MedicalTransfer.State.PENDING and waiting.amount is None
    assert AuditLog.objects.get(action=REFETCH).new == {"asked": [waiting.pk], "done": [], "left": 0}


def test_asking_again_for_a_whole_phase(client, world, settings, member, waiting) -> None:  # noqa: F811
    second = _second_waiting(world, settings, member)
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"
    client.force_login(world.centre_clerk)
    response = client.post(reverse("campaigns:transfer_refetch"), {"phase": member.phase_id}, follow=True)
    assert "已向医保系统再次获取 2 条：2 条已转移" in response.content.decode()
    assert set(
        MedicalTransfer.objects.filter(pk__in=[waiting.pk, second.pk]).values_list("state", flat=True)
    ) == {MedicalTransfer.State.DONE}
    assert AuditLog.objects.get(action=REFETCH).object_type == "campaigns.campaignphase"


def test_a_large_phase_is_asked_in_several_clicks(world, settings, member, waiting, monkeypatch) -> None:  # noqa: F811
    second = _second_waiting(world, settings, member)
    monkeypatch.setattr(services, "REFETCH_LIMIT", 1)
    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"
    first = medical_transfers_refetch(actor=world.centre_clerk, phase=member.phase)
    assert (first.asked, first.done, first.left) == (1, 1, 1)
    rest = medical_transfers_refetch(actor=world.centre_clerk, phase=member.phase)
    assert (rest.asked, rest.done, rest.left) == (1, 1, 0)
    second.refresh_from_db()
    assert second.state == MedicalTransfer.State.DONE


@pytest.mark.parametrize("persona", ["supervisor", "auditor", "bank_clerk"])
def test_only_a_clerk_asks_again(client, world, waiting, persona) -> None:
    client.force_login(getattr(world, persona))
    assert client.post(reverse("campaigns:transfer_refetch"), {"transfer": waiting.pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        medical_transfers_refetch(actor=getattr(world, persona), transfer=waiting)
    assert not AuditLog.objects.filter(action=REFETCH).exists()


def test_a_clerk_of_another_county_cannot_ask(client, world, waiting) -> None:
    from shebao.accounts.roles import Role
    from tests.factories import RegionFactory, UserFactory

    stranger = UserFactory(
        username="elsewhere", role=Role.CENTRE_CLERK, region=RegionFactory(code="341522", name="霍邱县")
    )
    client.force_login(stranger)
    assert client.post(reverse("campaigns:transfer_refetch"), {"transfer": waiting.pk}).status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == MedicalTransfer.State.PENDING


def test_a_phase_larger_than_one_click_goes_to_a_background_job(
    client, world, settings, member, waiting, monkeypatch, django_capture_on_commit_callbacks  # noqa: F811
) -> None:
    """Above the click limit the phase is asked in rounds by a job; each transfer is asked once even
    while the medical system keeps answering nothing, and each round is audited like a click."""
    from shebao.campaigns import views
    from shebao.jobs.models import Job

    second = _second_waiting(world, settings, member)
    settings.SHEBAO_JOBS_INLINE = True
    monkeypatch.setattr(services, "REFETCH_LIMIT", 1)
    monkeypatch.setattr(views, "REFETCH_LIMIT", 1)
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:transfer_refetch"), {"phase": member.phase_id})
    job = Job.objects.get(kind="campaigns.phase_refetch")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.state == Job.State.SUCCEEDED and job.result == {"phase_id": member.phase_id, "asked": 2, "done": 0}
    assert "2 条仍无余额" in job.message
    assert [log.new["asked"] for log in AuditLog.objects.filter(action=REFETCH).order_by("pk")] == [
        [waiting.pk],
        [second.pk],
    ]

    settings.SHEBAO_MEDICAL_BALANCE_SOURCE = f"{SOURCE}.FixedBalance"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:transfer_refetch"), {"phase": member.phase_id})
    assert set(
        MedicalTransfer.objects.filter(pk__in=[waiting.pk, second.pk]).values_list("state", flat=True)
    ) == {MedicalTransfer.State.DONE}
    assert Job.objects.filter(kind="campaigns.phase_refetch").latest("pk").result["done"] == 2
