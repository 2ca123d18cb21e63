"""Mail chosen at the window: the centre clerk prepares the mail request for the holder."""

from __future__ import annotations

import pytest

from shebao.cards.models import (
    CardApplication,
    CardState,
    DeliveryMode,
    MailRequest,
    MailState,
    SocialChannel,
)
from shebao.cards.services import (
    mail_dispatch,
    mail_proof_upload,
    mail_request_approve,
    mail_request_create,
    mail_request_from_application,
)
from shebao.core.errors import PermissionDenied, ValidationError
from tests.cards.factories import make_card
from tests.cards.test_mail import files


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def mail_application(world, delivery: str = DeliveryMode.MAIL, *, person=None, bank=None) -> CardApplication:
    mail = delivery == DeliveryMode.MAIL
    return CardApplication.objects.create(
        person=person or world.person_a,
        bank=bank or world.bank_a,
        delivery=delivery,
        outlet=None if mail else world.outlet_a,
        mail_address="吉林省长春市南关区幸福路8号" if mail else "",
        mail_phone="13800000000" if mail else "",
        created_by=world.centre_clerk,
    )


@pytest.fixture
def card(world):
    return make_card(
        world.person_a,
        world.bank_a,
        CardState.IN_STOCK,
        outlet=world.outlet_a,
        application=mail_application(world),
    )


def test_it_lets_the_window_mail_a_card_for_the_holder_from_the_application(world, card) -> None:
    req = mail_request_from_application(card=card, actor=world.centre_clerk)
    assert req.address == "吉林省长春市南关区幸福路8号" and req.phone == "13800000000"
    for kind, f in files().items():
        mail_proof_upload(request=req, kind=kind, upload=f, actor=world.centre_clerk)
    mail_request_approve(request=req, actor=world.centre_clerk)
    issue = mail_dispatch(request=req, tracking_no="EA123456789CN", actor=world.centre_clerk)
    card.refresh_from_db()
    assert issue.tracking_no == "EA123456789CN"
    assert card.state == CardState.ISSUED and card.ss_activated_channel == SocialChannel.CENTRAL


def test_it_still_lets_the_holder_ask_alone(world, card) -> None:
    req = mail_request_create(
        card=card, address="吉林省长春市朝阳区红旗街1号", phone="13900000000", actor=world.cardholder
    )
    mail_proof_upload(request=req, kind="video", upload=files()["video"], actor=world.cardholder)
    assert req.state == MailState.REQUESTED


@pytest.mark.parametrize("persona", ["bank_clerk", "unit_clerk", "township_clerk", "supervisor"])
def test_it_refuses_others_to_ask_for_the_holder(world, card, persona) -> None:
    with pytest.raises(PermissionDenied):
        mail_request_from_application(card=card, actor=getattr(world, persona))


def test_it_refuses_to_prepare_a_card_whose_application_did_not_choose_mail(world) -> None:
    card = make_card(
        world.person_a,
        world.bank_a,
        CardState.IN_STOCK,
        outlet=world.outlet_a,
        application=mail_application(world, DeliveryMode.OUTLET_PICKUP),
    )
    with pytest.raises(ValidationError, match="未选择邮寄"):
        mail_request_from_application(card=card, actor=world.centre_clerk)


def test_it_lists_produced_mail_cards_in_the_clerks_queue_until_prepared(client, world, card) -> None:
    waiting = make_card(
        world.person_b,
        world.bank_b,
        CardState.APPLIED,
        application=mail_application(world, person=world.person_b, bank=world.bank_b),
    )
    client.force_login(world.centre_clerk)
    html = client.get("/cards/mail/review/").content.decode()
    queue = html[html.index('id="mail-to-prepare"') : html.index('id="mail-requests"')]
    assert "王小明" in queue and "吉林省长春市南关区幸福路8号" in queue
    assert waiting.card_no is None and "李小红" not in queue  # not produced yet

    response = client.post("/cards/mail/review/", {"step": "prepare", "card": card.pk})
    req = MailRequest.objects.get(card=card)
    assert response.status_code == 302 and response["Location"] == f"/cards/mail/{req.pk}/"
    for kind, f in files().items():
        client.post(f"/cards/mail/{req.pk}/", {"step": "upload", "kind": kind, "file": f})
    assert req.proofs.count() == 3
    client.post(f"/cards/mail/{req.pk}/", {"step": "approve"})
    client.post(f"/cards/mail/{req.pk}/", {"step": "dispatch", "tracking_no": "1234567890123"})
    req.refresh_from_db()
    assert req.state == MailState.DISPATCHED
    html = client.get("/cards/mail/review/").content.decode()
    queue = html[html.index('id="mail-to-prepare"') : html.index('id="mail-requests"')]
    assert "王小明" not in queue
