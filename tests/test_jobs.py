from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from shebao.core.errors import ValidationError
from shebao.jobs.models import Job
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress, job_resume_stale, job_run, job_start
from tests.factories import PASSWORD

CALLS: list[int] = []


@job_handler("test_count")
def _count(progress: Progress) -> dict:
    n = int(progress.params.get("n", 3))
    progress.set_total(n)
    for i in range(1, n + 1):
        progress.advance(i, f"第{i}项")
    CALLS.append(n)
    return {"counted": n}


@job_handler("test_fail")
def _fail(progress: Progress) -> dict:
    raise ValidationError("第3行“社会保障号码”错误")


def test_it_runs_a_job_and_records_progress(world):  # type: ignore[no-untyped-def]
    job = Job.objects.create(kind="test_count", params={"n": 5})
    job = job_run(job.pk)
    assert job.state == Job.State.SUCCEEDED and job.percent == 100 and job.result == {"counted": 5}
    assert job.attempts == 1


def test_it_marks_a_domain_error_as_a_failed_job_with_the_message(world):  # type: ignore[no-untyped-def]
    job = job_run(Job.objects.create(kind="test_fail").pk)
    assert job.state == Job.State.FAILED and "第3行" in job.message


def test_it_refuses_an_unknown_job_kind(world):  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError):
        job_start(kind="nope", actor=world.centre_clerk, title="x")


def test_it_resumes_a_job_whose_worker_died(world, settings):  # type: ignore[no-untyped-def]
    settings.SHEBAO_JOBS_INLINE = True
    stale = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(kind="test_count", params={"n": 2}, state=Job.State.RUNNING, heartbeat_at=stale, done=1)
    fresh = Job.objects.create(kind="test_count", params={"n": 2}, state=Job.State.RUNNING, heartbeat_at=timezone.now())
    assert job_resume_stale() == [job.pk]
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.attempts == 1
    assert fresh.state == Job.State.RUNNING


def test_it_does_not_rerun_a_finished_job(world):  # type: ignore[no-untyped-def]
    job = job_run(Job.objects.create(kind="test_count", params={"n": 1}).pk)
    CALLS.clear()
    job_run(job.pk)
    assert CALLS == []


@override_settings(SHEBAO_JOBS_INLINE=True)
def test_it_starts_a_job_after_commit_and_shows_its_progress(client, world, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_count", actor=world.centre_clerk, title="计数", params={"n": 4})
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED
    assert client.login(username="clerk", password=PASSWORD)
    body = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert "100" in body and "已完成" in body
    # a job that is still running tells htmx to poll again
    running = Job.objects.create(kind="test_count", state=Job.State.RUNNING, total=10, done=3, created_by=world.centre_clerk)
    body = client.get(f"/jobs/{running.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in body and "30%" in body


def test_it_hides_other_peoples_jobs_from_a_unit_clerk(client, world):  # type: ignore[no-untyped-def]
    job = Job.objects.create(kind="test_count", created_by=world.centre_clerk)
    assert client.login(username="unit", password=PASSWORD)
    assert client.get(f"/jobs/{job.pk}/").status_code == 403


def test_a_centre_clerk_of_another_county_does_not_see_the_job(client, world):  # type: ignore[no-untyped-def]
    from shebao.accounts.roles import Role
    from tests.factories import RegionFactory, UserFactory

    job = Job.objects.create(kind="test_count", title="导入人员：甲县.csv", created_by=world.centre_clerk)
    stranger = UserFactory(
        username="elsewhere", role=Role.CENTRE_CLERK, region=RegionFactory(code="341522", name="霍邱县")
    )
    client.force_login(stranger)
    assert client.get(f"/jobs/{job.pk}/").status_code == 403
    assert "甲县.csv" not in client.get("/jobs/").content.decode()
    client.force_login(world.supervisor)  # the same county's supervisor does
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
