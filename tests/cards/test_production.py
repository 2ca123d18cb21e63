from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from shebao.audit.models import AuditLog
from shebao.cards.importers import COLUMNS, Problem, ReturnFileInvalid
from shebao.cards.models import (
    Card,
    CardApplication,
    CardMovement,
    CardState,
    DeliveryMode,
    ProductionReturnFile,
)
from shebao.cards.selectors import stock_by_location
from shebao.cards.services import card_apply, production_file_write, production_return_import
from shebao.core.errors import ValidationError
from shebao.core.values.bank import make_card_uid
from tests.cards.factories import account_no, photograph_waiting
from tests.factories import PersonFactory

HEAD = list(COLUMNS.values())


def write_return(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEAD)
        for r in rows:
            w.writerow([r.get(k, "") for k in COLUMNS])
    return path


def good_row(card: Card, n: int, **over: str) -> dict[str, str]:
    row = {
        "card_no": f"K{n:08d}",
        "ssn": card.person.ssn,
        "name": card.person.name,
        "issue_date": "2024-05-16",
        "expiry_date": "2034-05-16",
        "card_uid": make_card_uid("341521", n),
        "bank_code": card.bank.code,
        "bank_account": account_no(n),
        "box_position": f"B001-{n:03d}",
    }
    row.update(over)
    return row


@pytest.fixture
def in_production(world, tmp_path):
    a = card_apply(
        person=world.person_a,
        bank=world.bank_a,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )
    b = card_apply(
        person=world.person_b,
        bank=world.bank_b,
        delivery=DeliveryMode.UNIT_COLLECTIVE,
        actor=world.centre_clerk,
    )
    photograph_waiting()
    batch = production_file_write(actor=world.centre_clerk, directory=tmp_path)
    a.refresh_from_db()
    b.refresh_from_db()
    return batch, a, b


def test_it_writes_the_production_file_and_moves_cards_to_production(world, tmp_path, in_production) -> None:
    batch, a, b = in_production
    assert a.state == b.state == CardState.IN_PRODUCTION
    assert batch.card_count == 2
    text = (tmp_path / batch.file_name).read_text(encoding="utf-8-sig")
    assert world.person_a.ssn in text and world.person_b.ssn in text and "社会保障号码" in text
    with pytest.raises(ValidationError, match="没有待制卡"):
        production_file_write(actor=world.centre_clerk, directory=tmp_path)


