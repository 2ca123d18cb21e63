"""Background job handlers of the people app."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from shebao.core.errors import ValidationError
from shebao.jobs.models import Job
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress
from shebao.people.importers import ImportRejected, write_error_file

PROBLEMS_LISTED = 1000  # the page shows these; the error file has every one


@job_handler("person_import")
def person_import_job(progress: Progress) -> dict[str, Any]:
    """Run persons_import on the uploaded file. On problems the job fails with the problem list in
    its result and an error file (the original rows plus 错误说明) as its output file."""
    from shebao.people.services import persons_import

    job = progress.job
    media = Path(settings.MEDIA_ROOT)
    source = media / job.input_file
    actor: Any = job.created_by or "系统"
    try:
        result = persons_import(
            actor=actor, path=source, file_name=job.params.get("file_name", source.name), progress=progress
        )
    except ImportRejected as exc:
        relative = f"imports/errors/{uuid.uuid4().hex}/导入错误说明_{job.pk}.xlsx"
        try:
            write_error_file(source, exc.problems, media / relative)
        except (ValidationError, OSError):  # an unreadable source: the list on the page still helps
            relative = ""
        Job.objects.filter(pk=job.pk).update(
            output_file=relative,
            result={
                "rows": exc.row_count,
                "problem_count": exc.total,
                "problems": [list(p) for p in exc.problems[:PROBLEMS_LISTED]],
                "warning_count": len(exc.warnings),
                "warnings": [list(w) for w in exc.warnings[:PROBLEMS_LISTED]],
            },
        )
        raise
    progress.job.message = result.message
    return result.as_dict(max_listed=PROBLEMS_LISTED)
