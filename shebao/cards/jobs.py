"""Background jobs of the cards app (registered when the app is ready)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.urls import reverse

from shebao.jobs.models import Job
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

PRODUCTION_RETURN = "cards.production_return"
PROBLEMS_LISTED = 1000  # the job page lists these; the message gives the total


@job_handler(PRODUCTION_RETURN)
def production_return_job(progress: Progress) -> dict[str, Any]:
    """Read a large factory/bank return file kept on disk. All or nothing: on problems the job fails with
    every problem (by row and column) in its result and nothing written; run again after a crash it
    writes what it did not (the same file read twice changes nothing)."""
    from shebao.cards.importers import ReturnFileInvalid
    from shebao.cards.services import production_return_import

    job = progress.job
    actor: Any = job.created_by
    progress.set_total(1)
    try:
        result = production_return_import(
            path=Path(job.params["path"]), actor=actor, custodian=job.params.get("custodian", "")
        )
    except ReturnFileInvalid as exc:
        Job.objects.filter(pk=job.pk).update(
            result={
                "problem_count": len(exc.problems),
                "problems": [[p.row, p.column, p.message] for p in exc.problems[:PROBLEMS_LISTED]],
                "url": reverse("cards:production"),
            }
        )
        raise
    f = result.file
    progress.advance(1, force=True)
    progress.job.message = (
        f"该文件已读入过（{f.created_at:%Y-%m-%d}），本次未做任何修改"
        if result.already_read
        else f"已读入{f.row_count}行：制卡成功{f.produced_count}张，失败{f.failed_count}张，已处理过{f.unchanged_count}行"
    )
    return {
        "file_id": f.pk,
        "already_read": result.already_read,
        "rows": f.row_count,
        "produced": f.produced_count,
        "failed": f.failed_count,
        "url": reverse("cards:production"),
        "url_label": "返回制卡管理",
    }
