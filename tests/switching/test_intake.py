"""Township intake: walk-in verification with photos, monthly submission, then the same approval."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.core.errors import StateError, ValidationError
from shebao.switching.intake import township_intake_record, township_submit
from shebao.switching.models import AccountChange, TownshipIntake
from shebao.switching.services import account_change_approve, account_change_check
from tests.factories import PersonFactory
from tests.switching.factories import PDF_SCAN, beneficiary

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
ACCOUNT = "6228480000000000018"


def photos() -> dict[str, Any]:
    return {
        "card_photo": SimpleUploadedFile("card.jpg", JPEG, content_type="image/jpeg"),
        "id_photo": SimpleUploadedFile("id.jpg", JPEG, content_type="image/jpeg"),
    }


@pytest.fixture
def villager(world: Any) -> Any:
    return beneficiary(PersonFactory(region=world.region, employer=None, township=world.town_a, name="乡甲"))


def test_it_records_submits_and_switches_a_walk_in(world: Any, client: Any, villager: Any) -> None:
    client.force_login(world.township_clerk)
    response = client.post(
        reverse("switching:intake"),
        {
            "ssn": villager.ssn,
            "card_no": "A12345678",
            "account_no": ACCOUNT,
            "account_name": villager.name,
            "bank_name": world.bank_a.name,
            "fin_activated": "0",
            **photos(),
        },
    )
    assert response.status_code == 302
    intake = TownshipIntake.objects.get()
    with intake.card_photo.open("rb") as fh:
        assert fh.read() == JPEG
    assert "督促其到社保卡所属银行激活金融功能" in client.get(response.url).content.decode()

    # not activated yet: nothing to submit
    with pytest.raises(StateError, match="没有可报送"):
        township_submit(actor=world.township_clerk, scan_file=SimpleUploadedFile("s.pdf", PDF_SCAN))
    client.post(reverse("switching:intake"), {"action": "activated", "intake": intake.pk})
    client.post(
        reverse("switching:intake"), {"action": "submit", "scan_file": SimpleUploadedFile("s.pdf", PDF_SCAN)}
    )
    intake.refresh_from_db()
    assert intake.submission is not None
    change = intake.change
    assert (change.state, change.submitted_by, change.prepared_by, change.bank) == (
        "submitted",
        world.township_clerk,
        None,
        world.bank_a,
    )
    with pytest.raises(StateError):
        account_change_approve(change_id=change.pk, actor=world.supervisor)
    change = account_change_check(change_id=change.pk, actor=world.centre_clerk, accept=True)
    assert (change.state, change.prepared_by) == ("prepared", world.centre_clerk)
    approved = account_change_approve(change_id=change.pk, actor=world.supervisor)
    assert approved.payment_account.account_no == ACCOUNT


def test_it_refuses_wrong_names_strangers_bad_photos_and_a_second_open_record(
    world: Any, villager: Any
) -> None:
    base = {"card_no": "A12345678", "account_no": ACCOUNT, "fin_activated": True}
    with pytest.raises(ValidationError, match="不一致"):
        township_intake_record(
            actor=world.township_clerk, ssn=villager.ssn, account_name="乡乙", **base, **photos()
        )
    with pytest.raises(ValidationError, match="本乡镇没有"):
        township_intake_record(
            actor=world.township_clerk,
            ssn=world.person_b.ssn,
            account_name=world.person_b.name,
            **base,
            **photos(),
        )
    bad = {"card_photo": SimpleUploadedFile("card.jpg", b"GIF89a"), "id_photo": photos()["id_photo"]}
    with pytest.raises(ValidationError, match="社保卡照片"):
        township_intake_record(
            actor=world.township_clerk, ssn=villager.ssn, account_name=villager.name, **base, **bad
        )
    township_intake_record(
        actor=world.township_clerk, ssn=villager.ssn, account_name="乡 甲", **base, **photos()
    )
    with pytest.raises(StateError, match="尚未报送"):
        township_intake_record(
            actor=world.township_clerk, ssn=villager.ssn, account_name=villager.name, **base, **photos()
        )
    assert not AccountChange.objects.exists()


def test_it_is_the_township_clerks_page(world: Any, client: Any) -> None:
    client.force_login(world.township_clerk)
    assert "本月报送截止日" in client.get(reverse("switching:intake")).content.decode()
    client.force_login(world.unit_clerk)
    assert client.get(reverse("switching:intake")).status_code == 403


def test_it_keeps_the_photos_with_the_record_for_the_reviewer(world: Any, client: Any, villager: Any) -> None:
    township_intake_record(
        actor=world.township_clerk,
        ssn=villager.ssn,
        card_no="A12345678",
        account_no=ACCOUNT,
        account_name=villager.name,
        fin_activated=True,
        **photos(),
    )
    township_submit(actor=world.township_clerk, scan_file=SimpleUploadedFile("s.pdf", PDF_SCAN))
    change = AccountChange.objects.get()
    client.force_login(world.centre_clerk)  # the clerk checks the photos first
    queue = client.get(reverse("switching:changes")).content.decode()
    assert reverse("switching:change_file", args=[change.pk, "card"]) in queue
    assert reverse("switching:change_check", args=[change.pk]) in queue
    account_change_check(change_id=change.pk, actor=world.centre_clerk, accept=True)
    client.force_login(world.supervisor)
    queue = client.get(reverse("switching:changes")).content.decode()
    assert reverse("switching:change_file", args=[change.pk, "card"]) in queue
    photo = client.get(reverse("switching:change_file", args=[change.pk, "id"]))
    assert b"".join(photo.streaming_content) == JPEG
    client.force_login(world.unit_clerk)
    assert client.get(reverse("switching:change_file", args=[change.pk, "card"])).status_code == 403
