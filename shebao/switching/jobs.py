"""Background jobs of the switching app (registered when the app is ready)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from shebao.core.errors import DomainError
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

COMPARE = "switching.compare"


@job_handler(COMPARE)
def compare_job(progress: Progress) -> dict:
    """Import the card-system file (once) and (re)compute the comparison. Safe to run again."""
    from shebao.switching.cardsources import FileCardSource
    from shebao.switching.comparison import (
        card_extract_import,
        comparison_attach_extract,
        comparison_execute,
        comparison_fail,
        comparison_from_own_cards,
    )
    from shebao.switching.models import ComparisonRun

    run = ComparisonRun.objects.get(pk=progress.params["run_id"])
    actor = progress.job.created_by or "系统"
    progress.set_total(2)
    try:
        if run.source_kind == ComparisonRun.Source.OWN_CARDS:
            progress.advance(1, "正在读取本系统社保卡记录并比对", force=True)
            run = comparison_from_own_cards(run=run, actor=actor)
            progress.advance(2, f"比对完成：共{run.total}人", force=True)
            return {"run_id": run.pk, "counts": run.counts}
        if run.extract_id is None:
            path = Path(settings.MEDIA_ROOT) / progress.job.input_file
            source = FileCardSource(path, display_name=run.source_description)
            extract = card_extract_import(source=source, actor=actor)
            comparison_attach_extract(run=run, extract=extract)
        progress.advance(1, "卡系统数据已导入，正在比对", force=True)
        run = comparison_execute(run=run, actor=actor)
    except DomainError as exc:
        comparison_fail(run=run, message=exc.message)
        raise
    progress.advance(2, f"比对完成：共{run.total}人", force=True)
    return {"run_id": run.pk, "counts": run.counts}
