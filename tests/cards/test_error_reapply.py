"""信息有误: a recalled error card leads to a new card with the corrected data, linked to the error card."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shebao.audit.models import AuditLog
from shebao.cards.models import Card, CardApplication, CardState, DeliveryMode
from shebao.cards.services import card_recall, error_card_reapply
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from tests.cards.factories import make_card

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def error_card(world):
    application = CardApplication.objects.create(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.OUTLET_PICKUP,
        outlet=world.outlet_a,
        created_by=world.centre_clerk,
    )
    card = make_card(
        world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a, application=application
    )
    card_recall(
        card=card, kind="error", reason="姓名错印为王晓明", outlet=world.outlet_a, actor=world.bank_clerk
    )
    card.refresh_from_db()
    return card


def test_it_applies_for_a_new_card_linked_to_the_error_card(world, error_card) -> None:
    new = error_card_reapply(
        card=error_card, correction="姓名“王晓明”更正为“王小明”", actor=world.centre_clerk
    )
    app = new.application
    assert new.state == CardState.APPLIED and new.replaces_id == error_card.pk
    assert app.reason == CardApplication.Reason.ERROR_CARD and "王小明" in app.correction
    assert (app.delivery, app.outlet_id) == (DeliveryMode.OUTLET_PICKUP, world.outlet_a.pk)
    assert AuditLog.objects.filter(
        action="card.apply", object_id=str(new.pk), new__replaces=error_card.pk
    ).exists()
    with pytest.raises(StateError, match="已重新申领"):
        error_card_reapply(card=error_card, correction="再次", actor=world.centre_clerk)


def test_it_corrects_the_name_in_the_register_and_takes_a_new_photo(world, error_card) -> None:
    photo = SimpleUploadedFile("new.jpg", JPEG, content_type="image/jpeg")
    new = error_card_reapply(
        card=error_card, correction="姓名更正", name="王晓明", photo=photo, actor=world.centre_clerk
    )
    world.person_a.refresh_from_db()
    assert world.person_a.name == "王晓明"
    assert new.application.photo and new.application.photo.name != error_card.application.photo.name


def test_it_refuses_a_card_that_is_not_a_recalled_error_card(world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    with pytest.raises(StateError, match="信息有误卡"):
        error_card_reapply(card=card, correction="姓名", actor=world.centre_clerk)


def test_it_wants_the_correction_and_a_centre_clerk(world, error_card) -> None:
    with pytest.raises(ValidationError, match="更正内容"):
        error_card_reapply(card=error_card, correction=" ", actor=world.centre_clerk)
    with pytest.raises(PermissionDenied):
        error_card_reapply(card=error_card, correction="姓名", actor=world.unit_clerk)
    assert not Card.objects.filter(replaces=error_card).exists()


def test_the_clerk_sees_the_waiting_error_cards_and_applies_from_the_page(client, world, error_card) -> None:
    client.force_login(world.centre_clerk)
    html = client.get("/cards/recalls/errors/reapply/").content.decode()
    assert error_card.card_no in html and "姓名错印为王晓明" in html
    detail = client.get(f"/cards/{error_card.pk}/").content.decode()
    assert 'id="error-reapply-link"' in detail

    response = client.post(
        "/cards/recalls/errors/reapply/",
        {"card": error_card.pk, "correction": "姓名更正为王小明", "delivery": ""},
    )

    new = Card.objects.get(replaces=error_card)
    assert response.status_code == 302 and response["Location"] == f"/cards/{new.pk}/"
    page = client.get(f"/cards/{new.pk}/").content.decode()
    assert "信息有误重新制卡" in page and "姓名更正为王小明" in page
    html = client.get("/cards/recalls/errors/reapply/").content.decode()
    assert error_card.card_no not in html


def test_the_page_is_the_windows(client, world) -> None:
    client.force_login(world.bank_clerk)
    assert client.get("/cards/recalls/errors/reapply/").status_code == 403
