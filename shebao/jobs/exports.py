"""Large exports as background jobs.

An app registers each list export it offers by name: how to build the exporter for a user from plain
parameters (so a worker can build it again), and how many rows it will have. A page calls
`export_send`: a small export is written and sent at once, as before; a large one is audited, handed to
the `export` job, which writes the workbook into `MEDIA_ROOT/exports/` with a progress bar, and the page
goes to the job, whose finished page offers the file. The rows are those the user who asked may see
(the exporter's selectors take that user), and only that user can download the file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from shebao.audit import actions
from shebao.audit.services import audit_record
from shebao.core.exporters import ListExporter
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress, job_start

EXPORT_JOB = "export"
# Above this many rows an export goes to a background job (a request would otherwise run for minutes).
INLINE_ROWS = 20_000


@dataclass(frozen=True)
class ExportSpec:
    name: str
    object_type: str  # for the audit row, e.g. "people.person"
    build: Callable[[Any, dict[str, Any]], tuple[ListExporter, str]]  # (user, params) -> (exporter, file name)
    count: Callable[[Any, dict[str, Any]], int]  # (user, params) -> rows it will have


_EXPORTS: dict[str, ExportSpec] = {}


def register_export(spec: ExportSpec) -> ExportSpec:
    _EXPORTS[spec.name] = spec
    return spec


def get_export(name: str) -> ExportSpec:
    try:
        return _EXPORTS[name]
    except KeyError:
        raise LookupError(f"no export registered as {name!r}") from None


def export_send(request: HttpRequest, name: str, params: dict[str, Any]) -> HttpResponseBase:
    """Audit the export, then send the xlsx at once or, when large, start the job and go to its page."""
    spec = get_export(name)
    user: Any = request.user
    exporter, filename = spec.build(user, params)
    rows = spec.count(user, params)
    with transaction.atomic():
        audit_record(
            actor=user, action=actions.EXPORT, object_type=spec.object_type, new={**params, "rows": rows}
        )
    if rows <= INLINE_ROWS:
        return exporter.xlsx_response(filename)
    job = job_start(
        kind=EXPORT_JOB,
        actor=user,
        title=f"导出：{Path(filename).stem}"[:200],
        params={"export": name, "params": params, "rows": rows},
    )
    messages.success(request, f"共约 {rows} 行，已提交后台任务导出，完成后在任务页下载")
    return redirect("jobs:detail", job.pk)


class _Counted(ListExporter):
    """The exporter's rows, reporting progress every few thousand."""

    def __init__(self, inner: ListExporter, progress: Progress) -> None:
        self.inner, self.progress = inner, progress
        self.title, self.sheet_name = inner.title, inner.sheet_name

    def headers(self) -> Sequence[str]:
        return self.inner.headers()

    def column_widths(self) -> Sequence[int] | None:
        return self.inner.column_widths()

    def rows(self) -> Iterable[Sequence[Any]]:
        for n, row in enumerate(self.inner.rows(), start=1):
            if n % 5000 == 0:
                self.progress.advance(n, f"已导出 {n} 行")
            yield row


@job_handler(EXPORT_JOB)
def export_job(progress: Progress) -> dict[str, Any]:
    """Write the export into a fresh file; run again after a crash it simply writes it again."""
    from shebao.jobs.models import Job

    job = progress.job
    spec = get_export(job.params["export"])
    exporter, filename = spec.build(job.created_by, job.params.get("params", {}))
    progress.set_total(int(job.params.get("rows", 0)))
    relative = f"exports/{uuid.uuid4().hex}/{Path(filename).name}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    written = _Counted(exporter, progress).write_xlsx(target)
    Job.objects.filter(pk=job.pk).update(output_file=relative)
    job.output_file = relative
    progress.advance(written, force=True)
    progress.job.message = f"已导出 {written} 行，请下载"
    return {"rows": written, "file": Path(filename).name}