def test_it_reads_a_good_return_file_into_the_centre_vault(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    path = write_return(
        tmp_path / "return.csv",
        [
            good_row(a, 1),
            good_row(
                b,
                2,
                card_no="",
                card_uid="",
                bank_account="",
                issue_date="",
                expiry_date="",
                failure_stage="银行",
                failure_reason="身份信息核查不通过",
            ),
        ],
    )
    result = production_return_import(path=path, actor=world.centre_clerk)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (result.file.produced_count, result.file.failed_count) == (1, 1)
    assert a.state == CardState.PRODUCED and a.card_no == "K00000001" and a.box_position == "B001-001"
    assert a.application.state == CardApplication.State.COMPLETED
    assert b.state == CardState.PRODUCTION_FAILED
    assert b.application.state == CardApplication.State.RETURNED
    assert b.application.failure_reason == "身份信息核查不通过" and b.application.failure_stage == "bank"
    stock = {s["location"].name: s["in_stock"] for s in stock_by_location(world.centre_clerk)}
    assert stock == {"寿县社保卡中心库房": 1}


def test_it_fills_a_missing_expiry_from_the_ten_year_rule(world, tmp_path, in_production, settings) -> None:
    _, a, _ = in_production
    settings.SHEBAO_CARD_VALID_YEARS = 5
    path = write_return(tmp_path / "r.csv", [good_row(a, 1, expiry_date="")])
    production_return_import(path=path, actor=world.centre_clerk)
    a.refresh_from_db()
    assert str(a.expiry_date) == "2029-05-16"


def test_it_lists_every_problem_by_row_and_column_and_writes_nothing(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    path = write_return(
        tmp_path / "bad.csv",
        [
            good_row(a, 1, card_no="K12", name="王大明"),
            good_row(b, 2, card_uid="123", bank_code=world.bank_a.code, issue_date="2024-13-40"),
            good_row(b, 3, ssn="110101199003071234"),
            good_row(a, 4, failure_stage="卡厂"),
        ],
    )
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(path=path, actor=world.centre_clerk)
    found = {(p.row, p.column) for p in exc.value.problems}
    assert {(2, "卡号"), (3, "卡识别码"), (3, "发卡日期"), (4, "社会保障号码"), (5, "失败原因")} <= found
    assert "未写入任何数据" in exc.value.message
    assert Card.objects.filter(state=CardState.IN_PRODUCTION).count() == 2
    assert not CardMovement.objects.exists()
    assert not ProductionReturnFile.objects.exists()


def test_it_reports_name_and_bank_mismatches_against_the_database(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    path = write_return(
        tmp_path / "bad.csv", [good_row(a, 1, name="王大明"), good_row(b, 2, bank_code=world.bank_a.code)]
    )
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(path=path, actor=world.centre_clerk)
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {(2, "姓名"), (3, "银行代码")}


def test_it_reading_the_same_file_twice_changes_nothing(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    path = write_return(tmp_path / "r.csv", [good_row(a, 1), good_row(b, 2)])
    first = production_return_import(path=path, actor=world.centre_clerk)
    counts = (CardMovement.objects.count(), AuditLog.objects.count())
    second = production_return_import(path=path, actor=world.centre_clerk)
    assert second.already_read and second.file == first.file
    assert (CardMovement.objects.count(), AuditLog.objects.count()) == counts


def test_it_a_row_already_applied_by_another_file_is_unchanged(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    production_return_import(
        path=write_return(tmp_path / "1.csv", [good_row(a, 1)]), actor=world.centre_clerk
    )
    moves = CardMovement.objects.count()
    result = production_return_import(
        path=write_return(tmp_path / "2.csv", [good_row(a, 1), good_row(b, 2)]), actor=world.centre_clerk
    )
    assert (result.file.produced_count, result.file.unchanged_count) == (1, 1)
    assert CardMovement.objects.count() == moves + 1


def test_it_refuses_a_card_number_another_card_already_has(world, tmp_path, in_production) -> None:
    _, a, b = in_production
    production_return_import(
        path=write_return(tmp_path / "1.csv", [good_row(a, 1)]), actor=world.centre_clerk
    )
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(
            path=write_return(tmp_path / "2.csv", [good_row(b, 2, card_no="K00000001")]),
            actor=world.centre_clerk,
        )
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "卡号")]


def test_it_reads_an_xlsx_return_file(world, tmp_path, in_production) -> None:
    import xlsxwriter

    _, a, _ = in_production
    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEAD)
    row = good_row(a, 7)
    ws.write_row(1, 0, [row.get(k, "") for k in COLUMNS])
    wb.close()
    production_return_import(path=path, actor=world.centre_clerk)
    a.refresh_from_db()
    assert a.state == CardState.PRODUCED and a.card_no == "K00000007"


def test_it_a_failed_application_can_be_resubmitted(world, tmp_path, in_production) -> None:
    from shebao.cards.services import application_resubmit

    _, _, b = in_production
    row = good_row(b, 2, card_no="", failure_stage="卡厂", failure_reason="照片不合格")
    production_return_import(path=write_return(tmp_path / "r.csv", [row]), actor=world.centre_clerk)
    b.refresh_from_db()
    card = application_resubmit(application=b.application, actor=world.centre_clerk)
    assert card.state == CardState.APPLIED
    assert CardApplication.objects.get(pk=b.application_id).state == CardApplication.State.ACCEPTED


def test_it_a_replacement_card_gets_a_new_number(world, tmp_path) -> None:
    from shebao.cards.services import LossKind, card_replace, card_report_loss
    from tests.cards.factories import make_card, photograph_waiting

    person = PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a)
    old = make_card(person, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    card_report_loss(card=old, kind=LossKind.FORMAL, actor=world.centre_clerk)
    new = card_replace(card=old, actor=world.centre_clerk, delivery=DeliveryMode.UNIT_COLLECTIVE)
    photograph_waiting()
    production_file_write(actor=world.centre_clerk, directory=tmp_path)
    new.refresh_from_db()
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(
            path=write_return(tmp_path / "r.csv", [good_row(new, 9, card_no=old.card_no)]),
            actor=world.centre_clerk,
        )
    assert [(p.column, p.message) for p in exc.value.problems] == [
        ("卡号", f"卡号 {old.card_no} 已被其他社保卡使用")
    ]


@pytest.fixture
def many_in_production(world, tmp_path):
    people = [
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a) for _ in range(5)
    ]
    cards = [
        card_apply(
            person=p, bank=world.bank_a, delivery=DeliveryMode.UNIT_COLLECTIVE, actor=world.centre_clerk
        )
        for p in people
    ]
    photograph_waiting()
    production_file_write(actor=world.centre_clerk, directory=tmp_path)
    for c in cards:
        c.refresh_from_db()
    return cards


def test_it_streams_a_file_in_chunks_and_finds_duplicates_across_chunks(
    world, tmp_path, many_in_production, monkeypatch
) -> None:
    from shebao.cards import importers

    monkeypatch.setattr(importers, "_CHUNK", 2)
    cards = many_in_production
    rows = [good_row(c, n) for n, c in enumerate(cards, start=1)]
    dup = write_return(tmp_path / "dup.csv", [*rows[:4], good_row(cards[0], 9)])
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(path=dup, actor=world.centre_clerk)
    assert [(p.row, p.column, p.message) for p in exc.value.problems] == [(6, "社会保障号码", "与第2行重复")]
    result = production_return_import(path=write_return(tmp_path / "ok.csv", rows), actor=world.centre_clerk)
    assert result.file.produced_count == 5
    assert Card.objects.filter(state=CardState.PRODUCED).count() == 5
    assert CardMovement.objects.filter(kind=CardMovement.Kind.RECEIVED).count() == 5


def test_it_reads_a_gbk_encoded_file(world, tmp_path, in_production) -> None:
    _, a, _ = in_production
    path = tmp_path / "gbk.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEAD)
        row = good_row(a, 3)
        w.writerow([row.get(k, "") for k in COLUMNS])
    production_return_import(path=path, actor=world.centre_clerk)
    a.refresh_from_db()
    assert a.state == CardState.PRODUCED


def test_it_refuses_the_file_when_a_card_moved_between_validation_and_writing(
    world, tmp_path, in_production, monkeypatch
) -> None:
    from shebao.audit.models import AuditLog
    from shebao.cards import importers
    from shebao.core.errors import StateError

    _, a, b = in_production
    path = write_return(tmp_path / "race.csv", [good_row(a, 1), good_row(b, 2)])
    real_match = importers.match_staged

    def match_then_someone_moves_b(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_match(*args, **kwargs)
        Card.objects.filter(pk=b.pk).update(state=CardState.PRODUCTION_FAILED)

    monkeypatch.setattr(importers, "match_staged", match_then_someone_moves_b)
    before = AuditLog.objects.count()

    with pytest.raises(StateError, match="他人修改"):
        production_return_import(path=path, actor=world.centre_clerk)

    a.refresh_from_db()
    assert a.state == CardState.IN_PRODUCTION and a.card_no is None
    assert not CardMovement.objects.exists() and AuditLog.objects.count() == before


def test_it_lists_at_most_a_thousand_problems_and_writes_nothing(world, tmp_path, in_production) -> None:
    from shebao.core.values.ssn import make_ssn

    _, a, _ = in_production
    strangers = [
        good_row(a, n, ssn=make_ssn("340422", date(1950, 1, 1) + timedelta(days=n), n % 1000))
        for n in range(1, 1006)
    ]
    with pytest.raises(ReturnFileInvalid) as exc:
        production_return_import(
            path=write_return(tmp_path / "strangers.csv", [good_row(a, 2000), *strangers]),
            actor=world.centre_clerk,
        )
    assert len(exc.value.problems) == 1000
    assert exc.value.problems[0] == Problem(3, "社会保障号码", "系统中没有这个人员")
    assert not CardMovement.objects.exists() and not ProductionReturnFile.objects.exists()
