"""A large factory return file is read by a background job; `shebao card_return_import` does the same."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from shebao.cards.models import Card, CardMovement, CardState
from shebao.jobs.models import Job
from tests.cards.test_pipeline_pages import _csv
from tests.cards.test_production import good_row, in_production, write_return  # noqa: F401


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_job(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.SHEBAO_JOBS_INLINE = True
    monkeypatch.setattr("shebao.cards.views.RETURN_INLINE_BYTES", 10)


def test_a_large_return_file_is_read_by_a_job(
    client, world, in_production, as_job, django_capture_on_commit_callbacks  # noqa: F811
) -> None:
    _, a, b = in_production
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cards:production"), {"step": "return", "file": _csv([good_row(a, 1), good_row(b, 2)])}
        )
    job = Job.objects.get(kind="cards.production_return")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.state == Job.State.SUCCEEDED and (job.result["produced"], job.result["failed"]) == (2, 0)
    assert set(Card.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", flat=True)) == {CardState.PRODUCED}
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "制卡成功2张" in page and "返回制卡管理" in page
    # a crashed worker runs it again: nothing more is written
    from shebao.jobs.services import job_run

    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)
    assert job_run(job.pk).result["already_read"] is True
    assert CardMovement.objects.filter(card__in=[a, b]).count() == 2


def test_a_bad_large_file_lists_its_problems_on_the_job_page_and_writes_nothing(
    client, world, in_production, as_job, django_capture_on_commit_callbacks  # noqa: F811
) -> None:
    _, a, b = in_production
    client.force_login(world.centre_clerk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("cards:production"),
            {"step": "return", "file": _csv([good_row(a, 1, card_no="X"), good_row(b, 2)])},
        )
    job = Job.objects.get(kind="cards.production_return")
    assert job.state == Job.State.FAILED and "未写入任何数据" in job.message
    assert job.result["problems"][0][:2] == [2, "卡号"]
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'id="job-problems"' in page and "卡号" in page
    assert Card.objects.filter(state=CardState.IN_PRODUCTION).count() == 2


def test_a_bank_clerk_cannot_start_the_job(client, world, in_production, as_job) -> None:  # noqa: F811
    _, a, b = in_production
    client.force_login(world.bank_clerk)
    response = client.post(reverse("cards:production"), {"step": "return", "file": _csv([good_row(a, 1)])})
    assert response.status_code == 403 and not Job.objects.exists()


def test_the_command_reads_the_file_and_lists_problems(world, tmp_path, in_production) -> None:  # noqa: F811
    _, a, b = in_production
    bad = write_return(tmp_path / "bad.csv", [good_row(a, 1, card_no="X")])
    err = StringIO()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("card_return_import", str(bad), "--as", world.centre_clerk.username, stderr=err)
    assert "第2行【卡号】" in err.getvalue()
    good = write_return(tmp_path / "good.csv", [good_row(a, 1), good_row(b, 2)])
    out = StringIO()
    call_command("card_return_import", str(good), "--as", world.centre_clerk.username, stdout=out)
    assert "制卡成功2张" in out.getvalue()
    again = StringIO()
    call_command("card_return_import", str(good), "--as", world.centre_clerk.username, stdout=again)
    assert "未做任何修改" in again.getvalue()
