"""The whole life of a card, clicked through the pages by the role that performs each step."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.cards.models import Card, CardState, Shipment
from tests.cards.test_production import HEAD, good_row


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def _csv(rows) -> SimpleUploadedFile:  # type: ignore[no-untyped-def]
    from shebao.cards.importers import COLUMNS

    buf = io.StringIO()
    buf.write(",".join(HEAD) + "\n")
    for r in rows:
        buf.write(",".join(r.get(k, "") for k in COLUMNS) + "\n")
    return SimpleUploadedFile("回盘.csv", buf.getvalue().encode("utf-8-sig"), content_type="text/csv")


def test_it_applies_produces_ships_receives_and_issues_through_the_pages(client, world) -> None:
    client.force_login(world.centre_clerk)
    resp = client.post(
        reverse("cards:apply"),
        {
            "ssn": world.person_a.ssn,
            "bank": world.bank_a.pk,
            "generation": 3,
            "delivery": "outlet_pickup",
            "outlet": world.outlet_a.pk,
            "photo": SimpleUploadedFile("相片.jpg", b"\xff\xd8\xff\xe0" + b"0" * 64),
        },
    )
    card = Card.objects.get(person=world.person_a)
    assert card.application.photo
    photo = client.get(reverse("cards:application_photo", args=[card.application_id]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    b"".join(photo.streaming_content)
    assert resp.status_code == 302 and card.state == CardState.APPLIED

    client.post(reverse("cards:production"), {"step": "write", "fmt": "xlsx"})
    card.refresh_from_db()
    assert card.state == CardState.IN_PRODUCTION
    download = client.get(reverse("cards:production_file", args=[card.production_batch_id]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    # consuming the stream closes the file, as a WSGI server would
    assert b"".join(download.streaming_content)[:2] == b"PK"  # an xlsx is a zip

    bad = client.post(
        reverse("cards:production"), {"step": "return", "file": _csv([good_row(card, 1, card_no="X")])}
    )
    page = bad.content.decode()
    assert "未写入任何数据" in page and "卡号" in page and bad.context["problems"][0].row == 2
    client.post(reverse("cards:production"), {"step": "return", "file": _csv([good_row(card, 1)])})
    card.refresh_from_db()
    assert card.state == CardState.PRODUCED

    shipments = reverse("cards:shipments")
    assert card.card_no in client.get(f"{shipments}?outlet={world.outlet_a.pk}").content.decode()
    resp = client.post(
        f"{shipments}?outlet={world.outlet_a.pk}",
        {
            "step": "ship",
            "card": [card.pk],
            "boxes": "B001",
            "handed_over_by": "孙库管",
            "received_by": "周柜员",
        },
    )
    shipment = Shipment.objects.get()
    assert resp.status_code == 302
    assert "合作银行社保卡领卡登记表" in client.get(resp.url).content.decode()

    client.force_login(world.bank_clerk)
    client.post(shipments, {"step": "receive", "shipment": shipment.pk, "custodian": "周柜员"})
    card.refresh_from_db()
    assert card.state == CardState.IN_STOCK
    resp = client.post(
        reverse("cards:issue", args=[card.pk]),
        {
            "mode": "personal",
            "receiver_name": world.person_a.name,
            "receiver_ssn": world.person_a.ssn,
            "phone": "13800000000",
            "address": "甲镇1号",
            "form_signed": "on",
        },
    )
    card.refresh_from_db()
    assert resp.status_code == 302 and card.state == CardState.ISSUED
    ledger = client.get(reverse("cards:detail", args=[card.pk])).context["ledger"]
    assert [m.kind for m in ledger] == ["received", "handed_over", "received", "issued"]


def test_it_the_production_page_is_for_the_centre_only(client, world) -> None:
    for user in (world.bank_clerk, world.unit_clerk, world.cardholder):
        client.force_login(user)
        assert client.get(reverse("cards:production")).status_code == 403
        assert client.get(reverse("cards:apply")).status_code == 403


def test_it_a_bank_clerk_cannot_ship_but_sees_shipments_to_their_outlet(client, world) -> None:
    client.force_login(world.bank_clerk)
    resp = client.post(
        reverse("cards:shipments"), {"step": "ship", "handed_over_by": "a", "received_by": "b"}
    )
    assert resp.status_code == 403
