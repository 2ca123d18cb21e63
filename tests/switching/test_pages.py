"""The 账户切换 pages, through the browser's eyes: who sees what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.switching.models import ComparisonRun, VerificationForm
from tests.factories import PersonFactory
from tests.switching.factories import beneficiary, card_row, write_card_xlsx

pytestmark = pytest.mark.django_db


def test_it_shows_the_section_by_role(world: Any, client: Any) -> None:
    client.force_login(world.centre_clerk)
    home = client.get(reverse("home")).content.decode()
    assert "账户切换" in home and "核实反馈表" in home and "本单位核实反馈表" not in home
    client.force_login(world.unit_clerk)
    home = client.get(reverse("home")).content.decode()
    assert "本单位核实反馈表" in home and "比对" not in home
    for name in ("switching:runs", "switching:forms", "switching:changes"):
        assert client.get(reverse(name)).status_code == 403


def test_it_compares_an_uploaded_card_file_and_shows_names_side_by_side(
    world: Any, client: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    beneficiary(world.person_a)
    other = beneficiary(
        PersonFactory(region=world.region, employer=world.unit_b, township=world.town_b, name="阿不都·热合曼")
    )
    path = write_card_xlsx(
        tmp_path / "卡系统.xlsx", [card_row(world.person_a), card_row(other, name="阿不都热合曼")]
    )
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("switching:runs"), {"card_file": SimpleUploadedFile("卡系统.xlsx", path.read_bytes())}
        )
    run = ComparisonRun.objects.get()
    assert response.url == reverse("switching:run", args=[run.pk])
    assert run.state == "done"
    page = client.get(reverse("switching:run", args=[run.pk]) + "?klass=not_matched").content.decode()
    assert "阿不都·热合曼" in page and "阿不都热合曼" in page and "姓名不一致" in page
    assert world.person_a.name not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("switching:run_rerun", args=[run.pk]))
    run.refresh_from_db()
    assert run.counts["matched_activated"] == 1 and run.total == 2
    # the auditor reads, but does not start comparisons
    client.force_login(world.auditor)
    assert client.get(reverse("switching:run", args=[run.pk])).status_code == 200
    assert client.post(reverse("switching:runs")).status_code == 403


def test_it_generates_and_lists_forms_for_the_centre_and_the_units_own(world: Any, client: Any) -> None:
    beneficiary(world.person_a)
    beneficiary(world.person_b)
    client.force_login(world.centre_clerk)
    client.post(reverse("switching:forms"))
    assert VerificationForm.objects.count() == 2
    listing = client.get(reverse("switching:forms")).content.decode()
    assert "甲单位" in listing and "乙单位" in listing
    client.force_login(world.unit_clerk)
    mine = client.get(reverse("switching:my_forms")).content.decode()
    assert "甲单位" in mine and "乙单位" not in mine
    form = VerificationForm.objects.get(employer=world.unit_a)
    detail = client.get(reverse("switching:form", args=[form.pk])).content.decode()
    assert "下载电子表" in detail and world.person_a.name in detail and world.person_b.name not in detail


def test_it_shows_why_a_card_file_was_refused(
    world: Any, client: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    beneficiary(world.person_a)
    path = write_card_xlsx(tmp_path / "bad.xlsx", [card_row(world.person_a, ssn="110101199001011234")])
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("switching:runs"), {"card_file": SimpleUploadedFile("bad.xlsx", path.read_bytes())}
        )
    run = ComparisonRun.objects.get()
    assert (run.state, run.extract) == ("failed", None)
    page = client.get(response.url).content.decode()
    assert "第2行【社会保障号码】" in page


def test_the_failure_list_is_not_confused_with_the_payments_one(world: Any, client: Any) -> None:
    client.force_login(world.centre_clerk)
    home = client.get(reverse("home")).content.decode()
    assert "换卡失败反馈" in home and "切换后发放失败" not in home
    page = client.get(reverse("switching:failures")).content.decode()
    assert "<title>换卡失败反馈 - " in page
