"""Pages of 账户切换: thin — parse input, call one service or selector, render."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shebao.core.errors import DomainError, PermissionDenied, ValidationError
from shebao.core.values.period import parse_period, period_of
from shebao.jobs.services import job_start
from shebao.people.selectors import persons_visible_to
from shebao.switching import jobs
from shebao.switching.comparison import comparison_create
from shebao.switching.forms_xlsx import bank_names_by_code, form_title, write_form_xlsx
from shebao.switching.models import (
    AccountChange,
    ComparisonClass,
    ComparisonRun,
    Notice,
    RolloutRule,
    SwitchFailure,
    VerificationForm,
    VerificationLine,
)
from shebao.switching.returns import form_return_upload
from shebao.switching.selectors import (
    approval_queue,
    change_get,
    changes_visible_to,
    failures_visible_to,
    fallback_account,
    form_get,
    forms_with_counts,
    notices_visible_to,
    overdue_forms,
    progress_by_org,
    run_get,
    run_results,
    runs_visible_to,
)
from shebao.switching.services import (
    account_change_approve,
    account_change_reject,
    form_mark_downloaded,
    form_review,
    forms_generate,
    switch_failure_report,
    switch_failure_resubmit,
)
from shebao.switching.tabular import TABLE_SUFFIXES, FileRejected
from shebao.web.decorators import requires


def _page(request: HttpRequest, qs, size: int = 50):  # type: ignore[no-untyped-def]
    return Paginator(qs, size).get_page(request.GET.get("page"))


# --- comparison ---------------------------------------------------------------------------------


@requires("switching.comparison_view")
def run_list_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        user: Any = request.user
        if not user.can("switching.comparison_run"):
            raise PermissionDenied("您的角色不能发起比对")
        if request.POST.get("source") == ComparisonRun.Source.OWN_CARDS:
            from shebao.switching.cardsources import OWN_CARDS_DESCRIPTION

            run = comparison_create(
                region=user.region,
                source_description=OWN_CARDS_DESCRIPTION,
                actor=user,
                source_kind=ComparisonRun.Source.OWN_CARDS,
            )
            job = job_start(
                kind=jobs.COMPARE,
                actor=user,
                title=f"比对：{OWN_CARDS_DESCRIPTION}",
                params={"run_id": run.pk},
            )
            messages.success(request, f"已提交比对任务 #{job.pk}")
            return redirect("switching:run", pk=run.pk)
        upload = request.FILES.get("card_file")
        upload_name = (upload.name or "") if upload else ""
        suffix = Path(upload_name).suffix.lower()
        if upload is None or suffix not in TABLE_SUFFIXES:
            messages.error(request, "请选择卡系统数据文件（xlsx、xls、ods 或 csv）")
            return redirect("switching:runs")
        relative = f"switching/card_files/{uuid.uuid4().hex}{suffix}"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        run = comparison_create(region=user.region, source_description=upload_name, actor=user)
        job = job_start(
            kind=jobs.COMPARE,
            actor=user,
            title=f"比对：{upload_name}",
            params={"run_id": run.pk},
            input_file=relative,
        )
        messages.success(request, f"已提交比对任务 #{job.pk}")
        return redirect("switching:run", pk=run.pk)
    page = _page(request, runs_visible_to(request.user), 20)
    return render(request, "switching/run_list.html", {"page_obj": page, "classes": ComparisonClass.choices})


@requires("switching.comparison_view")
def run_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = run_get(request.user, pk)
    klass = request.GET.get("klass", "")
    if klass not in ComparisonClass.values:
        klass = ""
    page = _page(request, run_results(request.user, run, klass))
    tabs = [
        {"value": v, "label": label, "count": (run.counts or {}).get(v, 0)}
        for v, label in ComparisonClass.choices
    ]
    from shebao.jobs.models import Job

    job = Job.objects.filter(kind=jobs.COMPARE, params__run_id=run.pk).order_by("-id").first()
    return render(
        request,
        "switching/run_detail.html",
        {
            "run": run,
            "tabs": tabs,
            "klass": klass,
            "page_obj": page,
            "querystring": f"klass={klass}" if klass else "",
            "job": job,
            "poll_url": reverse("jobs:progress", args=[job.pk]) if job else "",
        },
    )


@require_POST
@requires("switching.comparison_run")
def run_rerun_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = run_get(request.user, pk)
    if run.extract_id is None and run.source_kind == ComparisonRun.Source.FILE:
        messages.error(request, "该比对的卡系统数据未导入成功，请重新上传文件发起比对")
        return redirect("switching:run", pk=run.pk)
    job_start(kind=jobs.COMPARE, actor=request.user, title=f"重新比对 #{run.pk}", params={"run_id": run.pk})
    messages.success(request, "已重新比对，原结果将被替换")
    return redirect("switching:run", pk=run.pk)


@requires("switching.rules_view")
def rule_list_view(request: HttpRequest) -> HttpResponse:
    import datetime as dt

    from shebao.people.models import BenefitCategory
    from shebao.switching.services import rollout_rule_save

    user: Any = request.user
    if request.method == "POST":
        if not user.can("switching.rules_edit"):
            raise PermissionDenied("只有中心复核员可以修改推进规则")
        post = request.POST
        try:
            born = post.get("auto_born_on_or_after", "").strip()
            try:
                cutoff = dt.date.fromisoformat(born) if born else None
            except ValueError:
                raise ValidationError("出生日期格式应为 YYYY-MM-DD", field="auto_born_on_or_after") from None
            if post.get("category") not in BenefitCategory.values:
                raise ValidationError("请选择人员类别", field="category")
            rollout_rule_save(
                actor=user,
                category=post["category"],
                pays_from=parse_period(post.get("pays_from", "")),
                exempt=post.get("exempt") == "1",
                auto_born_on_or_after=cutoff,
                requires_activated_card=post.get("requires_activated_card") == "1",
                auto_requires_in_region=post.get("auto_requires_in_region") == "1",
                note=post.get("note", ""),
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, "推进规则已保存")
        return redirect("switching:rules")
    return render(
        request,
        "switching/rule_list.html",
        {"rules": RolloutRule.objects.all(), "categories": BenefitCategory.choices},
    )


@require_POST
@requires("switching.change_prepare")
def rollout_apply_view(request: HttpRequest) -> HttpResponse:
    """按推进规则切换: prepare the automatic switches of this period for the supervisors' queue."""
    from shebao.switching.automatic import rollout_switches_prepare
    from shebao.switching.rollout import Decision

    try:
        outcome = rollout_switches_prepare(actor=request.user, period=period_of(timezone.localdate()))
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        others = "，".join(f"{d.label} {outcome[d.value]} 人" for d in Decision if d != Decision.SWITCH)
        messages.success(request, f"已按推进规则提交 {outcome['prepared']} 人的账户切换，待复核；{others}")
    return redirect("switching:rules")


