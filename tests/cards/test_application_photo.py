"""Item 2: the photo taken at the window is kept with the application and shown only within scope."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.cards.models import Card, CardApplication, DeliveryMode
from shebao.cards.services import LossKind, card_apply, card_replace, card_report_loss
from shebao.core.errors import ValidationError

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _apply(world, photo):  # type: ignore[no-untyped-def]
    return card_apply(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.OUTLET_PICKUP,
        outlet=world.outlet_a,
        photo=photo,
        actor=world.centre_clerk,
    )


def test_it_keeps_the_photo_with_the_application(world) -> None:
    card = _apply(world, SimpleUploadedFile("me.png", PNG))
    app = CardApplication.objects.get(pk=card.application_id)
    assert app.photo.name.endswith(f"{app.pk}.png")
    with app.photo.open("rb") as fh:
        assert fh.read() == PNG


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("me.gif", b"GIF89a" + b"\x00" * 10, "只能是 jpg 或 png"),
        ("me.jpg", PNG, "内容与扩展名.jpg不符"),
        ("me.jpg", b"", "是空的"),
    ],
)
def test_it_refuses_a_file_that_is_not_a_photo(world, name, data, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        _apply(world, SimpleUploadedFile(name, data))
    assert not Card.objects.exists() and not CardApplication.objects.exists()


def test_a_replacement_keeps_the_photo(world) -> None:
    from tests.cards.factories import make_card

    first = _apply(world, SimpleUploadedFile("me.jpg", JPEG))
    Card.objects.filter(pk=first.pk).delete()
    old = make_card(
        world.person_a, world.bank_a, "issued", outlet=world.outlet_a, application=first.application
    )
    card_report_loss(card=old, kind=LossKind.FORMAL, actor=world.centre_clerk)
    new = card_replace(card=old, actor=world.centre_clerk)
    assert new.application.photo.name == first.application.photo.name


def test_the_window_form_needs_a_photo_and_the_card_page_shows_it(client, world) -> None:
    client.force_login(world.centre_clerk)
    data = {"ssn": world.person_a.ssn, "bank": world.bank_a.pk, "generation": 3, "delivery": "outlet_pickup"}
    data["outlet"] = world.outlet_a.pk
    page = client.post(reverse("cards:apply"), data).content.decode()
    assert "这个字段是必填项" in page or "必填" in page
    assert not Card.objects.exists()

    client.post(reverse("cards:apply"), {**data, "photo": SimpleUploadedFile("me.jpg", JPEG)})
    card = Card.objects.get()
    url = reverse("cards:application_photo", args=[card.application_id])
    assert url in client.get(reverse("cards:detail", args=[card.pk])).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG

    client.force_login(world.unit_clerk)  # the applicant's unit may see it
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    from tests.factories import UserFactory

    client.force_login(UserFactory(role="unit_clerk", region=None, employer=world.unit_b))
    assert client.get(url).status_code == 403
