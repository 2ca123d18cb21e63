from __future__ import annotations

from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.money import format_yuan_display
from shebao.jobs.services import job_start
from shebao.orgs.models import Region
from shebao.payments import jobs, selectors, services
from shebao.payments.forms import (
    CertificationForm,
    DeathForm,
    PayrollGenerateForm,
    RepaymentForm,
    ResolveForm,
    ReturnUploadForm,
    SettleForm,
    WhitelistForm,
)
from shebao.payments.models import FailureReason, PaymentLine
from shebao.payments.reconciliation import (
    ReconciliationError,
    bank_file_figures,
    fen_sum,
    payroll_figures,
    payroll_reconcile,
    yuan,
)
from shebao.web.decorators import requires

# A file larger than this is imported by a background job with a progress page.
IMPORT_INLINE_BYTES = 1024 * 1024
INLINE_LINES = jobs.INLINE_LINES
payroll_size = jobs.payroll_size

# Errors a clerk can act on are shown on the page; scope refusals (PermissionDenied) become a 403.
SHOWN = (ValidationError, StateError, ReconciliationError)


def _region(request: HttpRequest) -> Region:
    """The centre user's own region: payrolls are made for it (and the regions below it)."""
    region = getattr(request.user, "region", None)
    if region is None:
        raise PermissionDenied("您的账号没有所属统筹区，不能生成发放表")
    return region


@requires("payroll.view")
def payroll_list_view(request: HttpRequest) -> HttpResponse:
    form = PayrollGenerateForm(request.POST or None)
    if request.method == "POST":
        if not request.user.can("payroll.prepare"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权生成发放表")
        if form.is_valid() and payroll_size(request.user, form.cleaned_data["benefit_type"]) > INLINE_LINES:
            job = job_start(
                kind=jobs.PAYROLL_GENERATE,
                actor=request.user,
                title=f"生成发放表：{form.cleaned_data['period']} {form.cleaned_data['benefit_type'].name}",
                params={
                    "region_id": _region(request).pk,
                    "period": form.cleaned_data["period"],
                    "benefit_type_id": form.cleaned_data["benefit_type"].pk,
                },
            )
            messages.success(request, "待遇人员较多，已提交后台任务生成发放表")
            return redirect("jobs:detail", job.pk)
        if form.is_valid():
            try:
                payroll = services.payroll_generate(
                    region=_region(request),
                    period=form.cleaned_data["period"],
                    benefit_type=form.cleaned_data["benefit_type"],
                    actor=request.user,
                )
            except SHOWN as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "发放表已生成")
                return redirect("payments:payroll_detail", pk=payroll.pk)
    page = Paginator(selectors.payrolls_visible_to(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "payments/payroll_list.html", {"page_obj": page, "form": form})


@requires("payroll.view")
def payroll_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    payroll = selectors.payroll_get(request.user, pk)
    state = request.GET.get("state", "")
    if state not in PaymentLine.State.values:
        state = ""
    page = Paginator(selectors.payroll_lines(payroll, state=state), 50).get_page(request.GET.get("page"))
    files = [(f, bank_file_figures(f)) for f in payroll.bank_files.select_related("bank", "return_file")]
    # The same check the code runs after every step: the lines against themselves by state, against
    # the approval snapshot, every bank file's control totals and every return file's totals.
    try:
        figures, reconcile_error = payroll_reconcile(payroll), ""
    except ReconciliationError as exc:
        figures, reconcile_error = payroll_figures(payroll), exc.message
    return render(
        request,
        "payments/payroll_detail.html",
        {
            "payroll": payroll,
            "figures": figures,
            "reconcile_error": reconcile_error,
            "files": files,
            "page_obj": page,
            "state": state,
            "states": PaymentLine.State.choices,
            "querystring": f"state={state}" if state else "",
            "upload_form": ReturnUploadForm(),
        },
    )


def _act(request: HttpRequest, pk: int, call, ok: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    payroll = selectors.payroll_get(request.user, pk)
    try:
        call(payroll)
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("payments:payroll_detail", pk=payroll.pk)


@require_POST
@requires("payroll.approve")
def payroll_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda p: services.payroll_approve(payroll=p, actor=request.user), "发放表已复核"
    )


@require_POST
@requires("payroll.file")
def payroll_preflight_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda p: services.payroll_preflight(payroll=p, actor=request.user), "报盘前检查已完成"
    )