@requires("switching.rules_view")
def preference_view(request: HttpRequest) -> HttpResponse:
    """本人申请: a person asks to switch or to stay; the page shows what the policy now decides for them."""
    import datetime as dt

    from shebao.people.selectors import person_search
    from shebao.switching.models import SwitchPreference
    from shebao.switching.selectors import person_decision
    from shebao.switching.services import switch_preference_record

    user: Any = request.user
    if request.method == "POST":
        if not user.can("switching.preference_record"):
            raise PermissionDenied("您的角色不能登记本人申请")
        person = person_search(user, request.POST.get("ssn", "").strip()).first()
        try:
            if person is None or len(request.POST.get("ssn", "").strip()) != 18:
                raise ValidationError("请输入管辖范围内人员的18位社会保障号码", field="ssn")
            try:
                asked_on = dt.date.fromisoformat(request.POST.get("asked_on", ""))
            except ValueError:
                raise ValidationError("申请日期格式应为 YYYY-MM-DD", field="asked_on") from None
            switch_preference_record(
                actor=user,
                person=person,
                choice=request.POST.get("choice", ""),
                asked_on=asked_on,
                proof_note=request.POST.get("proof_note", ""),
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
        else:
            decision, reason = person_decision(user, person, period=period_of(timezone.localdate()))
            messages.success(request, f"已登记 {person.name} 的申请；按现行规则：{decision}（{reason}）")
        return redirect("switching:preferences")
    prefs = (
        SwitchPreference.objects.filter(person__in=persons_visible_to(user).values("pk"))
        .select_related("person", "recorded_by")
        .order_by("-recorded_at", "-id")
    )
    return render(
        request,
        "switching/preferences.html",
        {
            "page_obj": _page(request, prefs, 20),
            "choices": SwitchPreference.Choice.choices,
            "today": timezone.localdate(),
        },
    )


# --- verification forms --------------------------------------------------------------------------


@requires("switching.form_list")
def form_list_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            created = forms_generate(actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"已生成 {len(created)} 张核实反馈表" if created else "没有需要生成的核实反馈表"
            )
        return redirect("switching:forms")
    qs = forms_with_counts(request.user)
    state = request.GET.get("state", "")
    if state in VerificationForm.State.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "switching/form_list.html",
        {
            "page_obj": _page(request, qs),
            "states": VerificationForm.State.choices,
            "state": state,
            "querystring": f"state={state}" if state else "",
            "today": timezone.localdate(),
        },
    )


