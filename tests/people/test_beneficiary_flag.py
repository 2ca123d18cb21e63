"""Person.is_beneficiary: every writer of person categories keeps it equal to "has a category".

The comparison reads its beneficiaries by this flag (shebao/switching/comparison.py) instead of a semi-join on
the category table, so a writer that forgot it would silently leave a beneficiary out of a comparison, or
put a non-beneficiary in.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db.models import Exists, F, OuterRef

from shebao.people.models import Person, PersonCategory
from shebao.people.services import beneficiary_flags_refresh, person_create, persons_import
from tests.people import write_csv
from tests.people.test_import_persons import HEADER, new_ssn, rows_for


def wrong_flags() -> list[tuple[str, bool]]:
    has = Exists(PersonCategory.objects.filter(person_id=OuterRef("pk")))
    return list(
        Person.objects.annotate(has=has).exclude(is_beneficiary=F("has")).values_list("ssn", "is_beneficiary")
    )


def flag(ssn: str) -> bool:
    return Person.objects.get(ssn=ssn).is_beneficiary


def test_person_create_sets_it_from_the_categories(world: Any) -> None:
    with_category = person_create(
        actor=world.centre_clerk, region=world.region, ssn=new_ssn(21), name="周一", categories=["survivor"]
    )
    without = person_create(actor=world.centre_clerk, region=world.region, ssn=new_ssn(22), name="周二")

    assert (flag(with_category.ssn), flag(without.ssn)) == (True, False)
    assert wrong_flags() == []


def test_the_import_sets_it_for_new_persons_and_when_it_replaces_categories(
    world: Any, tmp_path: Path
) -> None:
    persons_import(
        actor=world.centre_clerk, path=write_csv(tmp_path / "a.csv", rows_for(world)), file_name="a.csv"
    )
    assert (flag(new_ssn(1)), flag(new_ssn(2)), flag(new_ssn(3))) == (True, True, False)
    assert wrong_flags() == []

    # person_a had no category: one given; new_ssn(1) changes only its phone (blank category cell: kept);
    # new_ssn(2)'s categories are replaced by another; new_ssn(3) still has none.
    rows = [
        HEADER,
        [world.person_a.ssn, world.person_a.name, "", "", "", "", "离休干部"],
        [new_ssn(1), "赵大海", "", "13800000099", "", "", ""],
        [new_ssn(2), "买买提·艾力", "", "", "", "", "工伤待遇领取人员"],
        [new_ssn(3), "钱小芳", "", "13800000098", "", "", ""],
    ]
    result = persons_import(
        actor=world.centre_clerk, path=write_csv(tmp_path / "b.csv", rows), file_name="b.csv"
    )

    assert result.updated == 4
    assert flag(world.person_a.ssn) is True
    assert (flag(new_ssn(1)), flag(new_ssn(2)), flag(new_ssn(3))) == (True, True, False)
    assert flag(world.person_b.ssn) is False
    assert wrong_flags() == []


def test_the_demo_seed_sets_it(db: None) -> None:
    call_command("seed", "--persons", "120", "--seed", "5", stdout=StringIO())

    assert Person.objects.filter(is_beneficiary=True).exists()
    assert Person.objects.filter(is_beneficiary=False).exists()
    assert wrong_flags() == []


def test_the_refresh_repairs_categories_written_around_the_services(world: Any) -> None:
    person_a, person_b = world.person_a, world.person_b
    PersonCategory.objects.bulk_create(
        [
            PersonCategory(person=person_a, category="survivor"),
            PersonCategory(person=person_b, category="survivor"),
        ]
    )
    assert len(wrong_flags()) == 2

    assert beneficiary_flags_refresh([person_a.pk]) == 1
    assert wrong_flags() == [(person_b.ssn, False)]
    assert beneficiary_flags_refresh() == 1
    assert wrong_flags() == []

    PersonCategory.objects.filter(person=person_a).delete()
    assert beneficiary_flags_refresh() == 1
    assert (flag(person_a.ssn), flag(person_b.ssn)) == (False, True)
    assert beneficiary_flags_refresh() == 0, "nothing left to change: nothing written"


# Every place in shebao/ that writes person categories, and how it keeps the flag: a new writer makes this test
# fail until it is added here (and keeps the flag, or calls beneficiary_flags_refresh).
KNOWN_WRITERS = {
    "shebao/people/services.py": "person_create and the import set it with the categories they write",
    "shebao/demo/services.py": "the seed creates each person with the flag of the one category it writes",
    "shebao/switching/bench.py": "the benchmarks insert every person flagged, then give each a category",
}
_WRITE = re.compile(
    r"(?<!class )PersonCategory(\.objects\.\w+\(.*\)\.(delete|update)\(|\.objects\.(create|bulk_create|get_or_create|"
    r"update_or_create)\b|\()"
    r"|INSERT INTO \{PersonCategory|(INSERT INTO|DELETE FROM|UPDATE) people_personcategory"
    r"|\.categories\.(create|add|set|remove|clear|bulk_create|update|all\(\)\.delete)\b"
)


def test_every_writer_of_categories_in_the_code_is_known() -> None:
    root = Path(__file__).resolve().parents[2]
    found: dict[str, list[str]] = {}
    for path in sorted((root / "shebao").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if "/migrations/" in relative:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if _WRITE.search(line):
                found.setdefault(relative, []).append(line.strip())
    unknown = {path: lines for path, lines in found.items() if path not in KNOWN_WRITERS}
    assert unknown == {}, f"categories written where Person.is_beneficiary may not be kept: {unknown}"
    assert set(found) == set(KNOWN_WRITERS), (
        "a known writer no longer writes categories: update KNOWN_WRITERS"
    )
