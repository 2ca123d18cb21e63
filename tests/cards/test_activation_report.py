"""Item 11 by file: the bank reports financial activations; each card's account is offered to payments."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.cards.activations import COLUMNS, ActivationFileInvalid, financial_activation_import
from shebao.cards.models import CardAccountOffer, CardState, FinancialChannel
from shebao.core.errors import PermissionDenied
from tests.cards.factories import make_card
from tests.factories import OutletFactory, PersonFactory, UserFactory

HEAD = list(COLUMNS.values())


def _file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEAD)
        w.writerows(rows)
    return path


def _row(card, on: str = "2024-06-01", place: str = "甲银行城关支行") -> list[str]:  # type: ignore[no-untyped-def]
    return [card.card_no, card.person.ssn, card.person.name, on, place]


@pytest.fixture
def issued(world):  # type: ignore[no-untyped-def]
    colleague = PersonFactory(
        region=world.region, employer=world.unit_a, township=world.town_a, name="张小华"
    )
    return [
        make_card(p, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
        for p in (world.person_a, colleague)
    ]


def test_it_activates_every_reported_card_and_offers_its_account(world, issued, tmp_path) -> None:
    path = _file(tmp_path / "act.csv", [_row(c) for c in issued])

    result = financial_activation_import(path=path, actor=world.bank_clerk)

    assert (result.rows, result.activated, result.unchanged) == (2, 2, 0)
    for card in issued:
        card.refresh_from_db()
        assert card.fin_activated_channel == FinancialChannel.BANK_REPORT
        assert (
            card.fin_activated_place == "甲银行城关支行"
            and card.fin_activated_at.date().isoformat() == "2024-06-01"
        )
        offer = CardAccountOffer.objects.get(card=card)
        assert offer.account_no == card.bank_account and offer.state == "offered"
    assert AuditLog.objects.filter(action="card.activate_financial").count() == 2


def test_the_same_file_read_twice_changes_nothing(world, issued, tmp_path) -> None:
    path = _file(tmp_path / "act.csv", [_row(c) for c in issued])
    financial_activation_import(path=path, actor=world.bank_clerk)
    again = financial_activation_import(path=path, actor=world.bank_clerk)
    assert (again.activated, again.unchanged) == (0, 2)
    assert (
        CardAccountOffer.objects.count() == 2
        and AuditLog.objects.filter(action="card.activate_financial").count() == 2
    )


def test_a_bad_file_lists_every_problem_by_row_and_writes_nothing(world, issued, tmp_path) -> None:
    other_bank = make_card(world.person_b, world.bank_b, CardState.ISSUED, outlet=world.outlet_a)
    in_stock = make_card(
        PersonFactory(region=world.region, employer=world.unit_a),
        world.bank_a,
        CardState.IN_STOCK,
        outlet=world.outlet_a,
    )
    third = make_card(
        PersonFactory(region=world.region, employer=world.unit_a),
        world.bank_a,
        CardState.ISSUED,
        outlet=world.outlet_a,
    )
    rows = [
        _row(issued[0]),
        [issued[1].card_no, world.person_b.ssn, "", "2024-06-01", ""],  # not the holder
        _row(issued[0]),  # duplicate
        _row(other_bank),  # another bank's card
        _row(in_stock),  # not issued
        [issued[1].card_no[:5], "", "", "2024-06-01", ""],  # malformed card number
        _row(third, on="2099-01-01"),  # in the future
    ]
    with pytest.raises(ActivationFileInvalid) as caught:
        financial_activation_import(path=_file(tmp_path / "bad.csv", rows), actor=world.bank_clerk)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "社会保障号码"), (4, "卡号"), (5, "卡号"), (6, "卡号"), (7, "卡号"), (8, "激活日期")}
    assert CardAccountOffer.objects.count() == 0
    issued[0].refresh_from_db()
    assert issued[0].fin_activated_at is None


def test_a_missing_column_is_reported(world, tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("卡号,姓名\nA00000001,王小明\n", encoding="utf-8")
    with pytest.raises(ActivationFileInvalid) as caught:
        financial_activation_import(path=path, actor=world.bank_clerk)
    assert {p.column for p in caught.value.problems} == {"社会保障号码", "激活日期"}


def test_only_a_bank_clerk_reports(world, issued, tmp_path) -> None:
    path = _file(tmp_path / "act.csv", [_row(c) for c in issued])
    with pytest.raises(PermissionDenied):
        financial_activation_import(path=path, actor=world.centre_clerk)


def test_the_bank_reads_the_file_from_its_page(client, world, issued, tmp_path) -> None:
    client.force_login(world.bank_clerk)
    assert reverse("cards:activations") in client.get(reverse("cards:search")).content.decode()
    data = _file(tmp_path / "act.csv", [_row(c) for c in issued]).read_bytes()
    response = client.post(
        reverse("cards:activations"), {"file": SimpleUploadedFile("激活.csv", data)}, follow=True
    )
    page = response.content.decode()
    assert "激活金融功能2张" in page and issued[0].card_no in page
    bad = _file(
        tmp_path / "bad.csv", [[issued[0].card_no, world.person_b.ssn, "", "2024-06-01", ""]]
    ).read_bytes()
    page = client.post(
        reverse("cards:activations"), {"file": SimpleUploadedFile("b.csv", bad)}
    ).content.decode()
    assert 'id="problems"' in page and "社会保障号码与该卡持卡人不符" in page


def test_other_roles_cannot_open_the_page(client, world) -> None:
    for user in (world.centre_clerk, world.unit_clerk, world.cardholder):
        client.force_login(user)
        assert client.get(reverse("cards:activations")).status_code == 403


def test_another_banks_clerk_cannot_activate_our_cards(world, issued, tmp_path) -> None:
    outlet_b = OutletFactory(region=world.region, bank=world.bank_b)
    clerk_b = UserFactory(role="bank_clerk", region=None, bank=world.bank_b, outlet=outlet_b)
    with pytest.raises(ActivationFileInvalid, match="激活报送文件有2处错误"):
        financial_activation_import(path=_file(tmp_path / "a.csv", [_row(c) for c in issued]), actor=clerk_b)