@requires("switching.form_own")
def my_forms_view(request: HttpRequest) -> HttpResponse:
    failures = failures_visible_to(request.user).filter(state=SwitchFailure.State.OPEN)
    notices = notices_visible_to(request.user)[:5]
    return render(
        request,
        "switching/my_forms.html",
        {
            "page_obj": _page(request, forms_with_counts(request.user)),
            "today": timezone.localdate(),
            "failures": failures,
            "notices": notices,
        },
    )


def _form_context(request: HttpRequest, form: VerificationForm) -> dict:
    user: Any = request.user
    own = (form.employer_id and user.employer_id == form.employer_id) or (
        form.township_id and user.township_id == form.township_id
    )
    return {
        "form": form,
        "title": form_title(form),
        "lines": form.lines.select_related("person").order_by("row_no"),
        "changes": form.changes.select_related("person").order_by("pk"),
        "can_return": bool(own and user.can("switching.form_return")),
        "can_review": user.can("switching.change_approve") and form.state == VerificationForm.State.RETURNED,
        "results": VerificationLine.Result.choices,
    }


@requires("switching.form_view")
def form_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = form_get(request.user, pk)
    return render(request, "switching/form_detail.html", _form_context(request, form))


@requires("switching.form_view")
def form_download_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    form = form_mark_downloaded(form=form_get(request.user, pk), actor=request.user)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    tmp.close()
    user: Any = request.user
    write_form_xlsx(
        form, Path(tmp.name), card_bank_names=bank_names_by_code(), full_ids=bool(user.sees_full_ids)
    )
    handle = open(tmp.name, "rb")  # noqa: SIM115
    Path(tmp.name).unlink()  # the open handle keeps the data until the response is sent
    return FileResponse(handle, as_attachment=True, filename=f"核实反馈表_{form.org_name}_{form.code}.xlsx")


@requires("switching.form_view")
def form_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = form_get(request.user, pk)
    return render(request, "switching/form_print.html", _form_context(request, form))


@require_POST
@requires("switching.form_return")
def form_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = form_get(request.user, pk)
    data_file = request.FILES.get("data_file")
    if data_file is None:
        messages.error(request, "请选择填好的核实反馈表文件")
        return redirect("switching:form", pk=pk)
    before = form.return_checksum
    try:
        form = form_return_upload(
            form=form, actor=request.user, data_file=data_file, scan_file=request.FILES.get("scan_file")
        )
    except FileRejected as exc:
        ctx = _form_context(request, form_get(request.user, pk))
        ctx["problems"] = exc.problems
        ctx["problem_total"] = exc.total
        return render(request, "switching/form_detail.html", ctx, status=400)
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
        return redirect("switching:form", pk=pk)
    if before and before == form.return_checksum:
        messages.info(request, "该文件已报送过，未做任何改动")
    else:
        messages.success(request, "核实反馈表已报送，等待中心复核")
    return redirect("switching:form", pk=pk)


