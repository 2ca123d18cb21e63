"""Background jobs of the payments app, and its large exports (registered when the app is ready).

The pages hand a step to a job when it is large (many entitlements or lines, a big file); the same
services run, so a job does exactly what the page would have done, all or nothing per step, and a job run
again after a crash either finds the step done or does it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from shebao.jobs.exports import ExportSpec, register_export
from shebao.jobs.models import Job
from shebao.jobs.registry import job_handler
from shebao.jobs.services import Progress

PAYROLL_GENERATE = "payments.payroll_generate"
PAYROLL_FILE = "payments.payroll_file"
ENTITLEMENT_IMPORT = "payments.entitlement_import"
CERTIFICATION_IMPORT = "payments.certification_import"
DEATH_IMPORT = "payments.death_import"
PROBLEMS_LISTED = 1000

# Above this many entitlements (generation) or lines (bank files) the page starts a job.
INLINE_LINES = 20_000


def payroll_size(user: Any, benefit_type: Any) -> int:
    """About how many lines a payroll of this benefit type will have: the live entitlements the user sees."""
    from shebao.payments.models import Entitlement
    from shebao.people.selectors import persons_visible_to

    return (
        Entitlement.objects.filter(
            benefit_type=benefit_type, person__in=persons_visible_to(user).values("pk")
        )
        .exclude(state=Entitlement.State.TERMINATED)
        .count()
    )


def _payroll_url(payroll: Any) -> dict[str, str]:
    return {"url": reverse("payments:payroll_detail", args=[payroll.pk]), "url_label": "查看发放表"}


@job_handler(PAYROLL_GENERATE)
def payroll_generate_job(progress: Progress) -> dict[str, Any]:
    """Generate (or regenerate, while a draft) the payroll of a period and benefit type."""
    from shebao.orgs.models import Region
    from shebao.payments import services
    from shebao.payments.models import BenefitType

    params = progress.params
    progress.set_total(1)
    payroll = services.payroll_generate(
        region=Region.objects.get(pk=params["region_id"]),
        period=int(params["period"]),
        benefit_type=BenefitType.objects.get(pk=params["benefit_type_id"]),
        actor=progress.job.created_by,
    )
    from django.db.models import Count

    from shebao.payments.reconciliation import fen_sum, yuan

    figures = payroll.lines.aggregate(n=Count("pk"), fen=fen_sum())
    progress.advance(1, force=True)
    progress.job.message = f"发放表已生成：{figures['n']}笔，合计{yuan(figures['fen'])}元"
    return {"payroll_id": payroll.pk, **_payroll_url(payroll)}


@job_handler(PAYROLL_FILE)
def payroll_file_job(progress: Progress) -> dict[str, Any]:
    """Pre-flight and the bank files of an approved payroll. Run again after it succeeded (the worker
    died before recording it), it finds the payroll filed and reports its files."""
    from shebao.payments import services
    from shebao.payments.models import Payroll

    payroll = Payroll.objects.get(pk=progress.params["payroll_id"])
    progress.set_total(1)
    if payroll.state == Payroll.State.APPROVED:
        files = services.payroll_file(payroll=payroll, actor=progress.job.created_by)
    else:
        files = list(payroll.bank_files.order_by("pk"))
    progress.advance(1, force=True)
    progress.job.message = "代发文件已生成：" + "，".join(
        f"{f.batch_no}（{f.control_count}笔）" for f in files
    )
    return {"payroll_id": payroll.pk, "files": [f.batch_no for f in files], **_payroll_url(payroll)}


def _import_file(progress: Progress, call: Any, back: str) -> Any:
    """Run one all-or-nothing file import on the upload kept under MEDIA_ROOT. A refused file fails
    the job with every problem (by row and column) in its result and a link back to `back`."""
    from shebao.people.importers import ImportRejected

    job = progress.job
    source = Path(settings.MEDIA_ROOT) / job.input_file
    progress.set_total(1)
    try:
        result = call(path=source, file_name=job.params.get("file_name", source.name), actor=job.created_by)
    except ImportRejected as exc:
        problems = [
            [p.row, p.column, (f"“{p.value}”：" if p.value else "") + p.message]
            for p in exc.problems[:PROBLEMS_LISTED]
        ]
        Job.objects.filter(pk=job.pk).update(
            result={"problem_count": exc.total, "problems": problems, "url": reverse(back)}
        )
        raise
    progress.advance(1, force=True)
    return result


DUPLICATE = "该文件已导入过，本次未做任何更改"


@job_handler(ENTITLEMENT_IMPORT)
def entitlement_import_job(progress: Progress) -> dict[str, Any]:
    """A large entitlement file: checked and kept for a supervisor's approval; the same file twice changes nothing."""
    from shebao.payments.importers import entitlement_import

    result = _import_file(progress, entitlement_import, "payments:entitlements")
    progress.job.message = (
        DUPLICATE
        if result.duplicate
        else f"文件检查无误，待复核：拟新增{result.created}项，调整金额{result.changed}项，"
        f"未变{result.unchanged}项；复核通过后生效"
    )
    url = {"url": reverse("payments:entitlements"), "url_label": "返回待遇资格"}
    return {"duplicate": result.duplicate, "created": result.created, "changed": result.changed, **url}


