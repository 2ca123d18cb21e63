"""Campaign, progress and card-account pages. Thin: parse the request, call one selector or service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from shebao.campaigns import selectors
from shebao.campaigns.exporters import CardProgressExporter
from shebao.campaigns.forms import (
    AssignForm,
    CampaignForm,
    OfferAcceptForm,
    PhaseForm,
    ProgressForm,
    RejectForm,
    TransferRequestForm,
)
from shebao.campaigns.links import (
    card_account_offer_accept,
    card_account_offer_reject,
    card_account_offers_pending,
)
from shebao.campaigns.services import (
    APPLY_INLINE_LIMIT,
    REFETCH_LIMIT,
    campaign_close,
    campaign_create,
    campaign_old_cards_cancel,
    medical_transfer_approve,
    medical_transfer_reject,
    medical_transfer_request,
    medical_transfers_refetch,
    members_assign,
    parse_units,
    phase_applications_create,
    phase_create,
    phase_members_to_apply,
)
from shebao.core.errors import DomainError, PermissionDenied, ValidationError
from shebao.orgs.selectors import outlets_visible_to
from shebao.web.decorators import requires


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# ---------------------------------------------------------------- campaigns


@requires("campaign.view")
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    can_manage = request.user.can("campaign.manage")  # type: ignore[union-attr]
    form = CampaignForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("您的角色不能组织换卡")
        if form.is_valid():
            try:
                campaign = campaign_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"已新建换卡批次“{campaign.name}”，请继续安排各月阶段")
                return redirect("campaigns:detail", campaign.pk)
    campaigns = selectors.campaigns_visible_to(request.user).order_by("-created_at", "-pk")
    return render(
        request,
        "campaigns/list.html",
        {"campaigns": campaigns, "form": form, "can_manage": can_manage},
    )


@requires("campaign.view")
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(request.user, pk)
    can_manage = request.user.can("campaign.manage")  # type: ignore[union-attr]
    outlets = outlets_visible_to(request.user)
    form = PhaseForm(request.POST if request.POST.get("action") == "phase" else None, outlets=outlets)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("您的角色不能组织换卡")
        try:
            if request.POST.get("action") == "close":
                due = campaign_close(campaign=campaign, actor=request.user)
                messages.success(request, f"过渡期已结束；仍有 {due} 张原卡未注销，应予注销")
                return redirect("campaigns:detail", campaign.pk)
            if request.POST.get("action") == "cancel_old":
                result = campaign_old_cards_cancel(campaign=campaign, actor=request.user)
                messages.success(request, f"已注销 {result.cancelled} 张原卡")
                if result.left:
                    messages.warning(request, f"另有 {result.left} 张原卡处于临时挂失等状态，需逐张处理")
                return redirect("campaigns:detail", campaign.pk)
            if form.is_valid():
                data = form.cleaned_data
                phase = phase_create(
                    campaign=campaign,
                    month=data["month"],
                    group=data["group"],
                    outlet=data["outlet"],
                    units=parse_units(data["units"], campaign) if data["units"].strip() else [],
                    note=data["note"],
                    actor=request.user,
                )
                messages.success(request, f"已新建阶段：{phase}")
                return redirect("campaigns:detail", campaign.pk)
        except DomainError as exc:
            if request.POST.get("action") in ("close", "cancel_old"):
                messages.error(request, exc.message)
                return redirect("campaigns:detail", campaign.pk)
            _form_error(form, exc)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "rows": selectors.phase_progress(campaign),
            "columns": selectors.PHASE_COLUMNS,
            "transfer_summary": selectors.campaign_transfer_summary(campaign),
            "transfers": selectors.campaign_transfers_recent(campaign),
            "left_members": (
                selectors.campaign_old_cards_left(campaign)[:200]
                if campaign.state == campaign.State.CLOSED
                else []
            ),
            "form": form,
            "can_manage": can_manage,
            "can_approve": request.user.can("campaign.transfer_approve"),  # type: ignore[union-attr]
        },
    )


@requires("campaign.view")
def phase_view(request: HttpRequest, pk: int) -> HttpResponse:
    phase = selectors.phase_get(request.user, pk)
    assign_form = AssignForm(request.POST if request.POST.get("action") == "assign" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "assign":
                if assign_form.is_valid():
                    result = members_assign(phase=phase, actor=request.user, ssns=assign_form.ssn_list())
                    messages.success(request, f"已分配 {result.assigned} 人")
                    for ssn, why in result.refused[:50]:
                        messages.warning(request, f"{ssn}：{why}")
                    return redirect("campaigns:phase", phase.pk)
            elif action == "apply":
                return _phase_apply(request, phase)
            elif action == "transfer":
                form = TransferRequestForm(request.POST)
                if form.is_valid():
                    member = selectors.member_get(request.user, form.cleaned_data["member"])
                    medical_transfer_request(
                        member=member, amount=form.cleaned_data["amount"], actor=request.user
                    )
                    messages.success(request, f"已登记{member.person.name}的医保个人账户余额，待复核")
                else:
                    messages.error(request, "请填写医保个人账户余额")
                return redirect("campaigns:phase", phase.pk)
        except PermissionDenied:
            raise
        except DomainError as exc:
            if action == "assign":
                _form_error(assign_form, exc)
            else:
                messages.error(request, exc.message)
                return redirect("campaigns:phase", phase.pk)
    page = Paginator(selectors.phase_members(phase), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/phase.html",
        {
            "phase": phase,
            "campaign": phase.campaign,
            "form": assign_form,
            "page_obj": page,
            "units": phase.units.order_by("code"),
            "can_manage": request.user.can("campaign.manage"),  # type: ignore[union-attr]
            "can_request": request.user.can("campaign.transfer_request"),  # type: ignore[union-attr]
            "to_apply": phase_members_to_apply(phase).count(),
        },
    )


def _phase_apply(request: HttpRequest, phase: Any) -> HttpResponse:
    """Small phases are applied for at once; a large one goes to a background job with a progress page."""
    from shebao.campaigns import jobs
    from shebao.jobs.services import job_start

    if not request.user.can("campaign.manage"):  # type: ignore[union-attr]
        raise PermissionDenied("您的角色不能组织换卡")
    pending = phase_members_to_apply(phase).count()
    if pending == 0:
        messages.info(request, "本阶段人员均已申领新卡，无需再申领")
        return redirect("campaigns:phase", phase.pk)
    if pending > APPLY_INLINE_LIMIT:
        job = job_start(
            kind=jobs.PHASE_APPLY,
            actor=request.user,
            title=f"换代批量申领：{phase.campaign.name} {phase}",
            params={"phase_id": phase.pk},
        )
        messages.success(request, f"共 {pending} 人待申领，已提交后台任务 #{job.pk}")
        return redirect("jobs:detail", job.pk)
    made = phase_applications_create(phase=phase, actor=request.user)
    messages.success(
        request,
        f"已为本阶段 {made} 人申领第{phase.campaign.new_generation}代社保卡，可在制卡管理中生成制卡文件",
    )
    return redirect("campaigns:phase", phase.pk)


@requires("campaign.view")
def transfers_view(request: HttpRequest) -> HttpResponse:
    """Transfers to confirm (待复核) and, below, those still waiting for a balance (待录入余额)."""
    can_approve = request.user.can("campaign.transfer_approve")  # type: ignore[union-attr]
    page = Paginator(selectors.transfers_pending(request.user), 50).get_page(request.GET.get("page"))
    waiting = Paginator(selectors.transfers_waiting(request.user), 50).get_page(
        request.GET.get("waiting_page")
    )
    return render(
        request,
        "campaigns/transfers.html",
        {
            "page_obj": page,
            "waiting": waiting,
            "waiting_phases": selectors.transfers_waiting_by_phase(request.user),
            "can_approve": can_approve,
            "can_refetch": request.user.can("campaign.transfer_request"),  # type: ignore[union-attr]
            "reject_form": RejectForm(),
        },
    )


@require_POST
@requires("campaign.transfer_request")
def transfer_refetch_view(request: HttpRequest) -> HttpResponse:
    """再次获取: one pending transfer (`transfer`) or every pending one of a phase (`phase`)."""
    try:
        if request.POST.get("transfer"):
            result = medical_transfers_refetch(
                actor=request.user,
                transfer=selectors.transfer_get(request.user, _int(request.POST["transfer"])),
            )
        else:
            phase = selectors.phase_get(request.user, _int(request.POST.get("phase")))
            if selectors.transfers_waiting(request.user).filter(member__phase=phase).count() > REFETCH_LIMIT:
                return _phase_refetch_job(request, phase)
            result = medical_transfers_refetch(actor=request.user, phase=phase)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:transfers")
    if not result.asked:
        messages.info(request, "没有待获取余额的转移，无需再次获取")
    else:
        text = f"已向医保系统再次获取 {result.asked} 条：{result.done} 条已转移，{result.asked - result.done} 条仍无余额"
        if result.left:
            text += f"；还有 {result.left} 条未获取，请再点一次"
        messages.success(request, text)
    return redirect("campaigns:transfers")


def _phase_refetch_job(request: HttpRequest, phase: Any) -> HttpResponse:
    """A phase with more waiting transfers than one click asks goes to a background job."""
    from shebao.campaigns import jobs
    from shebao.jobs.services import job_start

    job = job_start(
        kind=jobs.PHASE_REFETCH,
        actor=request.user,
        title=f"再次获取医保余额：{phase.campaign.name} {phase}",
        params={"phase_id": phase.pk},
    )
    messages.success(request, f"本阶段待获取余额的转移较多，已提交后台任务 #{job.pk}")
    return redirect("jobs:detail", job.pk)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


@require_POST
@requires("campaign.transfer_approve")
def transfer_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_get(request.user, pk)
    try:
        if request.POST.get("decision") == "approve":
            medical_transfer_approve(transfer=transfer, actor=request.user)
            messages.success(request, "已复核：医保个人账户余额已转入新卡，原卡医保功能停用")
        else:
            form = RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, "请填写退回原因")
                return redirect("campaigns:transfers")
            medical_transfer_reject(transfer=transfer, reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, "已退回，请经办人重新登记")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("campaigns:transfers")


# ---------------------------------------------------------------- progress figures


@requires("card.progress")
def progress_view(request: HttpRequest) -> HttpResponseBase:
    form = ProgressForm(request.GET or None)
    grouping, days = selectors.BY_OUTLET, 30
    if form.is_valid():
        grouping = form.cleaned_data["by"] or grouping
        days = form.cleaned_data["days"] if form.cleaned_data["days"] is not None else days
    figures = selectors.card_progress(request.user, grouping, days)
    if request.GET.get("export") == "xlsx":
        return CardProgressExporter(figures).xlsx_response(f"社保卡发放进度_{grouping}.xlsx")
    top = figures.rows[:40]
    labels = dict(selectors.FIGURE_COLUMNS)
    labels["waiting"] = f"待领超过{days}天"
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 160, "right": 30, "top": 40, "bottom": 30},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": True, "data": [r["name"] for r in top]},
        "series": [
            {"type": "bar", "name": labels[m], "data": [r[m] for r in top]}
            for m in ("in_stock", "waiting", "issued", "social", "financial")
        ],
    }
    return render(
        request,
        "campaigns/progress.html",
        {
            "form": form,
            "figures": figures,
            "columns": [(m, labels[m]) for m, _ in selectors.FIGURE_COLUMNS],
            "grouping_label": selectors.GROUPINGS[figures.grouping],
            "chart": chart,
            "chart_height": max(240, 30 * len(top) + 80),
            "querystring": request.GET.urlencode(),
        },
    )


# ---------------------------------------------------------------- card account offers


@requires("switching.change_prepare")
def offers_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        offer = card_account_offers_pending(request.user).filter(pk=request.POST.get("offer") or 0).first()
        try:
            if offer is None:
                raise PermissionDenied("该社保卡账户已处理，或不在您的管辖范围内")
            if request.POST.get("decision") == "accept":
                accept = OfferAcceptForm(request.POST)
                if not accept.is_valid():
                    raise ValidationError("请填写启用期（如 2018-07）")
                card_account_offer_accept(
                    offer=offer, valid_from=accept.cleaned_data["valid_from"], actor=request.user
                )
                messages.success(request, f"{offer.person.name}的社保卡账户已登记为发放账户")
            else:
                reject = RejectForm(request.POST)
                if not reject.is_valid():
                    raise ValidationError("请填写不采用的原因")
                card_account_offer_reject(
                    offer=offer, reason=reject.cleaned_data["reason"], actor=request.user
                )
                messages.success(request, "已记录不采用该社保卡账户")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("campaigns:offers")
    page = Paginator(card_account_offers_pending(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "campaigns/offers.html", {"page_obj": page})
