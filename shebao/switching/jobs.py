"""Background jobs of the switching app (registered when the app is ready)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from shebao.core.errors import DomainError
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

COMPARE = "switching.compare"
FORMS_GENERATE = "switching.forms_generate"


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


@job_handler(FORMS_GENERATE)
def forms_generate_job(progress: Progress) -> dict:
    """This period's verification forms for every unit and township (one transaction; run again, it adds
    only the forms still missing)."""
    from django.urls import reverse

    from shebao.switching.services import forms_generate

    actor = progress.job.created_by or "系统"
    progress.set_total(1)
    created = forms_generate(actor=actor, period=progress.params.get("period"))
    progress.advance(1, force=True)
    progress.job.message = f"已生成 {len(created)} 张核实反馈表" if created else "没有需要生成的核实反馈表"
    return {"forms": len(created), "url": reverse("switching:forms"), "url_label": "查看核实反馈表"}
