from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from shebao.core.errors import PermissionDenied
from shebao.jobs.models import Job
from shebao.jobs.selectors import jobs_visible_to


def _job(request: HttpRequest, pk: int) -> Job:
    job = jobs_visible_to(request.user).filter(pk=pk).first()
    if job is None:
        raise PermissionDenied("该任务不存在或不属于您")
    return job


def job_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(jobs_visible_to(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "jobs/list.html", {"page_obj": page, "querystring": ""})


def job_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(
        request, "jobs/detail.html", {"job": job, "poll_url": reverse("jobs:progress", args=[job.pk])}
    )


def job_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment a page polls every second until the job finishes."""
    job = _job(request, pk)
    return render(
        request, "includes/progress.html", {"job": job, "poll_url": reverse("jobs:progress", args=[job.pk])}
    )


def job_download_view(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    # A job's file holds what its creator may see (an export, the rows of their upload): theirs alone.
    if job.created_by_id != request.user.pk and not request.user.is_superuser:  # type: ignore[union-attr]
        raise PermissionDenied("该文件只能由提交任务的用户下载")
    if not job.output_file:
        raise Http404("该任务没有输出文件")
    path = (Path(settings.MEDIA_ROOT) / job.output_file).resolve()
    if not path.is_file() or Path(settings.MEDIA_ROOT).resolve() not in path.parents:
        raise Http404("输出文件不存在")
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)
