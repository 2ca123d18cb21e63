"""Large payroll work goes to background jobs: generation, bank files, imports and exports. The jobs run
the same services as the pages (all or nothing), report on the job page and link back."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from shebao.audit.models import AuditLog
from shebao.jobs.models import Job
from shebao.jobs.services import job_run
from shebao.payments.models import Certification, EntitlementAmount, Payroll
from tests.payments.factories import approved


@pytest.fixture
def small_limits(monkeypatch: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("shebao.payments.views.INLINE_LINES", 1)
    monkeypatch.setattr("shebao.payments.views.IMPORT_INLINE_BYTES", 10)
    monkeypatch.setattr("shebao.jobs.exports.INLINE_ROWS", 1)


def _job(kind: str) -> Job:
    return Job.objects.get(kind=kind)


def test_a_large_payroll_is_generated_by_a_job(
    client, pay, world, small_limits, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("payments:payroll_list"), {"period": "2024-06", "benefit_type": pay.pension.pk}
        )
    job = _job("payments.payroll_generate")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    payroll = Payroll.objects.get()
    assert job.state == Job.State.SUCCEEDED and job.result["payroll_id"] == payroll.pk
    assert job.message == "发放表已生成：2笔，合计4145.60元"
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert reverse("payments:payroll_detail", args=[payroll.pk]) in page and "查看发放表" in page
    # a worker that died after the commit runs it again: the draft is regenerated, nothing doubles
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)
    assert job_run(job.pk).state == Job.State.SUCCEEDED and payroll.lines.count() == 2


def test_a_unit_clerk_cannot_start_a_payroll_job(client, pay, world, small_limits):  # type: ignore[no-untyped-def]
    client.force_login(world.unit_clerk)
    response = client.post(
        reverse("payments:payroll_list"), {"period": "2024-06", "benefit_type": pay.pension.pk}
    )
    assert response.status_code == 403 and not Job.objects.exists()


def test_large_bank_files_are_made_by_a_job_that_can_run_again(
    client, pay, world, small_limits, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    payroll = approved(pay)
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("payments:payroll_file", args=[payroll.pk]))
    job = _job("payments.payroll_file")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    payroll.refresh_from_db()
    assert payroll.state == Payroll.State.FILED and job.state == Job.State.SUCCEEDED
    files = sorted(payroll.bank_files.values_list("batch_no", flat=True))
    assert sorted(job.result["files"]) == files and "代发文件已生成" in job.message
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)
    again = job_run(job.pk)
    assert again.state == Job.State.SUCCEEDED and sorted(again.result["files"]) == files
    assert payroll.bank_files.count() == len(files)


def test_a_large_payroll_export_is_written_by_a_job_with_masks(
    client, pay, world, small_limits, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    payroll = approved(pay)
    client.force_login(world.auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("payments:payroll_export", args=[payroll.pk]))
    job = _job("export")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk]) and job.result["rows"] == 2
    assert AuditLog.objects.filter(action="export", actor=world.auditor).exists()
    download = client.get(reverse("jobs:download", args=[job.pk]))
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content)))
        .get_sheet_by_index(0)
        .to_python()
    )
    assert rows[0][:4] == ["批次号", "序号", "社会保障号码", "姓名"]
    wang = next(r for r in rows if r[3] == "王小明")
    assert wang[2] != world.person_a.ssn  # the auditor's export is masked, as at once


def test_a_large_entitlement_file_is_imported_by_a_job(
    client, pay, world, small_limits, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    head = "社会保障号码,待遇代码,起始期,月待遇金额,终止期\n"
    client.force_login(world.centre_clerk)
    bad = SimpleUploadedFile("ent.csv", (head + "123,PEN-EMP,202407,1.00,\n").encode())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("payments:entitlement_import"), {"file": bad})
    job = _job("payments.entitlement_import")
    assert job.state == Job.State.FAILED and job.result["problems"][0][:2] == [2, "社会保障号码"]
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'id="job-problems"' in page and "社会保障号码" in page
    assert EntitlementAmount.objects.count() == 2

    good = SimpleUploadedFile("ent2.csv", (head + f"{world.person_a.ssn},PEN-EMP,202407,2400.00,\n").encode())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("payments:entitlement_import"), {"file": good})
    done = Job.objects.filter(kind="payments.entitlement_import").latest("pk")
    assert done.state == Job.State.SUCCEEDED and done.result["changed"] == 1
    assert EntitlementAmount.objects.count() == 2  # waits for a supervisor's approval
    from shebao.payments.importers import entitlement_import_decide
    from shebao.payments.models import EntitlementImport

    entitlement_import_decide(batch=EntitlementImport.objects.get(), approve=True, actor=world.supervisor)
    assert EntitlementAmount.objects.count() == 3


def test_a_large_certification_file_is_imported_by_a_job(
    client, pay, world, small_limits, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    text = f"社会保障号码,姓名,比对日期,数据来源\n{world.person_a.ssn},王小明,{timezone.localdate():%Y-%m-%d},医保结算\n"
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("payments:certification_import"),
            {"file": SimpleUploadedFile("seen.csv", text.encode()), "source": "民政数据"},
        )
    job = _job("payments.certification_import")
    assert job.state == Job.State.SUCCEEDED and job.result["certified"] == 1
    assert Certification.objects.get(person=world.person_a).channel == Certification.Channel.DATA_MATCH