@requires("switching.form_return")
def form_online_view(request: HttpRequest, pk: int) -> HttpResponse:
    """机关事业单位: edit the retirees' bank account name and number online, attach the stamped scan."""
    from shebao.switching.returns import form_return_online

    user: Any = request.user
    form = form_get(user, pk)
    if form.employer is None or form.employer.kind != "institution":
        messages.error(request, "在线批量修改仅适用于机关事业单位，企业请下载并上传核实反馈表")
        return redirect("switching:form", pk=pk)
    problems: list = []
    if request.method == "POST":
        answers = {
            line_id: {
                k: request.POST.get(f"{k}_{line_id}", "")
                for k in ("result", "remark", "bank_name", "account_no", "account_name")
            }
            for line_id in form.lines.values_list("pk", flat=True)
        }
        before = form.return_checksum
        try:
            form = form_return_online(
                form=form, actor=user, answers=answers, scan_file=request.FILES.get("scan_file")
            )
        except FileRejected as exc:
            problems = exc.problems
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
            return redirect("switching:form_online", pk=pk)
        else:
            if before and before == form.return_checksum:
                messages.info(request, "内容未变，未做任何改动")
            else:
                messages.success(request, "已在线报送，等待中心复核")
            return redirect("switching:form", pk=pk)
    elif form.state == VerificationForm.State.GENERATED:
        form = form_mark_downloaded(form=form, actor=user)  # opening it online starts the clock
    lines = list(form.lines.order_by("row_no"))
    for line in lines:
        line.posted = {  # type: ignore[attr-defined]
            k: request.POST.get(f"{k}_{line.pk}", default)
            for k, default in (
                ("result", line.result),
                ("remark", line.remark),
                ("bank_name", ""),
                ("account_no", line.card_account if user.sees_full_ids else ""),
                ("account_name", line.name),
            )
        }
    return render(
        request,
        "switching/form_online.html",
        {"form": form, "lines": lines, "problems": problems, "results": VerificationLine.Result.choices},
        status=400 if problems else 200,
    )


@require_POST
@requires("switching.change_approve")
def form_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = form_get(request.user, pk)
    approve = request.POST.get("decision") == "approve"
    try:
        form_review(form=form, actor=request.user, approve=approve, note=request.POST.get("note", ""))
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, "已复核通过，账户将于次月切换" if approve else "已退回该单位")
    return redirect("switching:form", pk=pk)


@requires("switching.form_list")
def progress_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    period = period_of(today)
    rows = progress_by_org(request.user, period=period, today=today)
    total = sum(r["total"] for r in rows)
    on_card = sum(r["on_card"] for r in rows)
    worst = rows[:30]
    chart = {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 140, "right": 40, "top": 20, "bottom": 30},
        "xAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        # Lowest coverage first, at the top (a category axis draws its first item at the bottom).
        "yAxis": {"type": "category", "inverse": True, "data": [r["name"] for r in worst]},
        "series": [
            {
                "type": "bar",
                "name": "社保卡发放覆盖率",
                "data": [r["coverage"] for r in worst],
                "markLine": {"data": [{"xAxis": 100, "name": "目标"}], "symbol": "none"},
            }
        ],
    }
    return render(
        request,
        "switching/progress.html",
        {
            "rows": rows,
            "period": period,
            "total": total,
            "on_card": on_card,
            "coverage": round(100 * on_card / total, 1) if total else 0.0,
            "chart": chart,
            "chart_height": max(240, 26 * len(worst) + 60),
            "overdue": overdue_forms(request.user, today)[:200],
            "today": today,
        },
    )


