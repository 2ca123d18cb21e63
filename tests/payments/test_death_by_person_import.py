"""A death date arriving with the person import stops payment exactly as one recorded at the counter;
the import never overwrites a recorded death date."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.payments.models import Overpayment
from shebao.people.importers import ImportRejected
from shebao.people.models import Person
from shebao.people.services import persons_import
from tests.payments.test_death import _pay_june
from tests.people import write_csv

HEADER = ["社会保障号码", "姓名", "死亡日期"]


def test_a_death_in_the_person_file_ends_the_benefit_and_finds_the_overpayment(pay, world, tmp_path) -> None:
    _pay_june(pay, world)
    path = write_csv(tmp_path / "p.csv", [HEADER, [world.person_a.ssn, "王小明", "2024-05-20"]])

    result = persons_import(actor=world.centre_clerk, path=path, file_name=path.name)

    assert result.updated == 1
    assert Person.objects.get(pk=world.person_a.pk).death_date == dt.date(2024, 5, 20)
    pay.ent_a.refresh_from_db()
    assert (pay.ent_a.state, pay.ent_a.reason, pay.ent_a.to_period) == ("terminated", "1401", 202405)
    over = Overpayment.objects.get()
    assert over.person_id == world.person_a.pk and over.state == "open"
    pay.ent_b.refresh_from_db()
    assert pay.ent_b.state == "active"


def test_the_person_import_does_not_change_a_recorded_death_date(pay, world, tmp_path) -> None:
    from shebao.payments.services import death_record

    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    path = write_csv(tmp_path / "p.csv", [HEADER, [world.person_a.ssn, "王小明", "2024-05-21"]])
    with pytest.raises(ImportRejected) as caught:
        persons_import(actor=world.centre_clerk, path=path, file_name=path.name)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (2, "死亡日期") and "更正请由中心复核员办理" in problem.message
    assert Person.objects.get(pk=world.person_a.pk).death_date == dt.date(2024, 5, 20)
