from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shebao.cards.models import CardIssue, CardMovement, CardState, LivenessProof, MailState, SocialChannel
from shebao.cards.services import (
    mail_dispatch,
    mail_proof_upload,
    mail_request_approve,
    mail_request_create,
    mail_request_reject,
    mail_request_resubmit,
)
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from tests.cards.factories import make_card

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def files() -> dict[str, SimpleUploadedFile]:
    return {
        "video": SimpleUploadedFile("朗读.mp4", MP4, content_type="video/mp4"),
        "id_photo": SimpleUploadedFile("身份证.jpg", JPEG, content_type="image/jpeg"),
        "newspaper_photo": SimpleUploadedFile("报纸.png", PNG, content_type="image/png"),
    }


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def card(world):
    return make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)


@pytest.fixture
def req(world, card):
    return mail_request_create(
        card=card, address="吉林省长春市南关区幸福路8号", phone="13800000000", actor=world.cardholder
    )


def upload_all(world, req) -> None:
    for kind, f in files().items():
        mail_proof_upload(request=req, kind=kind, upload=f, actor=world.cardholder)


def test_it_mails_a_card_after_the_liveness_proofs_are_approved(world, req, card, media) -> None:
    assert "王小明" in req.phrase
    upload_all(world, req)
    stored = [Path(media) / p.file.name for p in LivenessProof.objects.filter(request=req)]
    assert len(stored) == 3 and all(p.exists() for p in stored)
    mail_request_approve(request=req, actor=world.centre_clerk)
    issue = mail_dispatch(request=req, tracking_no="ea123456789cn", actor=world.centre_clerk)
    card.refresh_from_db()
    req.refresh_from_db()
    assert req.state == MailState.DISPATCHED and req.tracking_no == "EA123456789CN"
    assert issue.mode == CardIssue.Mode.MAIL and issue.address == req.address
    assert card.state == CardState.ISSUED
    assert card.ss_activated_channel == SocialChannel.CENTRAL
    assert card.fin_activated_at is None  # the holder activates it at the bank
    assert CardMovement.objects.filter(card=card, kind="issued", counterparty__contains="EMS").exists()


def test_it_refuses_approval_until_all_three_proofs_are_there(world, req) -> None:
    mail_proof_upload(request=req, kind="video", upload=files()["video"], actor=world.cardholder)
    with pytest.raises(ValidationError, match="手持本人身份证的照片、手持当日报纸的照片"):
        mail_request_approve(request=req, actor=world.centre_clerk)


def test_it_rejects_with_a_reason_and_the_holder_tries_again(world, req) -> None:
    upload_all(world, req)
    with pytest.raises(ValidationError, match="原因"):
        mail_request_reject(request=req, reason=" ", actor=world.centre_clerk)
    mail_request_reject(request=req, reason="报纸日期看不清", actor=world.centre_clerk)
    with pytest.raises(StateError, match="审核通过后才能邮寄"):
        mail_dispatch(request=req, tracking_no="1234567890123", actor=world.centre_clerk)
    mail_proof_upload(
        request=req, kind="newspaper_photo", upload=SimpleUploadedFile("新.jpg", JPEG), actor=world.cardholder
    )
    assert LivenessProof.objects.filter(request=req).count() == 3
    mail_request_resubmit(request=req, actor=world.cardholder)
    assert mail_request_approve(request=req, actor=world.centre_clerk).state == MailState.APPROVED


def test_it_checks_the_type_and_size_of_an_upload(world, req, settings) -> None:
    with pytest.raises(ValidationError, match="只能是"):
        mail_proof_upload(
            request=req, kind="video", upload=SimpleUploadedFile("a.exe", MP4), actor=world.cardholder
        )
    with pytest.raises(ValidationError, match="不符"):
        mail_proof_upload(
            request=req,
            kind="id_photo",
            upload=SimpleUploadedFile("a.jpg", b"MZ" + b"\x00" * 40),
            actor=world.cardholder,
        )
    settings.SHEBAO_LIVENESS_PHOTO_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="文件过大"):
        mail_proof_upload(
            request=req, kind="id_photo", upload=SimpleUploadedFile("a.jpg", JPEG), actor=world.cardholder
        )
    assert not LivenessProof.objects.exists()


def test_it_keeps_requests_and_reviews_to_the_right_people(world, card, req) -> None:
    other = make_card(world.person_b, world.bank_b, CardState.IN_STOCK, outlet=world.outlet_a)
    with pytest.raises(PermissionDenied):
        mail_request_create(card=other, address="某地某街道某号", phone="13800000000", actor=world.cardholder)
    with pytest.raises(PermissionDenied):
        mail_proof_upload(request=req, kind="video", upload=files()["video"], actor=world.bank_clerk)
    upload_all(world, req)
    with pytest.raises(PermissionDenied):
        mail_request_approve(request=req, actor=world.bank_clerk)
    with pytest.raises(StateError, match="未完成的邮寄申请"):
        mail_request_create(
            card=card, address="吉林省长春市某路1号", phone="13800000000", actor=world.cardholder
        )


def test_it_refuses_to_dispatch_a_card_not_yet_at_an_outlet(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.PRODUCED)
    req = mail_request_create(
        card=card, address="吉林省长春市某路1号", phone="13800000000", actor=world.cardholder
    )
    upload_all(world, req)
    mail_request_approve(request=req, actor=world.centre_clerk)
    with pytest.raises(StateError, match="配送到发放网点"):
        mail_dispatch(request=req, tracking_no="1234567890123", actor=world.centre_clerk)
    with pytest.raises(ValidationError, match="运单号"):
        mail_dispatch(request=req, tracking_no="12345", actor=world.centre_clerk)


def test_it_serves_a_proof_only_to_the_holder_and_the_centre(client, world, req) -> None:
    upload_all(world, req)
    proof = LivenessProof.objects.get(kind="id_photo")
    client.force_login(world.cardholder)
    own = client.get(f"/cards/mail/proofs/{proof.pk}/")
    # reading the whole stream closes the file the way a WSGI server would
    assert b"".join(own.streaming_content) == JPEG
    client.force_login(world.centre_clerk)
    seen = client.get(f"/cards/mail/proofs/{proof.pk}/")
    assert seen.status_code == 200 and b"".join(seen.streaming_content) == JPEG
    client.force_login(world.bank_clerk)
    assert client.get(f"/cards/mail/proofs/{proof.pk}/").status_code == 403


def test_it_runs_a_mail_request_from_the_pages(client, world, card) -> None:
    client.force_login(world.cardholder)
    assert "申请邮寄" in client.get("/cards/mail/").content.decode()
    client.post(
        "/cards/mail/",
        {"step": "request", "card": card.pk, "address": "吉林省长春市幸福路8号", "phone": "13800000000"},
    )
    req = card.mail_requests.get()
    for kind, f in files().items():
        client.post("/cards/mail/", {"step": "upload", "request": req.pk, "kind": kind, "file": f})
    assert req.proofs.count() == 3
    client.force_login(world.centre_clerk)
    listing = client.get("/cards/mail/review/").content.decode()
    assert world.person_a.name in listing
    client.post(f"/cards/mail/{req.pk}/", {"step": "approve"})
    client.post(f"/cards/mail/{req.pk}/", {"step": "dispatch", "tracking_no": "EA123456789CN"})
    req.refresh_from_db()
    assert req.state == MailState.DISPATCHED
    assert "EA123456789CN" in client.get(f"/cards/mail/{req.pk}/").content.decode()