@requires("switching.intake")
def intake_view(request: HttpRequest) -> HttpResponse:
    from shebao.switching import intake

    user: Any = request.user
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "record")
        try:
            if action == "record":
                record = intake.township_intake_record(
                    actor=user,
                    ssn=request.POST.get("ssn", ""),
                    card_no=request.POST.get("card_no", ""),
                    account_no=request.POST.get("account_no", ""),
                    account_name=request.POST.get("account_name", ""),
                    bank_name=request.POST.get("bank_name", ""),
                    fin_activated=request.POST.get("fin_activated") == "1",
                    card_photo=request.FILES.get("card_photo"),
                    id_photo=request.FILES.get("id_photo"),
                    note=request.POST.get("note", ""),
                )
                tip = "" if record.fin_activated else "，请督促其到社保卡所属银行激活金融功能"
                messages.success(request, f"已登记 {record.person.name}{tip}；请告知原存折（卡）需保留6个月")
            elif action == "activated":
                intake.township_intake_mark_activated(
                    actor=user, intake_id=int(request.POST.get("intake", "0"))
                )
                messages.success(request, "已标记金融功能已开通")
            else:
                submission = intake.township_submit(actor=user, scan_file=request.FILES.get("scan_file"))
                messages.success(request, f"已报送 {submission.intakes.count()} 人，等待中心复核")
            return redirect("switching:intake")
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            error = exc.message
    today = timezone.localdate()
    return render(
        request,
        "switching/intake.html",
        {
            "intakes": intake.open_intakes(user),
            "due": intake.township_due_date(today),
            "error": error,
            "posted": request.POST if error else {},
        },
        status=400 if error else 200,
    )


@requires("switching.change_view")
def new_beneficiaries_view(request: HttpRequest) -> HttpResponse:
    from shebao.switching.selectors import new_beneficiary_follow_up
    from shebao.switching.services import new_beneficiaries_take_card

    if request.method == "POST":
        if not request.user.can("switching.change_prepare"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色不能登记新增待遇人员的发放账户")
        try:
            outcome = new_beneficiaries_take_card(actor=request.user, period=period_of(timezone.localdate()))
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"已为 {outcome['created']} 名新增待遇人员启用社保卡账户；{outcome['follow_up']} 人待跟进",
            )
        return redirect("switching:new_beneficiaries")
    return render(
        request, "switching/new_beneficiaries.html", {"rows": new_beneficiary_follow_up(request.user)}
    )


@requires("switching.notice_view")
def notice_list_view(request: HttpRequest) -> HttpResponse:
    from shebao.switching.services import notice_publish, notice_withdraw

    user: Any = request.user
    if request.method == "POST":
        if not user.can("switching.notice_publish"):
            raise PermissionDenied("您的角色不能发布公告")
        try:
            if request.POST.get("withdraw"):
                notice_withdraw(actor=user, notice_id=int(request.POST["withdraw"]))
                messages.success(request, "公告已撤回")
            else:
                notice_publish(
                    actor=user,
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    audience=request.POST.get("audience", "all"),
                )
                messages.success(request, "公告已发布")
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message)
        return redirect("switching:notices")
    return render(
        request,
        "switching/notice_list.html",
        {"page_obj": _page(request, notices_visible_to(user), 20), "audiences": Notice.Audience.choices},
    )


def _file_response(field: Any) -> HttpResponseBase:
    if not field:
        raise Http404("文件不存在")
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("文件不存在") from None
    return FileResponse(handle, as_attachment=False, filename=Path(field.name).name)


@requires("switching.form_view")
def form_file_view(request: HttpRequest, pk: int, which: str) -> HttpResponseBase:
    """The stamped scan or the returned spreadsheet of a form, for whoever may see the form."""
    form = form_get(request.user, pk)
    if which not in ("scan", "return"):
        raise Http404("文件不存在")
    return _file_response(form.scan_file if which == "scan" else form.return_file)


