"""Item 2: the production batch goes to the card factory as one zip, with every applicant's photo."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.cards.models import Card, CardApplication, CardState, DeliveryMode
from shebao.cards.services import application_photo_attach, card_apply, production_file_write
from shebao.core.errors import StateError, ValidationError
from tests.factories import PersonFactory, RegionFactory, UserFactory

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 10


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path / "data"


def _apply(world: Any, person: Any, photo: Any = None) -> Card:
    return card_apply(
        person=person,
        bank=world.bank_a,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        photo=photo,
        actor=world.centre_clerk,
    )


@pytest.fixture
def batch(world):  # type: ignore[no-untyped-def]
    a = _apply(world, world.person_a, SimpleUploadedFile("a.jpg", JPEG))
    b = _apply(world, world.person_b, SimpleUploadedFile("b.png", PNG))
    return production_file_write(actor=world.centre_clerk), a, b


def _download(client: Any, user: Any, pk: int) -> Any:
    client.force_login(user)
    return client.get(reverse("cards:production_file", args=[pk]))


def _zip(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_it_packs_the_data_file_and_every_photo_in_one_zip(client, world, batch) -> None:
    production, a, b = batch
    response = _download(client, world.centre_clerk, production.pk)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    expected = quote(production.file_name.removesuffix(".csv") + ".zip")
    assert response["Content-Disposition"].endswith(expected)
    zf = _zip(response)
    ssn_a, ssn_b = world.person_a.ssn, world.person_b.ssn
    assert zf.namelist() == [production.file_name, f"photos/{ssn_a}.jpg", f"photos/{ssn_b}.png"]
    assert zf.read(f"photos/{ssn_a}.jpg") == JPEG and zf.read(f"photos/{ssn_b}.png") == PNG
    rows = list(csv.reader(io.StringIO(zf.read(production.file_name).decode("utf-8-sig"))))
    assert rows[0][-1] == "相片文件" and rows[0][:3] == ["序号", "申领编号", "社会保障号码"]
    assert [(r[2], r[-1]) for r in rows[1:]] == [
        (ssn_a, f"photos/{ssn_a}.jpg"),
        (ssn_b, f"photos/{ssn_b}.png"),
    ]
    log = AuditLog.objects.get(action="card.production_download")
    assert log.actor == world.centre_clerk and log.object_id == str(production.pk)


def test_the_same_batch_gives_the_same_bytes(client, world, batch) -> None:
    production, _, _ = batch
    first = b"".join(_download(client, world.centre_clerk, production.pk).streaming_content)
    second = b"".join(_download(client, world.centre_clerk, production.pk).streaming_content)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(first)).infolist()} != {(1980, 1, 1, 0, 0, 0)}
    assert AuditLog.objects.filter(action="card.production_download").count() == 2


def test_an_xlsx_batch_carries_the_photo_column_too(client, world) -> None:
    _apply(world, world.person_a, SimpleUploadedFile("a.jpg", JPEG))
    production = production_file_write(actor=world.centre_clerk, fmt="xlsx")
    zf = _zip(_download(client, world.centre_clerk, production.pk))
    book = zipfile.ZipFile(io.BytesIO(zf.read(production.file_name)))
    text = "".join(
        book.read(n).decode() for n in book.namelist() if n.startswith("xl/") and n.endswith(".xml")
    )
    assert "相片文件" in text and f"photos/{world.person_a.ssn}.jpg" in text


@pytest.mark.parametrize("persona", ["supervisor", "bank_clerk", "unit_clerk", "auditor"])
def test_a_role_that_does_not_make_cards_cannot_download(client, world, batch, persona) -> None:
    production, _, _ = batch
    assert _download(client, getattr(world, persona), production.pk).status_code == 403
    assert not AuditLog.objects.filter(action="card.production_download").exists()


def test_a_centre_clerk_of_another_county_cannot_download(client, world, batch) -> None:
    from shebao.accounts.roles import Role

    production, _, _ = batch
    stranger = UserFactory(
        username="elsewhere", role=Role.CENTRE_CLERK, region=RegionFactory(code="341522", name="霍邱县")
    )
    assert _download(client, stranger, production.pk).status_code == 403


def test_an_application_without_a_photo_waits_instead_of_going_to_the_factory(client, world) -> None:
    with_photo = _apply(world, world.person_a, SimpleUploadedFile("a.jpg", JPEG))
    without = _apply(world, world.person_b)
    production = production_file_write(actor=world.centre_clerk)
    with_photo.refresh_from_db()
    without.refresh_from_db()
    assert production.card_count == 1
    assert with_photo.state == CardState.IN_PRODUCTION and without.state == CardState.APPLIED

    client.force_login(world.centre_clerk)
    page = client.get(reverse("cards:production")).content.decode()
    assert 'id="photo-table"' in page and "李小红" in page and "待补采相片" in page

    with pytest.raises(ValidationError, match="1张申领缺少相片"):
        production_file_write(actor=world.centre_clerk)

    response = client.post(
        reverse("cards:production"),
        {"step": "photo", "application": without.application_id, "photo": SimpleUploadedFile("b.jpg", JPEG)},
        follow=True,
    )
    assert "已补采李小红的相片" in response.content.decode()
    assert AuditLog.objects.filter(action="card.application_photo").count() == 1
    second = production_file_write(actor=world.centre_clerk)
    zf = _zip(_download(client, world.centre_clerk, second.pk))
    assert zf.namelist() == [second.file_name, f"photos/{world.person_b.ssn}.jpg"]


def test_a_photo_cannot_be_swapped_once_the_card_is_at_the_factory(world, batch) -> None:
    _, a, _ = batch
    application = CardApplication.objects.get(pk=a.application_id)
    with pytest.raises(StateError, match="已送制卡"):
        application_photo_attach(
            application=application, photo=SimpleUploadedFile("c.jpg", JPEG), actor=world.centre_clerk
        )


def test_an_old_batch_without_photos_still_downloads_with_an_empty_column(client, world) -> None:
    person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    card = _apply(world, person, SimpleUploadedFile("a.jpg", JPEG))
    production = production_file_write(actor=world.centre_clerk)
    # a batch written before photos were kept: its application's photo is gone from the record
    CardApplication.objects.filter(pk=card.application_id).update(photo="")
    zf = _zip(_download(client, world.centre_clerk, production.pk))
    assert zf.namelist() == [production.file_name]


def test_a_card_sent_again_keeps_its_photo_in_the_first_batchs_zip(client, world, batch, tmp_path) -> None:
    """The zip follows the data file the factory got: a failed card resubmitted into a later batch is
    still a line of the first one, so the first batch's zip (and its bytes) do not change."""
    from shebao.cards.services import application_resubmit, production_return_import
    from tests.cards.test_production import good_row, write_return

    production, a, b = batch
    before = b"".join(_download(client, world.centre_clerk, production.pk).streaming_content)
    failed_row = good_row(
        b, 2, card_no="", card_uid="", bank_account="", issue_date="", expiry_date="", box_position=""
    )
    failed = write_return(
        tmp_path / "ret.csv",
        [good_row(a, 1), {**failed_row, "failure_stage": "卡厂", "failure_reason": "相片不清晰"}],
    )
    production_return_import(path=failed, actor=world.centre_clerk)
    application_resubmit(application=CardApplication.objects.get(pk=b.application_id), actor=world.centre_clerk)
    second = production_file_write(actor=world.centre_clerk)
    assert Card.objects.filter(production_batch=production).count() == 1  # b moved to the second batch
    after = b"".join(_download(client, world.centre_clerk, production.pk).streaming_content)
    assert after == before
    zf = zipfile.ZipFile(io.BytesIO(after))
    assert f"photos/{world.person_b.ssn}.png" in zf.namelist()
    assert _zip(_download(client, world.centre_clerk, second.pk)).namelist()[1:] == [
        f"photos/{world.person_b.ssn}.png"
    ]
