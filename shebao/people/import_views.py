"""The person import page: upload a file, follow the job, read every problem by row and column."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from shebao.core.errors import PermissionDenied
from shebao.jobs.models import Job
from shebao.jobs.selectors import jobs_visible_to
from shebao.jobs.services import job_start
from shebao.people.importers import COLUMNS, SUPPORTED_SUFFIXES, template_example, write_template_file
from shebao.web.decorators import requires

JOB_KIND = "person_import"
MAX_UPLOAD_BYTES = 300 * 1024 * 1024  # a million rows of CSV is about 150 MB


class PersonImportForm(forms.Form):
    file = forms.FileField(
        label="人员文件",
        help_text="支持 .xlsx、.xls、.ods、.csv（UTF-8 或 GBK 编码）；第一张工作表的第一个非空行为表头",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUPPORTED_SUFFIXES)}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise forms.ValidationError("只能上传 .xlsx、.xls、.ods 或 .csv 文件")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"文件不能超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB，请分成几个文件导入"
            )
        if upload.size == 0:
            raise forms.ValidationError("文件是空的")
        return upload


def _save_upload(upload: Any) -> str:
    """Store the upload under MEDIA_ROOT/imports/ with a name nobody can guess; returns the relative path."""
    relative = f"imports/{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        for block in upload.chunks():
            fh.write(block)
    return relative


def _import_job(request: HttpRequest, job_id: str) -> Job:
    job = None
    if job_id.isdigit():
        job = jobs_visible_to(request.user).filter(pk=int(job_id), kind=JOB_KIND).first()
    if job is None:
        raise PermissionDenied("该导入任务不存在或不属于您")
    return job


def import_result_context(job: Job) -> dict[str, Any]:
    """What the result panel shows for a person import job (used by the import page)."""
    result = job.result or {}
    return {
        "job": job,
        "poll_url": reverse("jobs:progress", args=[job.pk]),
        "problems": result.get("problems", []),
        "problem_count": result.get("problem_count", 0),
        "warnings": result.get("warnings", []),
        "warning_count": result.get("warning_count", 0),
        "result": result,
    }


def person_import_page(request: HttpRequest) -> HttpResponse:
    """GET: the form (and, with ?job=, that import's progress and result). POST: start the import."""
    context: dict[str, Any] = {"columns": list(zip(COLUMNS, template_example(), strict=True))}
    if request.method == "POST":
        form = PersonImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = job_start(
                kind=JOB_KIND,
                actor=request.user,
                title=f"导入人员：{upload.name}"[:200],
                params={"file_name": upload.name},
                input_file=_save_upload(upload),
            )
            return redirect(f"{reverse('people:import')}?job={job.pk}")
    else:
        form = PersonImportForm()
        if request.GET.get("job"):
            context.update(import_result_context(_import_job(request, request.GET["job"])))
    context["form"] = form
    return render(request, "people/import.html", context)


@requires("person.import")
def person_import_template_view(request: HttpRequest) -> FileResponse:
    """The xlsx template: the header row and one example row."""
    buffer = io.BytesIO()
    write_template_file(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename="人员导入模板.xlsx")
