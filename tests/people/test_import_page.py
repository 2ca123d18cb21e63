"""The import page: upload, the job runs, the clerk reads every problem and gets the error file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from shebao.jobs.models import Job
from shebao.people.models import Person
from tests.people import write_csv
from tests.people.test_import_persons import HEADER, new_ssn, rows_for


@pytest.fixture
def inline_jobs(settings: Any, tmp_path: Path) -> Path:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client: Any, capture: Any, path: Path) -> Any:
    with capture(execute=True), path.open("rb") as fh:
        response = client.post(reverse("people:import"), {"file": SimpleUploadedFile(path.name, fh.read())})
    assert response.status_code == 302
    return client.get(response["Location"])


def test_it_shows_the_form_and_the_columns_to_a_centre_clerk(client, world):
    client.force_login(world.centre_clerk)

    response = client.get(reverse("people:import"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'accept=".xlsx,.xls,.ods,.csv"' in body
    assert "社会保障号码" in body and "开户银行代码" in body and "启用期" in body
    assert reverse("people:import_template") in body


def test_it_offers_a_template_with_a_header_and_an_example_row(client, world, tmp_path):
    client.force_login(world.centre_clerk)

    response = client.get(reverse("people:import_template"))

    assert response.status_code == 200
    path = tmp_path / "template.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    with CalamineWorkbook.from_path(str(path)) as workbook:
        rows = list(workbook.get_sheet_by_index(0).iter_rows())
    assert rows[0][:2] == ["社会保障号码", "姓名"]
    assert len(rows) == 2 and len(rows[1][0]) == 18


def test_it_imports_an_upload_and_shows_the_counts(
    client, world, inline_jobs, django_capture_on_commit_callbacks
):
    client.force_login(world.centre_clerk)
    source = write_csv(inline_jobs.parent / "新人员.csv", rows_for(world))

    page = upload(client, django_capture_on_commit_callbacks, source)

    body = page.content.decode()
    assert "导入完成" in body and "新增 3 人" in body
    job = Job.objects.get(kind="person_import")
    assert job.state == Job.State.SUCCEEDED
    assert job.input_file.startswith("imports/") and job.input_file.endswith(".csv")
    assert (inline_jobs / job.input_file).is_file()
    assert Person.objects.filter(ssn=new_ssn(1)).exists()


def test_it_lists_every_problem_and_offers_the_error_file(
    client, world, inline_jobs, django_capture_on_commit_callbacks
):
    client.force_login(world.centre_clerk)
    rows = rows_for(world)
    rows[1][1] = "<script>alert(1)</script>"
    rows[3][4] = "NO-SUCH-UNIT"
    before = Person.objects.count()

    page = upload(client, django_capture_on_commit_callbacks, write_csv(inline_jobs.parent / "bad.csv", rows))

    body = page.content.decode()
    assert "文件有 2 个问题，未导入任何数据" in body
    for heading in ("行号", "列", "内容", "问题"):
        assert f"<th>{heading}</th>" in body
    assert "<td>2</td><td>姓名</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in body
    assert "<td>4</td><td>单位编号</td><td>NO-SUCH-UNIT</td>" in body
    assert "<script>alert(1)</script>" not in body
    assert Person.objects.count() == before

    job = Job.objects.get(kind="person_import")
    assert job.state == Job.State.FAILED
    assert job.output_file.startswith("imports/errors/")
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download.status_code == 200
    error_file = inline_jobs / "errors.xlsx"
    error_file.write_bytes(b"".join(download.streaming_content))
    with CalamineWorkbook.from_path(str(error_file)) as workbook:
        sheet = list(workbook.get_sheet_by_index(0).iter_rows())
    assert sheet[0] == [*HEADER, "错误说明"]
    assert "【姓名】" in sheet[1][-1] and sheet[2][-1] == "" and "【单位编号】" in sheet[3][-1]


def test_it_shows_why_an_unreadable_file_failed(
    client, world, inline_jobs, django_capture_on_commit_callbacks
):
    client.force_login(world.centre_clerk)
    path = inline_jobs.parent / "persons.xlsx"
    path.write_bytes(b"this is not a workbook" * 50)

    page = upload(client, django_capture_on_commit_callbacks, path)

    assert "导入失败：无法读取文件" in page.content.decode()


def test_it_refuses_an_unsupported_file_type(client, world, inline_jobs):
    client.force_login(world.centre_clerk)

    response = client.post(
        reverse("people:import"), {"file": SimpleUploadedFile("persons.txt", "社会保障号码,姓名\n".encode())}
    )

    assert response.status_code == 200
    assert "只能上传 .xlsx、.xls、.ods 或 .csv 文件" in response.content.decode()
    assert not Job.objects.exists()


def test_it_is_refused_to_a_unit_clerk(client, world, inline_jobs):
    client.force_login(world.unit_clerk)
    data = {"file": SimpleUploadedFile("p.csv", io.BytesIO("社会保障号码,姓名\n".encode()).getvalue())}

    assert client.get(reverse("people:import")).status_code == 403
    assert client.post(reverse("people:import"), data).status_code == 403
    assert client.get(reverse("people:import_template")).status_code == 403
    assert not Job.objects.exists()


def test_it_refuses_a_job_that_is_not_an_import(client, world, inline_jobs):
    client.force_login(world.centre_clerk)

    assert client.get(f"{reverse('people:import')}?job=999999").status_code == 403
    assert client.get(f"{reverse('people:import')}?job=abc").status_code == 403