@requires("switching.change_view")
def change_file_view(request: HttpRequest, pk: int, which: str) -> HttpResponseBase:
    """The photos (社保卡, 身份证正面) and the township's stamped scan kept with a change from township intake."""
    from shebao.switching.models import TownshipIntake

    change = change_get(request.user, pk)
    intake = TownshipIntake.objects.filter(change=change).select_related("submission").first()
    if intake is None or which not in ("card", "id", "scan"):
        raise Http404("文件不存在")
    field = {"card": intake.card_photo, "id": intake.id_photo}.get(which) or (
        intake.submission.scan_file if intake.submission else None
    )
    return _file_response(field)


# --- account changes ----------------------------------------------------------------------------


@requires("switching.change_view")
def change_list_view(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", AccountChange.State.PREPARED)
    qs = (
        approval_queue(request.user)
        if state == AccountChange.State.PREPARED
        else changes_visible_to(request.user)
    )
    if state in AccountChange.State.values and state != AccountChange.State.PREPARED:
        qs = qs.filter(state=state)
    return render(
        request,
        "switching/change_list.html",
        {
            "page_obj": _page(request, qs),
            "state": state,
            "states": AccountChange.State.choices,
            "querystring": f"state={state}",
            "reasons": SwitchFailure.Reason.choices,
            "this_period": period_of(timezone.localdate()),
        },
    )


@require_POST
@requires("switching.change_approve")
def change_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = change_get(request.user, pk)
    try:
        if request.POST.get("decision") == "approve":
            change = account_change_approve(change_id=change.pk, actor=request.user)
            messages.success(
                request, f"已复核通过：{change.person.name} 自 {change.valid_from} 起发放到社保卡账户"
            )
        else:
            account_change_reject(
                change_id=change.pk, actor=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, f"已驳回：{change.person.name}")
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
    return redirect(f"{reverse('switching:changes')}?state=prepared")


@require_POST
@requires("switching.failure_report")
def change_failure_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = change_get(request.user, pk)
    try:
        period = parse_period(request.POST.get("period", ""))
        switch_failure_report(
            actor=request.user,
            change_id=change.pk,
            period=period,
            reason=request.POST.get("reason", ""),
            detail=request.POST.get("detail", ""),
        )
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已登记发放失败，{change.person.name} 已退回单位（乡镇）处理")
    return redirect("switching:failures")


@requires("switching.change_view")
def failure_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "switching/failure_list.html",
        {
            "page_obj": _page(request, failures_visible_to(request.user).select_related("payment_line")),
            "reasons": SwitchFailure.Reason.choices,
            "can_collect": request.user.can("switching.failure_report"),  # type: ignore[union-attr]
        },
    )


@require_POST
@requires("switching.failure_report")
def failures_collect_view(request: HttpRequest) -> HttpResponse:
    from shebao.switching.automatic import switch_failures_from_returns

    made = switch_failures_from_returns(actor=request.user)
    messages.success(
        request, f"已从银行回盘登记 {made} 人的发放失败并退回单位（乡镇）" if made else "没有新的回盘发放失败"
    )
    return redirect("switching:failures")


@require_POST
@requires("switching.form_return")
def failure_resubmit_view(request: HttpRequest, pk: int) -> HttpResponse:
    failure = failures_visible_to(request.user).filter(pk=pk).first()
    if failure is None:
        raise PermissionDenied("该发放失败记录不属于您的单位或乡镇")
    try:
        switch_failure_resubmit(
            actor=request.user,
            failure_id=failure.pk,
            account_no=request.POST.get("account_no", ""),
            account_name=request.POST.get("account_name", ""),
            bank_name=request.POST.get("bank_name", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, f"{failure.person.name}：{exc.message}")
    else:
        messages.success(request, f"{failure.person.name} 的账户已重新报送，等待中心复核")
    return redirect("switching:my_forms")


@requires("switching.change_view")
def change_notice_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = change_get(request.user, pk)
    if change.state != AccountChange.State.APPROVED:
        raise Http404("只有已生效的变更可以打印告知书")
    old = fallback_account(change.person_id, change.valid_from) if change.valid_from else None
    return render(request, "switching/change_notice.html", {"change": change, "old": old})