@job_handler(CERTIFICATION_IMPORT)
def certification_import_job(progress: Progress) -> dict[str, Any]:
    """Passive certification from a large file of people another source saw alive; all rows or none."""
    from shebao.payments.importers import certification_import

    source = progress.params.get("source", "")
    result = _import_file(progress, partial(certification_import, source=source), "payments:certification")
    progress.job.message = (
        DUPLICATE
        if result.duplicate
        else f"数据比对认证导入完成：共{result.rows}行，认证{result.certified}人，恢复发放{result.resumed}项待遇"
    )
    url = {"url": reverse("payments:certification"), "url_label": "返回待遇资格认证"}
    return {"duplicate": result.duplicate, "certified": result.certified, "resumed": result.resumed, **url}


@job_handler(DEATH_IMPORT)
def death_import_job(progress: Progress) -> dict[str, Any]:
    """Deaths from a large file; all rows or none, the same file twice changes nothing."""
    from shebao.payments.deaths import death_import

    source = progress.params.get("source", "")
    result = _import_file(progress, partial(death_import, source=source), "payments:death_record")
    progress.job.message = (
        DUPLICATE
        if result.duplicate
        else f"登记死亡{result.recorded}人（已登记过的{result.unchanged}人未变），终止待遇{result.terminated}项，"
        f"暂缓{result.held}笔，发现多发{result.overpayments}笔；请告知家属申领丧葬补助金和抚恤金"
    )
    ids = ",".join(map(str, result.person_ids[:200]))
    return {
        "duplicate": result.duplicate,
        "recorded": result.recorded,
        "url": reverse("payments:death_record") + (f"?imported={ids}" if ids else ""),
        "url_label": "查看登记死亡的人员",
    }


# --- exports ------------------------------------------------------------------------------------


def _payroll_export(user: Any, params: dict[str, Any]) -> tuple[Any, str]:
    from shebao.payments.exporters import PayrollLineExporter
    from shebao.payments.selectors import payroll_get

    payroll = payroll_get(user, int(params["payroll"]))
    name = f"发放明细_{payroll.period}_{payroll.benefit_type.code}_{payroll.pk}.xlsx"
    return PayrollLineExporter(user, payroll), name


def _payroll_export_count(user: Any, params: dict[str, Any]) -> int:
    from shebao.payments.selectors import payroll_get, payroll_lines

    return payroll_lines(payroll_get(user, int(params["payroll"]))).count()


def _failure_export(user: Any, params: dict[str, Any]) -> tuple[Any, str]:
    from shebao.payments.exporters import FailureExporter

    return FailureExporter(user, params.get("reason", ""), params.get("status", "all")), "发放失败.xlsx"


def _failure_export_count(user: Any, params: dict[str, Any]) -> int:
    from shebao.payments.selectors import failed_lines_visible_to

    return failed_lines_visible_to(
        user, reason=params.get("reason", ""), status=params.get("status", "all")
    ).count()


PAYROLL_EXPORT = register_export(
    ExportSpec(
        name="payments.payroll_lines",
        object_type="payments.paymentline",
        build=_payroll_export,
        count=_payroll_export_count,
    )
)
FAILURE_EXPORT = register_export(
    ExportSpec(
        name="payments.failures",
        object_type="payments.paymentline",
        build=_failure_export,
        count=_failure_export_count,
    )
)
