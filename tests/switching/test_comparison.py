"""Comparison (比对): every beneficiary lands in exactly one class, with its reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from shebao.audit.models import AuditLog
from shebao.core.errors import ValidationError
from shebao.people.models import BenefitCategory
from shebao.switching.cardsources import FileCardSource
from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute
from shebao.switching.models import CardExtract, ComparisonResult, ComparisonRun
from shebao.switching.tabular import FileRejected
from tests.factories import PersonFactory
from tests.switching.factories import beneficiary, card_row, write_card_csv, write_card_xlsx

pytestmark = pytest.mark.django_db


def _person(world: Any, name: str, **kw: Any) -> Any:
    return beneficiary(
        PersonFactory(region=world.region, employer=world.unit_a, township=world.town_a, name=name, **kw)
    )


def _run(world: Any, path: Path, actor: Any = None) -> ComparisonRun:
    actor = actor or world.centre_clerk
    extract = card_extract_import(source=FileCardSource(path), actor=actor)
    run = comparison_create(region=world.region, source_description=path.name, actor=actor, extract=extract)
    return comparison_execute(run=run, actor=actor)


def _result(run: ComparisonRun, person: Any) -> ComparisonResult:
    return ComparisonResult.objects.get(run=run, person=person)


def test_it_puts_each_beneficiary_in_its_class(world: Any, tmp_path: Path) -> None:
    activated = beneficiary(world.person_a)
    not_activated = beneficiary(world.person_b)
    no_card = _person(world, "赵无卡")
    unknown = _person(world, "钱不在")
    twice = _person(world, "孙两条")
    lost = _person(world, "周挂失")
    rows = [
        card_row(activated),
        card_row(not_activated, activated=False),
        card_row(no_card, card_no="", account="", activated=False),
        card_row(twice),
        card_row(twice, card_no="B12345678"),
        card_row(lost, state="正式挂失"),
    ]
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", rows))

    assert (_result(run, activated).klass, _result(run, activated).reason) == ("matched_activated", "")
    assert (_result(run, not_activated).klass, _result(run, not_activated).reason) == (
        "matched_not_activated",
        "not_activated",
    )
    assert _result(run, no_card).klass == "matched_no_card"
    assert (_result(run, unknown).klass, _result(run, unknown).reason) == ("not_matched", "ssn_unknown")
    assert (_result(run, twice).klass, _result(run, twice).reason) == ("not_matched", "several_candidates")
    assert (_result(run, lost).klass, _result(run, lost).reason) == (
        "matched_not_activated",
        "card_not_usable",
    )
    assert _result(run, activated).card_record.bank_account == "6228480000000000018"
    assert run.counts == {
        "matched_activated": 1,
        "matched_not_activated": 2,
        "matched_no_card": 1,
        "not_matched": 2,
    }


def test_it_leaves_out_the_dead_and_people_without_a_benefit(world: Any, tmp_path: Path) -> None:
    beneficiary(world.person_a)
    PersonFactory(region=world.region, name="无待遇")  # no benefit category
    dead = _person(world, "已故")
    dead.death_date = dt.date(2025, 1, 1)
    dead.save()
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", [card_row(world.person_a)]))
    assert list(ComparisonResult.objects.filter(run=run).values_list("person_id", flat=True)) == [
        world.person_a.pk
    ]
    assert run.total == 1


@pytest.mark.parametrize(
    ("in_benefit", "in_card"),
    [
        ("王小明", "王 小明"),  # a space typed in the card system
        ("王小明", "王\u3000小明"),  # a full-width space
        ("玛丽Ａ", "玛丽a"),  # full-width and lower-case Latin
        ("买买提·艾力", "买买提.艾力"),
        ("买买提·艾力", "买买提•艾力"),
        ("买买提·艾力", "买买提・艾力"),
        ("买买提·艾力", "买买提．艾力"),
        ("陈建国", "陳建國"),  # traditional characters typed by a bank branch
    ],
)
def test_it_matches_names_that_differ_only_in_writing(
    world: Any, tmp_path: Path, in_benefit: str, in_card: str
) -> None:
    person = _person(world, in_benefit)
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", [card_row(person, name=in_card)]))
    result = _result(run, person)
    assert result.klass == "matched_activated"
    assert result.reason == "name_normalised"
    assert (result.name_in_benefit, result.name_in_card) == (in_benefit, in_card)


def test_it_reports_a_name_that_really_differs_side_by_side(world: Any, tmp_path: Path) -> None:
    person = _person(world, "王小明二")
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", [card_row(person, name="王晓明二")]))
    result = _result(run, person)
    assert (result.klass, result.reason) == ("not_matched", "name_differs")
    assert (result.name_in_benefit, result.name_in_card) == ("王小明二", "王晓明二")


def test_it_counts_each_class_as_stored_after_the_name_check(world: Any, tmp_path: Path) -> None:
    spaced = _person(world, "王小明")
    spaced_not_activated = _person(world, "李小红")
    renamed_not_activated = _person(world, "张大伟")
    plain = _person(world, "赵平")
    rows = [
        card_row(spaced, name="王 小明"),
        card_row(spaced_not_activated, name="李\u3000小红", activated=False),
        card_row(renamed_not_activated, name="张小伟", activated=False),
        card_row(plain),
    ]
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", rows))

    assert (_result(run, spaced).klass, _result(run, spaced).reason) == (
        "matched_activated",
        "name_normalised",
    )
    # a name equal once normalised keeps the card's own reason
    assert (_result(run, spaced_not_activated).klass, _result(run, spaced_not_activated).reason) == (
        "matched_not_activated",
        "not_activated",
    )
    assert (_result(run, renamed_not_activated).klass, _result(run, renamed_not_activated).reason) == (
        "not_matched",
        "name_differs",
    )
    stored = {k: 0 for k in run.counts}
    for klass in ComparisonResult.objects.filter(run=run).values_list("klass", flat=True):
        stored[klass] += 1
    assert run.counts == stored
    assert run.counts["matched_activated"] == 2


def test_it_replaces_the_previous_result_when_run_again(world: Any, tmp_path: Path) -> None:
    person = beneficiary(world.person_a)
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", [card_row(person)]))
    other = _run(world, write_card_xlsx(tmp_path / "other.xlsx", [card_row(person, activated=False)]))
    assert _result(run, person).klass == "matched_activated"

    late = _person(world, "后来者")
    comparison_execute(run=run, actor=world.centre_clerk)

    assert ComparisonResult.objects.filter(run=run).count() == 2
    assert _result(run, late).klass == "not_matched"
    assert ComparisonResult.objects.filter(run=run, person=person).count() == 1
    # results are kept per run: the other run is untouched
    assert _result(other, person).klass == "matched_not_activated"
    assert AuditLog.objects.filter(action="switching.comparison_run", object_id=str(run.pk)).count() == 2


def test_it_checks_the_name_of_a_matched_person_without_a_card_or_with_an_unusable_one(
    world: Any, tmp_path: Path
) -> None:
    no_card_spaced = _person(world, "钱小芳")
    no_card_renamed = _person(world, "孙小芳")
    lost_spaced = _person(world, "周小芳")
    twice_renamed = _person(world, "吴小芳")
    rows = [
        card_row(no_card_spaced, name="钱 小芳", card_no="", account="", activated=False),
        card_row(no_card_renamed, name="孙大芳", card_no="", account="", activated=False),
        card_row(lost_spaced, name="周\u3000小芳", state="正式挂失"),
        card_row(twice_renamed, name="吴大芳"),
        card_row(twice_renamed, name="吴大芳", card_no="B12345678"),
    ]
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", rows))

    def outcome(person: Any) -> tuple[str, str, str]:
        result = _result(run, person)
        return result.klass, result.reason, result.name_in_card

    assert outcome(no_card_spaced) == ("matched_no_card", "name_normalised", "钱 小芳")
    assert outcome(no_card_renamed) == ("not_matched", "name_differs", "孙大芳")
    # the card's own reason is kept: the name is the same once normalised
    assert outcome(lost_spaced) == ("matched_not_activated", "card_not_usable", "周\u3000小芳")
    # several candidates: no record is chosen, so no name is compared
    assert outcome(twice_renamed) == ("not_matched", "several_candidates", "")
    assert run.counts == {
        "matched_activated": 0,
        "matched_not_activated": 1,
        "matched_no_card": 1,
        "not_matched": 2,
    }


def test_a_rerun_keeps_one_partition_per_run_on_postgresql(world: Any, tmp_path: Path) -> None:
    from django.db import connection

    from shebao.switching.comparison import result_partition

    if connection.vendor != "postgresql":
        pytest.skip("the result table is partitioned by run on PostgreSQL only")
    person = _person(world, "分区")
    run = _run(world, write_card_xlsx(tmp_path / "cards.xlsx", [card_row(person)]))
    comparison_execute(run=run, actor=world.centre_clerk)
    comparison_execute(run=run, actor=world.centre_clerk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'switching_comparisonresult'::regclass ORDER BY 1"
        )
        partitions = [row[0] for row in cursor.fetchall()]
    assert partitions == sorted([result_partition(run.pk), "switching_comparisonresult_default"])
    assert ComparisonResult.objects.get(run=run, person=person).klass == "matched_activated"
    # deleting the person still removes the person's results (Django cascades through the parent table)
    person.delete()
    assert not ComparisonResult.objects.filter(run=run).exists()


def test_it_reads_a_gbk_csv_and_imports_the_same_file_once(world: Any, tmp_path: Path) -> None:
    person = beneficiary(world.person_a)
    path = write_card_csv(tmp_path / "cards.csv", [card_row(person)], encoding="gbk")
    first = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    again = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    assert first.pk == again.pk
    assert CardExtract.objects.count() == 1
    assert first.records.get().name == person.name


def test_it_refuses_a_file_with_bad_cells_naming_each_and_importing_nothing(
    world: Any, tmp_path: Path
) -> None:
    person = beneficiary(world.person_a)
    rows = [card_row(person), card_row(person, ssn="110101199001011234"), card_row(person, activated=False)]
    rows[2][6] = "也许"
    path = write_card_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(FileRejected) as caught:
        card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    where = [(p.row, p.column) for p in caught.value.problems]
    assert where == [(3, "社会保障号码"), (4, "金融功能已激活")]
    assert CardExtract.objects.count() == 0


def test_it_refuses_a_file_without_the_needed_headers(world: Any, tmp_path: Path) -> None:
    path = write_card_xlsx(tmp_path / "bad.xlsx", [["x", "y"]], headers=["编号", "备注"])
    with pytest.raises(ValidationError, match="社会保障号码、姓名"):
        card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)


def test_it_runs_from_the_command_line(world: Any, tmp_path: Path, capsys: Any) -> None:
    beneficiary(world.person_a, BenefitCategory.ENTERPRISE_RETIREE)
    path = write_card_xlsx(tmp_path / "cards.xlsx", [card_row(world.person_a)])
    call_command("compare", "--card-file", str(path), "--region", world.region.code)
    out = capsys.readouterr().out
    assert "共1人" in out
    assert "比对成功，已制卡并激活金融功能：1" in out
    assert ComparisonRun.objects.get().state == "done"


def test_the_migration_marks_the_records_sharing_an_ssn_in_extracts_imported_before(world: Any) -> None:
    import importlib

    from django.db import connection

    from shebao.switching.models import CardSystemRecord

    migration = importlib.import_module("shebao.switching.migrations.0002_comparison_sources_and_speed")
    extract = CardExtract.objects.create(source="old.xlsx", checksum="1" * 64, row_count=3)
    first, second, alone = CardSystemRecord.objects.bulk_create(
        CardSystemRecord(extract=extract, ssn=ssn, name="某", row_no=i)
        for i, ssn in enumerate([world.person_a.ssn, world.person_a.ssn, world.person_b.ssn], start=2)
    )

    class Editor:  # the one method of a schema editor the data step uses
        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.mark_existing(None, Editor())
    marks = dict(CardSystemRecord.objects.values_list("pk", "candidates"))
    firsts = dict(CardSystemRecord.objects.values_list("pk", "is_first"))
    assert marks == {first.pk: 2, second.pk: 2, alone.pk: 1}
    assert firsts == {first.pk: True, second.pk: False, alone.pk: True}


def test_its_quick_name_key_is_normalize_name_for_every_han_character_and_space() -> None:
    from shebao.core.values.names import normalize_name
    from shebao.switching.comparison import _PLAIN_NAME, _normal

    # normalize_name works character by character on such names (nothing composes with a CJK ideograph), so
    # checking every character of the quick path's class checks every name made of them.
    singles = [chr(c) for c in range(0x4E00, 0xA000)] + [" ", "\u3000"]
    assert all(_PLAIN_NAME.fullmatch(ch) for ch in singles)
    assert [ch for ch in singles if _normal(ch, {}) != normalize_name(ch)] == []
    for name in ["陳 小\u3000明\u3000", "  張三", "王五", "买买提·艾力", "Zhang San", "ＡＢ陳", "陳\t明", "陳\u200b明"]:
        assert _normal(name, {}) == normalize_name(name), name