@require_POST
@requires("payroll.file")
def payroll_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    payroll = selectors.payroll_get(request.user, pk)
    if payroll.state == payroll.State.APPROVED and payroll.lines.count() > INLINE_LINES:
        job = job_start(
            kind=jobs.PAYROLL_FILE,
            actor=request.user,
            title=f"生成代发文件：{payroll}"[:200],
            params={"payroll_id": payroll.pk},
        )
        messages.success(request, "明细较多，已提交后台任务生成代发文件")
        return redirect("jobs:detail", job.pk)
    return _act(request, pk, lambda p: services.payroll_file(payroll=p, actor=request.user), "代发文件已生成")


@requires("payroll.download")
def bank_file_download_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    from shebao.payments.layouts import get_layout

    bank_file = selectors.bank_file_get(request.user, pk)
    spool = services.bank_file_download(bank_file=bank_file, actor=request.user)
    layout = get_layout(bank_file.layout)
    # Streamed from the checked temporary file (FileResponse closes it): a file of 250,000 lines is
    # never held in memory whole.
    response = FileResponse(spool, content_type=layout.content_type)
    response["Content-Disposition"] = f'attachment; filename="{bank_file.batch_no}.{layout.extension}"'
    return response


@require_POST
@requires("payroll.return_import")
def return_upload_view(request: HttpRequest, pk: int) -> HttpResponse:
    payroll = selectors.payroll_get(request.user, pk)
    form = ReturnUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择回盘文件")
        return redirect("payments:payroll_detail", pk=payroll.pk)
    upload = form.cleaned_data["file"]
    try:
        result = services.return_file_import(
            payroll=payroll, data=upload, file_name=upload.name, actor=request.user
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        if result.duplicate:
            messages.info(request, "该回盘文件已导入过，本次未做任何更改")
        else:
            messages.success(request, f"回盘文件已导入：成功{result.paid}笔，失败{result.failed}笔")
    return redirect("payments:payroll_detail", pk=payroll.pk)


@requires("payment.failures")
def failures_view(request: HttpRequest) -> HttpResponse:
    reason = request.GET.get("reason", "")
    if reason not in FailureReason.values:
        reason = ""
    status = request.GET.get("status", "open")
    if status not in dict(selectors.FAILURE_STATUSES):
        status = "open"
    page = Paginator(
        selectors.failed_lines_visible_to(request.user, reason=reason, status=status), 50
    ).get_page(request.GET.get("page"))
    from django.db.models import Count

    by_reason = (
        selectors.failed_lines_visible_to(request.user, status=status)
        .order_by()
        .values_list("failure_code")
        .annotate(n=Count("id"), fen=fen_sum())
        .order_by("-n")
    )
    labels = dict(FailureReason.choices)
    return render(
        request,
        "payments/failures.html",
        {
            "page_obj": page,
            "reason": reason,
            "reasons": FailureReason.choices,
            "status": status,
            "statuses": selectors.FAILURE_STATUSES,
            "by_reason": [(code, labels.get(code, code), n, yuan(fen)) for code, n, fen in by_reason],
            "held": selectors.held_lines_visible_to(request.user)[:200],
            "pending_whitelist": selectors.pending_whitelist_visible_to(request.user)[:200],
            "repayment_form": RepaymentForm(),
            "querystring": f"status={status}" + (f"&reason={reason}" if reason else ""),
        },
    )


@require_POST
@requires("whitelist.edit")
def whitelist_add_view(request: HttpRequest) -> HttpResponse:
    form = WhitelistForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写银行认可的户名")
        return redirect("payments:failures")
    from shebao.people.selectors import persons_visible_to

    line = (
        PaymentLine.objects.filter(
            pk=form.cleaned_data["line"], person__in=persons_visible_to(request.user).values("pk")
        )
        .select_related("person")
        .first()
    )
    if line is None:
        raise PermissionDenied("该发放明细不在您的管辖范围内，或不存在")
    try:
        services.name_whitelist_add(
            person=line.person,
            spelling=form.cleaned_data["spelling"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已登记{line.person.name}的银行认可户名，待另一名复核员确认后释放暂缓发放的明细"
        )
    return redirect("payments:failures")


@require_POST
@requires("whitelist.confirm")
def whitelist_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.pending_whitelist_visible_to(request.user).filter(pk=pk).first()
    if entry is None:
        messages.error(request, "该户名已确认或不在您的管辖范围内")
        return redirect("payments:failures")
    try:
        services.name_whitelist_confirm(entry=entry, actor=request.user)
    except (*SHOWN, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已确认{entry.person.name}的银行认可户名“{entry.spelling}”，并重新检查了未报盘的发放表"
        )
    return redirect("payments:failures")


@requires("payment.resolve")
def line_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_get(request.user, pk)
    form = ResolveForm(
        request.POST or None, initial={"spelling": line.account_name, "account_name": line.person.name}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.line_resolve(
                line=line,
                kind=data["kind"],
                spelling=data["spelling"],
                bank=data["bank"],
                account_no=data["account_no"],
                account_name=data["account_name"],
                proof=data["proof"],
                note=data["note"],
                actor=request.user,
            )
        except SHOWN as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{line.person.name}的发放失败已处理，将在下一个二次支付批次中支付")
            return redirect(reverse("payments:failures") + "?status=resolved")
    return render(request, "payments/resolve.html", {"line": line, "form": form})


@require_POST
@requires("payment.resolve")
def line_await_card_view(request: HttpRequest, pk: int) -> HttpResponse:
    from shebao.payments.failures import line_await_card

    line = selectors.line_get(request.user, pk)
    try:
        line_await_card(line=line, note=request.POST.get("note", ""), actor=request.user)
    except SHOWN as exc:
        messages.error(request, exc.message)
        return redirect("payments:line_resolve", pk=line.pk)
    messages.success(
        request, f"{line.person.name}的明细已登记等待新卡，仍保留在待处理中；新卡启用后选择“按新账户支付”"
    )
    return redirect(reverse("payments:failures") + "?status=open")


@require_POST
@requires("payroll.prepare")
def repayment_generate_view(request: HttpRequest) -> HttpResponse:
    form = RepaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择待遇类型")
        return redirect("payments:failures")
    try:
        payroll = services.repayment_generate(
            region=_region(request),
            benefit_type=form.cleaned_data["benefit_type"],
            actor=request.user,
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
        return redirect("payments:failures")
    messages.success(request, "二次支付批次已生成，请提交复核")
    return redirect("payments:payroll_detail", pk=payroll.pk)


@requires("payroll.view")
def payroll_export_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    from shebao.jobs.exports import export_send

    payroll = selectors.payroll_get(request.user, pk)
    return export_send(request, jobs.PAYROLL_EXPORT.name, {"payroll": payroll.pk})


@requires("payment.failures")
def failures_export_view(request: HttpRequest) -> HttpResponseBase:
    from shebao.jobs.exports import export_send

    reason = request.GET.get("reason", "")
    reason = reason if reason in FailureReason.values else ""
    status = request.GET.get("status", "all")
    status = status if status in dict(selectors.FAILURE_STATUSES) else "all"
    return export_send(request, jobs.FAILURE_EXPORT.name, {"reason": reason, "status": status})


@require_POST
@requires("death.record")
def death_import_view(request: HttpRequest) -> HttpResponseBase:
    """Deaths reported in a file (civil affairs, police, units, relatives): all rows or none."""

    from shebao.payments.deaths import death_import
    from shebao.payments.forms import DeathImportForm
    from shebao.people.importers import ImportRejected

    form = DeathImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的文件和信息来源")
        return redirect("payments:death_record")
    upload = form.cleaned_data["file"]
    if upload.size > IMPORT_INLINE_BYTES:
        return _import_job(
            request,
            upload,
            kind=jobs.DEATH_IMPORT,
            title=f"死亡信息导入：{upload.name}",
            params={"source": form.cleaned_data["source"]},
        )
    with _upload_on_disk(upload) as path:
        try:
            result = death_import(
                path=path, file_name=upload.name, source=form.cleaned_data["source"], actor=request.user
            )
        except ImportRejected as exc:
            return death_record_view(request, import_form=form, problems=exc.problems, rejected=exc.message)
        except SHOWN as exc:
            messages.error(request, exc.message)
            return redirect("payments:death_record")
    if result.duplicate:
        messages.info(request, "该文件已导入过，本次未做任何更改")
        return redirect("payments:death_record")
    messages.success(
        request,
        f"死亡信息导入完成：共{result.rows}行，登记死亡{result.recorded}人（已登记过的{result.unchanged}人未变），"
        f"终止待遇{result.terminated}项，暂缓{result.held}笔，发现多发{result.overpayments}笔。"
        "请告知家属可申领丧葬补助金和抚恤金。",
    )
    return redirect(
        f"{reverse('payments:death_record')}?imported={','.join(map(str, result.person_ids[:200]))}"
    )


@requires("death.record")
def death_record_view(request: HttpRequest, **extra) -> HttpResponse:  # type: ignore[no-untyped-def]
    return _death_page(request, **extra)


@requires("death.correct")
def death_correct_view(request: HttpRequest) -> HttpResponse:
    """The same death page for a centre supervisor, with the correction form (更正死亡登记)."""
    return _death_page(request)


def _death_page(request: HttpRequest, **extra) -> HttpResponse:  # type: ignore[no-untyped-def]
    from shebao.payments.forms import DeathCorrectForm, DeathImportForm
    from shebao.people.selectors import persons_visible_to

    can_record = request.user.can("death.record")  # type: ignore[union-attr]
    can_correct = request.user.can("death.correct")  # type: ignore[union-attr]
    correcting = request.method == "POST" and "correct" in request.POST and not extra
    form = DeathForm(request.POST if request.method == "POST" and not extra and not correcting else None)
    correct_form = DeathCorrectForm(request.POST if correcting else None)
    if correcting:
        if not can_correct:
            raise DjangoPermissionDenied("只有中心复核员可以更正死亡登记")
        if correct_form.is_valid():
            data = correct_form.cleaned_data
            person = persons_visible_to(request.user).filter(ssn=data["ssn"].strip().upper()).first()
            if person is None:
                correct_form.add_error("ssn", "在您的管辖范围内没有该社会保障号码的人员")
            else:
                from shebao.payments.deaths import death_correct

                try:
                    fixed = death_correct(
                        person=person,
                        death_date=data["death_date"],
                        reason=data["reason"],
                        actor=request.user,
                    )
                except (*SHOWN, PermissionDenied) as exc:
                    messages.error(request, exc.message)
                else:
                    what = (
                        f"死亡日期改为{data['death_date']:%Y-%m-%d}" if data["death_date"] else "撤销死亡登记"
                    )
                    messages.success(
                        request,
                        f"已更正{person.name}的死亡登记（{what}）：恢复待遇{fixed.reactivated}项，"
                        f"恢复待发放{fixed.released}笔，补发{fixed.back_pay_months}个月，"
                        f"撤销多发{fixed.overpayments_cancelled}笔"
                        + (
                            f"，已报盘暂缓{fixed.still_held_at_bank}笔待二次支付"
                            if fixed.still_held_at_bank
                            else ""
                        )
                        + (
                            f"；另有已退回或已抵扣的多发{fixed.settled_overpayments}笔，请与家属核实后处理"
                            if fixed.settled_overpayments
                            else ""
                        )
                        + "。",
                    )
                    return redirect("payments:death_correct")
    elif request.method == "POST" and not can_record:
        raise DjangoPermissionDenied("您的角色不能登记死亡")
    if request.method == "POST" and not correcting and form.is_valid():
        person = persons_visible_to(request.user).filter(ssn=form.cleaned_data["ssn"].strip().upper()).first()
        if person is None:
            form.add_error("ssn", "在您的管辖范围内没有该社会保障号码的人员")
        else:
            try:
                outcome = services.death_record(
                    person=person,
                    death_date=form.cleaned_data["death_date"],
                    source=form.cleaned_data["source"],
                    actor=request.user,
                )
            except SHOWN as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    f"已登记{person.name}死亡：终止待遇{outcome.terminated}项，草稿中移除{outcome.dropped_from_drafts}笔，"
                    f"暂缓{outcome.held}笔，发现多发{outcome.overpayments}笔。"
                    "请告知家属可申领丧葬补助金和抚恤金。",
                )
                return redirect("payments:survivor_claim", person_id=person.pk)
    from shebao.payments.models import SurvivorClaim

    recent = (
        persons_visible_to(request.user)
        .filter(death_date__isnull=False)
        .annotate(
            has_claim=Exists(
                SurvivorClaim.objects.filter(deceased=OuterRef("pk")).exclude(
                    state=SurvivorClaim.State.REJECTED
                )
            )
        )
        .order_by("-death_date", "pk")
    )
    imported = [int(i) for i in request.GET.get("imported", "").split(",") if i.isdigit()]
    context = {
        "form": form,
        "recent": recent.filter(pk__in=imported) if imported else recent[:50],
        "imported": bool(imported),
        "import_form": extra.pop("import_form", None) or DeathImportForm(),
        "correct_form": correct_form,
        "can_record": can_record,
        "can_correct": can_correct,
        **extra,
    }
    return render(request, "payments/death.html", context)


@requires("survivor.view")
def survivor_claim_view(request: HttpRequest, person_id: int) -> HttpResponse:
    """After a death: compute the funeral grant and survivor pension from the rule's inputs, record the
    family member who receives them, and grant the one-off entitlements the payrolls will pay."""
    from shebao.payments import survivors
    from shebao.payments.forms import SurvivorClaimForm
    from shebao.payments.models import SurvivorClaim
    from shebao.people.selectors import person_get

    deceased = person_get(request.user, person_id)
    claim = (
        SurvivorClaim.objects.select_related(
            "recipient", "account__bank", "funeral_entitlement", "survivor_entitlement", "created_by"
        )
        .filter(pk__in=survivors.live_claims(deceased).values("pk"))
        .first()
    )
    ctx: dict = {"deceased": deceased, "claim": claim}  # type: ignore[type-arg]
    if claim is not None:
        ctx["lines"] = (
            PaymentLine.objects.filter(
                person_id=claim.recipient_id,
                period=claim.period,
                benefit_type__code__in=[survivors.FUNERAL, survivors.SURVIVOR],
            )
            .select_related("payroll", "benefit_type", "bank_file")
            .order_by("benefit_type__sort_order")
        )
        return render(request, "payments/survivor_claim.html", ctx)
    if deceased.death_date is None:
        messages.error(request, f"{deceased.name}尚未登记死亡")
        return redirect("payments:death_record")
    form = SurvivorClaimForm(request.POST or None)
    ctx["form"] = form
    ctx["open_overpayments"] = survivors.open_overpayments(deceased)
    if request.method == "POST" and form.is_valid():
        if not request.user.can("survivor.claim"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权核定丧葬补助金和抚恤金")
        data = form.cleaned_data
        try:
            ctx["quote"] = survivors.survivor_quote(
                deceased=deceased,
                base_monthly_income=data["base_monthly_income"],
                contribution_months=data["contribution_months"],
                pension_months=data["pension_months"] or 0,
                offset_overpayments=data["offset_overpayments"],
            )
            if "confirm" in request.POST:
                claim = survivors.survivor_claim_create(
                    deceased=deceased,
                    actor=request.user,
                    base_monthly_income=data["base_monthly_income"],
                    contribution_months=data["contribution_months"],
                    pension_months=data["pension_months"] or 0,
                    recipient_ssn=data["recipient_ssn"],
                    recipient_name=data["recipient_name"],
                    relation=data["relation"],
                    bank=data["bank"],
                    account_no=data["account_no"],
                    offset_overpayments=data["offset_overpayments"],
                )
                messages.success(
                    request,
                    f"已核定{deceased.name}的丧葬补助金{format_yuan_display(claim.funeral_grant)}元、抚恤金"
                    f"{format_yuan_display(claim.survivor_pension)}元，待另一名复核员复核通过后随发放表发放至"
                    f"{claim.recipient.name}的账户。",
                )
                return redirect("payments:survivor_claim", person_id=deceased.pk)
        except SHOWN as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
    status = 400 if request.method == "POST" and (form.errors or "confirm" in request.POST) else 200
    return render(request, "payments/survivor_claim.html", ctx, status=status)


@require_POST
@requires("survivor.approve")
def survivor_claim_decide_view(request: HttpRequest, person_id: int) -> HttpResponse:
    from shebao.payments import survivors
    from shebao.people.selectors import person_get

    deceased = person_get(request.user, person_id)
    claim = survivors.live_claims(deceased).first()
    if claim is None:
        messages.error(request, "没有待复核的丧葬补助金和抚恤金")
        return redirect("payments:survivor_claim", person_id=deceased.pk)
    approve = request.POST.get("decision") == "approve"
    try:
        survivors.survivor_claim_decide(
            claim=claim, approve=approve, note=request.POST.get("note", ""), actor=request.user
        )
    except (*SHOWN, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"已复核通过，将随{claim.period}期发放表发放" if approve else "已退回，经办员可重新核定",
        )
    return redirect("payments:survivor_claim", person_id=deceased.pk)


@requires("overpayment.view")
def overpayments_view(request: HttpRequest) -> HttpResponse:
    from shebao.payments.models import Overpayment

    state = request.GET.get("state", "open")
    state = state if state in Overpayment.State.values else ""
    page = Paginator(selectors.overpayments_visible_to(request.user, state=state), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "payments/overpayments.html",
        {
            "page_obj": page,
            "state": state,
            "states": Overpayment.State.choices,
            "settle_form": SettleForm(),
            "querystring": f"state={state}",
        },
    )


@require_POST
@requires("overpayment.settle")
def overpayment_settle_view(request: HttpRequest, pk: int) -> HttpResponse:
    overpayment = selectors.overpayments_visible_to(request.user).filter(pk=pk).first()
    if overpayment is None:
        raise PermissionDenied("该笔多发待遇不在您的管辖范围内，或不存在")
    form = SettleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择办结方式并填写凭证号")
        return redirect("payments:overpayments")
    try:
        services.overpayment_settle(
            overpayment=overpayment,
            to_state=form.cleaned_data["to_state"],
            reference=form.cleaned_data["reference"],
            actor=request.user,
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{overpayment.person.name}的多发待遇已办结")
    return redirect("payments:overpayments")


@requires("certification.view")
def certification_view(request: HttpRequest) -> HttpResponse:

    from django.utils import timezone

    from shebao.people.selectors import persons_visible_to

    today = timezone.localdate()
    form = CertificationForm(request.POST or None, initial={"certified_on": today, "channel": "counter"})
    if request.method == "POST":
        if not request.user.can("certification.record"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权登记认证")
        if form.is_valid():
            person = (
                persons_visible_to(request.user).filter(ssn=form.cleaned_data["ssn"].strip().upper()).first()
            )
            if person is None:
                form.add_error("ssn", "在您的管辖范围内没有该社会保障号码的人员")
            else:
                try:
                    outcome = services.certification_record(
                        person=person,
                        channel=form.cleaned_data["channel"],
                        certified_on=form.cleaned_data["certified_on"],
                        note=form.cleaned_data["note"],
                        actor=request.user,
                    )
                except SHOWN as exc:
                    messages.error(request, exc.message)
                else:
                    extra = (
                        f"，恢复发放{outcome.resumed}项待遇，补发{outcome.back_pay_months}个月（随下月发放）"
                        if outcome.resumed
                        else ""
                    )
                    messages.success(request, f"已登记{person.name}的待遇资格认证{extra}")
                    return redirect(f"{request.path}?status={request.GET.get('status', 'due')}")
    return _certification_page(request, form)


def _certification_page(request: HttpRequest, form, **extra) -> HttpResponse:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from shebao.core.values.period import period_of
    from shebao.payments.forms import CertificationImportForm

    today = timezone.localdate()
    status = "overdue" if request.GET.get("status") == "overdue" else "due"
    period = period_of(today)
    where = {
        f"{key}_id": int(request.GET[key])
        for key in ("township", "employer")
        if request.GET.get(key, "").isdigit()
    }
    qs = selectors.certification_list(request.user, period=period, status=status, **where)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = {
        by: selectors.certification_counts(request.user, period=period, status=status, by=by)
        for by in ("township", "employer")
    }
    filtered = "".join(f"&{key[:-3]}={value}" for key, value in where.items())
    ninety = (
        today.replace(year=today.year - 90)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year - 90, 2, 28)
    )
    for p in page:
        p.home_visit = p.birth_date <= ninety  # 90 and over: the township offers a home visit
    return render(
        request,
        "payments/certification.html",
        {
            "page_obj": page,
            "status": status,
            "form": form,
            "querystring": f"status={status}{filtered}",
            "by_township": counts["township"],
            "by_employer": counts["employer"],
            "where": where,
            "import_form": extra.pop("import_form", None) or CertificationImportForm(),
            **extra,
        },
        status=400 if extra.get("problems") else 200,
    )


def _suffix(upload) -> str:  # type: ignore[no-untyped-def]
    """The upload's extension, which tells the readers its format (xlsx, xls, ods, csv)."""
    from pathlib import Path

    return Path(upload.name).suffix.lower()[:8]


def _write_upload(upload, target) -> None:  # type: ignore[no-untyped-def]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)


@contextmanager
def _upload_on_disk(upload):  # type: ignore[no-untyped-def]
    """The uploaded file in a temporary directory (the readers take a path), removed afterwards."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{_suffix(upload)}"
        _write_upload(upload, path)
        yield path


def _import_job(
    request: HttpRequest, upload, *, kind: str, title: str, params: dict | None = None
) -> HttpResponse:  # type: ignore[no-untyped-def]
    """Keep a large upload under MEDIA_ROOT (a name nobody can guess) and import it in a background job."""
    import uuid
    from pathlib import Path

    from django.conf import settings

    relative = f"imports/{uuid.uuid4().hex}{_suffix(upload)}"
    _write_upload(upload, Path(settings.MEDIA_ROOT) / relative)
    job = job_start(
        kind=kind,
        actor=request.user,
        title=title[:200],
        params={"file_name": upload.name, **(params or {})},
        input_file=relative,
    )
    messages.success(request, "文件较大，已提交后台任务导入，完成后在任务页查看结果")
    return redirect("jobs:detail", job.pk)


@require_POST
@requires("certification.import")
def certification_import_view(request: HttpRequest) -> HttpResponse:
    """Passive certification: a file of people another data source saw alive (all rows or none)."""

    from shebao.payments.forms import CertificationForm, CertificationImportForm
    from shebao.payments.importers import certification_import
    from shebao.people.importers import ImportRejected

    form = CertificationImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的文件并填写数据来源")
        return redirect("payments:certification")
    upload = form.cleaned_data["file"]
    if upload.size > IMPORT_INLINE_BYTES:
        return _import_job(
            request,
            upload,
            kind=jobs.CERTIFICATION_IMPORT,
            title=f"数据比对认证导入：{upload.name}",
            params={"source": form.cleaned_data["source"]},
        )
    with _upload_on_disk(upload) as path:
        try:
            result = certification_import(
                path=path, file_name=upload.name, source=form.cleaned_data["source"], actor=request.user
            )
        except ImportRejected as exc:
            return _certification_page(
                request, CertificationForm(), import_form=form, problems=exc.problems, rejected=exc.message
            )
        except SHOWN as exc:
            messages.error(request, exc.message)
            return redirect("payments:certification")
    if result.duplicate:
        messages.info(request, "该文件已导入过，本次未做任何更改")
    else:
        extra = (
            f"，恢复发放{result.resumed}项待遇，补发{result.back_pay_months}个月（随下月发放）"
            if result.resumed
            else ""
        )
        messages.success(
            request,
            f"数据比对认证导入完成：共{result.rows}行，认证{result.certified}人，"
            f"已在比对日期后认证过的{result.unchanged}人未变{extra}",
        )
    return redirect("payments:certification")


@requires("payment.statement")
def statement_view(request: HttpRequest, person_id: int) -> HttpResponse:
    person, lines = selectors.payment_statement(request.user, person_id)
    page = Paginator(lines, 50).get_page(request.GET.get("page"))
    return render(request, "payments/statement.html", {"person": person, "page_obj": page})


@requires("payment.my_statement")
def my_statement_view(request: HttpRequest) -> HttpResponseBase:
    if not request.user.person_id:  # type: ignore[union-attr]
        raise PermissionDenied("仅持卡人本人可查看本人待遇发放记录")
    return statement_view(request, request.user.person_id)  # type: ignore[union-attr]


@requires("entitlement.view")
def entitlement_list_view(request: HttpRequest) -> HttpResponse:
    from shebao.payments.forms import EntitlementImportForm

    q = request.GET.get("q", "").strip()
    qs = (
        selectors.entitlements_visible_to(request.user)
        .prefetch_related("amounts")
        .order_by("person__ssn", "benefit_type__sort_order")
    )
    if q:
        qs = qs.filter(person__ssn=q.upper()) if len(q) == 18 else qs.filter(person__name__contains=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/entitlements.html",
        {
            "page_obj": page,
            "q": q,
            "form": EntitlementImportForm(),
            "querystring": f"q={q}" if q else "",
            "pending": selectors.pending_entitlement_changes(request.user)[:200],
            "pending_imports": selectors.pending_entitlement_imports(request.user)[:50],
        },
    )


@require_POST
@requires("entitlement.edit")
def entitlement_import_view(request: HttpRequest) -> HttpResponse:

    from shebao.payments.forms import EntitlementImportForm
    from shebao.payments.importers import entitlement_import
    from shebao.people.importers import ImportRejected

    form = EntitlementImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的文件")
        return redirect("payments:entitlements")
    upload = form.cleaned_data["file"]
    if upload.size > IMPORT_INLINE_BYTES:
        return _import_job(
            request, upload, kind=jobs.ENTITLEMENT_IMPORT, title=f"导入待遇资格：{upload.name}"
        )
    with _upload_on_disk(upload) as path:
        try:
            result = entitlement_import(path=path, file_name=upload.name, actor=request.user)
        except ImportRejected as exc:
            return render(
                request,
                "payments/entitlements.html",
                {"page_obj": None, "q": "", "form": form, "problems": exc.problems, "rejected": exc.message},
            )
        except SHOWN as exc:
            messages.error(request, exc.message)
            return redirect("payments:entitlements")
    if result.duplicate:
        messages.info(request, "该文件已导入过，本次未做任何更改")
    else:
        messages.success(
            request,
            f"文件检查无误，待复核：拟新增{result.created}项，调整金额{result.changed}项，未变{result.unchanged}项；"
            "由另一名复核员复核通过后生效",
        )
    return redirect("payments:entitlements")


@require_POST
@requires("entitlement.approve")
def entitlement_import_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    from shebao.payments.importers import entitlement_import_decide

    batch = selectors.pending_entitlement_imports(request.user).filter(pk=pk).first()
    if batch is None:
        messages.error(request, "该导入文件已复核或不在您的管辖范围内")
        return redirect("payments:entitlements")
    approve = request.POST.get("decision") == "approve"
    try:
        result = entitlement_import_decide(
            batch=batch, approve=approve, note=request.POST.get("note", ""), actor=request.user
        )
    except (*SHOWN, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"导入文件已复核生效：新增{result.created}项，调整金额{result.changed}项，未变{result.unchanged}项"
            if approve
            else "导入文件已退回，未做任何更改",
        )
    return redirect("payments:entitlements")


@requires("entitlement.edit")
def entitlement_change_view(request: HttpRequest, pk: int) -> HttpResponse:
    from shebao.payments.forms import EntitlementChangeForm

    entitlement = selectors.entitlement_get(request.user, pk)
    form = EntitlementChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entitlement_change_request(
                entitlement=entitlement,
                kind=data["kind"],
                amount=data["amount"] or None,
                period=data["period"] or None,
                reason=data["reason"],
                note=data["note"],
                actor=request.user,
            )
        except SHOWN as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "变更申请已提交，待复核员复核后生效")
            return redirect("payments:entitlements")
    return render(request, "payments/entitlement_change.html", {"entitlement": entitlement, "form": form})


@require_POST
@requires("entitlement.approve")
def entitlement_change_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = selectors.pending_entitlement_changes(request.user).filter(pk=pk).first()
    if change is None:
        messages.error(request, "该变更已复核或不在您的管辖范围内")
        return redirect("payments:entitlements")
    approve = request.POST.get("decision") == "approve"
    try:
        services.entitlement_change_decide(
            change=change, approve=approve, note=request.POST.get("note", ""), actor=request.user
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "变更已复核生效" if approve else "变更已退回")
    return redirect("payments:entitlements")


@require_POST
@requires("certification.sweep")
def certification_sweep_view(request: HttpRequest) -> HttpResponse:
    from django.utils import timezone

    from shebao.core.values.period import period_of

    try:
        n = services.certification_sweep(
            region=_region(request), period=period_of(timezone.localdate()), actor=request.user
        )
    except SHOWN as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"逾期未认证的{n}项待遇自下月起暂停发放")
    return redirect(f"{reverse('payments:certification')}?status=overdue")
