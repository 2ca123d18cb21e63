"""Item 4: deaths imported from a file (civil affairs, police, units, relatives) — checked whole, then each
recorded as at the counter; the family's funeral grant and survivor pension are offered afterwards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied
from shebao.payments.deaths import death_import
from shebao.payments.models import Overpayment
from shebao.people.importers import ImportRejected
from shebao.people.models import Person
from tests.factories import PersonFactory, RegionFactory
from tests.payments.test_death import _pay_june

HEAD = "社会保障号码,姓名,死亡日期,信息来源\n"


def _file(tmp_path: Any, text: str, name: str = "deaths.csv") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_of_deaths_is_recorded_as_at_the_counter(pay: Any, world: Any, tmp_path: Any) -> None:
    _pay_june(pay, world)
    text = (
        HEAD
        + f"{world.person_a.ssn},王小明,2024-05-20,民政殡葬数据\n"
        + f"{world.person_b.ssn},,2024-07-03,\n"
    )

    result = death_import(
        path=_file(tmp_path, text), file_name="d.csv", source="民政数据比对", actor=world.centre_clerk
    )

    assert (result.rows, result.recorded, result.unchanged, result.terminated) == (2, 2, 0, 2)
    assert result.overpayments == 1 and sorted(result.person_ids) == sorted(
        [world.person_a.pk, world.person_b.pk]
    )
    assert Person.objects.get(pk=world.person_a.pk).death_date == dt.date(2024, 5, 20)
    over = Overpayment.objects.get()
    assert over.person_id == world.person_a.pk and over.amount == Decimal("2345.60")
    reasons = dict(AuditLog.objects.filter(action="person.death").values_list("object_id", "reason"))
    assert reasons == {str(world.person_a.pk): "民政殡葬数据", str(world.person_b.pk): "民政数据比对"}

    # the same file again changes nothing; the same deaths in another file are unchanged
    again = death_import(
        path=_file(tmp_path, text), file_name="d.csv", source="民政数据比对", actor=world.centre_clerk
    )
    assert again.duplicate
    other = death_import(
        path=_file(tmp_path, text + "\n", "other.csv"),
        file_name="o.csv",
        source="单位报告",
        actor=world.centre_clerk,
    )
    assert (other.recorded, other.unchanged) == (0, 2)
    assert AuditLog.objects.filter(action="person.death").count() == 2


def test_every_bad_row_is_named_and_nobody_is_recorded(pay: Any, world: Any, tmp_path: Any) -> None:
    elsewhere = PersonFactory(region=RegionFactory(code="110101", name="东城区"))
    died = PersonFactory(region=world.region, death_date=dt.date(2024, 1, 2))
    future = dt.date.today() + dt.timedelta(days=3)
    text = (
        HEAD
        + "123,,2024-05-20,\n"
        + f"{world.person_a.ssn},张三,2024-05-20,\n"
        + f"{world.person_b.ssn},,{future:%Y-%m-%d},\n"
        + f"{elsewhere.ssn},,2024-05-20,\n"
        + f"{died.ssn},,2024-03-01,\n"
        + f"{world.person_b.ssn},,2024-13-01,\n"
        + f"{world.person_b.ssn},,1900-01-01,\n"
    )

    with pytest.raises(ImportRejected) as caught:
        death_import(path=_file(tmp_path, text), file_name="bad.csv", source="", actor=world.centre_clerk)

    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {
        (2, "社会保障号码"),
        (3, "姓名"),
        (4, "死亡日期"),
        (5, "社会保障号码"),
        (6, "死亡日期"),
        (7, "死亡日期"),
        (8, "死亡日期"),
    }
    assert "更正请由中心复核员处理" in next(str(p) for p in caught.value.problems if p.row == 6)
    assert not Person.objects.filter(
        pk__in=[world.person_a.pk, world.person_b.pk], death_date__isnull=False
    ).exists()
    assert not AuditLog.objects.filter(action="person.death").exists()


def test_the_same_person_twice_with_different_dates_is_refused(pay: Any, world: Any, tmp_path: Any) -> None:
    text = HEAD + f"{world.person_a.ssn},,2024-05-20,\n" + f"{world.person_a.ssn},,2024-05-21,\n"
    with pytest.raises(ImportRejected) as caught:
        death_import(path=_file(tmp_path, text), file_name="twice.csv", source="", actor=world.centre_clerk)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "死亡日期")]
    assert "第2行" in caught.value.problems[0].message


@pytest.mark.parametrize("persona", ["supervisor", "auditor", "unit_clerk", "bank_clerk"])
def test_only_a_centre_clerk_imports_deaths(pay: Any, world: Any, tmp_path: Any, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        death_import(
            path=_file(tmp_path, HEAD + f"{world.person_a.ssn},,2024-05-20,\n"),
            file_name="d.csv",
            source="",
            actor=getattr(world, persona),
        )


def test_the_death_page_imports_and_lists_the_families_to_tell(client: Any, pay: Any, world: Any) -> None:
    client.force_login(world.centre_clerk)
    bad = SimpleUploadedFile("bad.csv", (HEAD + "123,,2024-05-20,\n").encode())
    page = client.post(
        reverse("payments:death_import"), {"file": bad, "source": "民政数据比对"}
    ).content.decode()
    assert 'id="import-problems"' in page and "第2行【社会保障号码】" in page

    good = SimpleUploadedFile("d.csv", (HEAD + f"{world.person_a.ssn},王小明,2024-05-20,\n").encode())
    response = client.post(
        reverse("payments:death_import"), {"file": good, "source": "民政数据比对"}, follow=True
    )
    page = response.content.decode()
    assert "登记死亡1人" in page and "本次导入登记死亡的人员" in page
    assert reverse("payments:survivor_claim", args=[world.person_a.pk]) in page and "李小红" not in page

    client.force_login(world.auditor)
    assert (
        client.post(reverse("payments:death_import"), {"file": good, "source": "民政数据比对"}).status_code
        == 403
    )


def test_a_large_death_file_is_imported_by_a_job(
    client: Any,
    pay: Any,
    world: Any,
    settings: Any,
    tmp_path: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from shebao.jobs.models import Job

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("shebao.payments.views.IMPORT_INLINE_BYTES", 10)
    client.force_login(world.centre_clerk)
    good = SimpleUploadedFile("d.csv", (HEAD + f"{world.person_a.ssn},王小明,2024-05-20,\n").encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("payments:death_import"), {"file": good, "source": "民政数据比对"})
    job = Job.objects.get(kind="payments.death_import")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.state == Job.State.SUCCEEDED and job.result["recorded"] == 1
    assert f"imported={world.person_a.pk}" in job.result["url"]


def test_the_command_imports_deaths(pay: Any, world: Any, tmp_path: Any) -> None:
    path = _file(tmp_path, HEAD + f"{world.person_a.ssn},王小明,2024-05-20,\n")
    out = StringIO()
    call_command(
        "death_import", str(path), "--as", world.centre_clerk.username, "--source", "公安数据比对", stdout=out
    )
    assert "登记死亡1人" in out.getvalue()
    bad = _file(tmp_path, HEAD + "123,,2024-05-20,\n", "bad.csv")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("death_import", str(bad), "--as", world.centre_clerk.username, stderr=err)
    assert "第2行【社会保障号码】" in err.getvalue()
