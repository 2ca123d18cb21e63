"""A large export is written by a background job: scoped and masked like the direct one, audited, and
downloadable only by the user who asked for it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from shebao.audit.models import AuditLog
from shebao.jobs.models import Job


@pytest.fixture
def as_job(settings: Any, monkeypatch: Any, tmp_path: Any) -> None:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("shebao.jobs.exports.INLINE_ROWS", 0)


def _rows(resp: Any) -> list[list[object]]:
    data = b"".join(resp.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_a_large_export_runs_as_a_job_with_the_users_scope_and_masks(
    client: Any, world: Any, as_job: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(world.unit_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/people/export.xlsx?q=")
    job = Job.objects.get(kind="export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.state == Job.State.SUCCEEDED and job.result["rows"] == 1 and job.output_file.endswith(".xlsx")
    assert AuditLog.objects.filter(action="export", actor=world.unit_clerk, object_type="people.person").exists()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "下载结果文件" in page
    download = client.get(f"/jobs/{job.pk}/download/")
    rows = _rows(download)
    assert rows[0][0] == "社会保障号码" and [r[1] for r in rows[1:]] == [world.person_a.name]
    assert "*" in str(rows[1][0])  # the unit clerk's export is masked, as at once

    # a centre supervisor may see the job in the list, but not download the unit clerk's file
    client.force_login(world.supervisor)
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 403
    assert "下载结果文件" not in client.get(f"/jobs/{job.pk}/").content.decode()


def test_a_job_rerun_after_a_crash_writes_the_file_again(
    client: Any, world: Any, as_job: None, django_capture_on_commit_callbacks: Any
) -> None:
    from shebao.jobs.services import job_run

    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/people/export.xlsx")
    job = Job.objects.get(kind="export")
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)
    again = job_run(job.pk)
    assert again.state == Job.State.SUCCEEDED and again.result["rows"] == 2
    download = client.get(f"/jobs/{job.pk}/download/")
    names = {r[1] for r in _rows(download)[1:]}
    assert names == {
        world.person_a.name,
        world.person_b.name,
    }


def test_a_small_export_is_still_sent_at_once(client: Any, world: Any) -> None:
    client.force_login(world.centre_clerk)
    response = client.get("/people/export.xlsx")
    assert response.status_code == 200 and not Job.objects.exists()
    assert _rows(response)[0][0] == "社会保障号码"
