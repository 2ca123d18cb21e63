"""Card pages. Thin: parse the request, call one selector or service, render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shebao.accounts.roles import Role
from shebao.cards import selectors
from shebao.cards.forms import (
    ActivateFinancialForm,
    ActivateSocialForm,
    ApplicationPhotoForm,
    ApplyForm,
    CardSearchForm,
    CollectiveForm,
    IssueForm,
    NoticeForm,
    ProductionFileForm,
    ReceiveForm,
    ReturnFileForm,
    ShipmentForm,
    VaultCountForm,
)
from shebao.cards.importers import ReturnFileInvalid
from shebao.cards.models import (
    CARD_TRANSITIONS,
    CardIssue,
    CardMovement,
    CardNotice,
    CardState,
    LivenessProof,
    MailState,
)
from shebao.cards.services import (
    CANCELLABLE_STATES,
    LossKind,
    Receiver,
    VillageChecks,
    application_photo_attach,
    application_resubmit,
    card_activate_financial,
    card_activate_social,
    card_apply,
    card_cancel,
    card_issue,
    card_issue_collective,
    card_issue_village,
    card_notice_record,
    card_recall,
    card_replace,
    card_report_loss,
    card_unlock,
    document_disposal_record,
    error_card_reapply,
    handover_activate,
    mail_dispatch,
    mail_proof_upload,
    mail_request_approve,
    mail_request_cancel,
    mail_request_create,
    mail_request_from_application,
    mail_request_reject,
    mail_request_resubmit,
    notice_resend,
    production_file_write,
    production_package_open,
    production_return_import,
    shipment_cards_declare_lost,
    shipment_create,
    shipment_receive,
    shipment_receive_late,
    temp_card_reconcile,
    temp_card_register,
    temp_card_settle,
    unit_handover_settle,
    unit_member_handout_record,
    vault_close,
    vault_count_submit,
    vault_difference_explain,
    village_session_close,
    village_session_plan,
    waste_destroy,
    waste_handover,
)
from shebao.core.errors import DomainError, PermissionDenied, StateError, ValidationError
from shebao.core.values.period import period_of
from shebao.orgs.selectors import outlets_visible_to
from shebao.web.decorators import requires


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _form_error(form, exc: DomainError) -> None:  # type: ignore[no-untyped-def]
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@requires("card.search")
def card_search_view(request: HttpRequest) -> HttpResponse:
    form = CardSearchForm(request.GET or None)
    q = state = ""
    if form.is_valid():
        q, state = form.cleaned_data["q"], form.cleaned_data["state"]
    qs = selectors.card_search(request.user, q, state).order_by("-id")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request, "cards/search.html", {"form": form, "page_obj": page, "querystring": _querystring(request)}
    )


@requires("card.view")
def card_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_get(request.user, pk)
    location = selectors.card_location_now(card.pk)
    can_issue_here = (
        card.state == CardState.IN_STOCK
        and location is not None
        and location.outlet_id is not None
        and request.user.can("card.issue")  # type: ignore[union-attr]
    )
    return render(
        request,
        "cards/detail.html",
        {
            "card": card,
            "location": location,
            "ledger": selectors.card_ledger(card),
            "issues": selectors.card_issues(card),
            "replaced_by": card.replaced_by.all(),
            "offer": getattr(card, "account_offer", None),
            "can_issue_here": can_issue_here,
            "recallable": [old for old, new in CARD_TRANSITIONS.items() if CardState.RECALLED in new],
            "cancellable": CANCELLABLE_STATES,
            "cancel_outlets": (
                outlets_visible_to(request.user).order_by("code")
                if card.state == CardState.ISSUED and request.user.can("card.cancel")  # type: ignore[union-attr]
                else None
            ),
            # an issued card comes back over a counter: a user bound to no outlet says which (or the centre)
            "recall_outlets": (
                outlets_visible_to(request.user).order_by("code")
                if card.state == CardState.ISSUED and getattr(request.user, "outlet", None) is None
                else None
            ),
            "social_form": ActivateSocialForm(),
            "financial_form": ActivateFinancialForm(),
        },
    )


_CARD_ACTIONS = {
    "loss_temporary": "card.loss",
    "loss_formal": "card.loss",
    "unlock": "card.loss",
    "replace": "card.replace",
    "activate_social": "card.activate_social",
    "activate_financial": "card.activate_financial",
    "recall": "card.recall",
    "cancel": "card.cancel",
}


@require_POST
@requires("card.view")
def card_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The buttons on the card page: loss, unlock, replacement, activations."""
    card = selectors.card_get(request.user, pk)
    action = request.POST.get("action", "")
    needed = _CARD_ACTIONS.get(action)
    if needed is None or not request.user.can(needed):  # type: ignore[union-attr]
        raise PermissionDenied("您的角色无权进行此操作")
    reason = request.POST.get("reason", "").strip()[:200]
    user = request.user
    try:
        if action in ("loss_temporary", "loss_formal"):
            kind = LossKind.TEMPORARY if action == "loss_temporary" else LossKind.FORMAL
            outcome = card_report_loss(card=card, kind=kind, actor=user, reason=reason)
            label = "临时挂失" if kind == LossKind.TEMPORARY else "正式挂失"
            messages.success(
                request, f"已办理{label}" if outcome.changed else f"该卡已处于{label}状态，无需重复办理"
            )
        elif action == "unlock":
            outcome = card_unlock(card=card, actor=user, reason=reason)
            messages.success(request, "已解挂，该卡恢复正常" if outcome.changed else "该卡状态正常，无需解挂")
        elif action == "recall":
            kind = request.POST.get("kind", "")
            # a clerk bound to an outlet recalls there; a centre clerk picks the outlet or the centre's vault
            raw = request.POST.get("recall_outlet", "")
            outlet = getattr(user, "outlet", None) or (
                outlets_visible_to(user).filter(pk=raw).first() if raw.isdigit() else None
            )
            recall = card_recall(
                card=card,
                kind=kind,
                reason=reason,
                outlet=outlet,
                cause=request.POST.get("cause", "") if kind == "waste" else "",
                death_certificate_no=request.POST.get("death_certificate_no", "").strip()[:40],
                handed_in_by=request.POST.get("handed_in_by", ""),
                actor=user,
            )
            messages.success(
                request, f"已回收该卡，存放于“{recall.location.name}”；信息有误的卡列入《信息有误人员清单》"
            )
        elif action == "cancel":
            raw = request.POST.get("returned_at", "")
            returned_at = outlets_visible_to(user).filter(pk=raw).first() if raw.isdigit() else None
            outcome = card_cancel(card=card, reason=reason, returned_at=returned_at, actor=user)
            messages.success(request, "已注销该卡" if outcome.changed else "该卡此前已注销，无需重复办理")
        elif action == "replace":
            new = card_replace(card=card, actor=user, reason=reason)
            messages.success(request, "已受理补卡申领，新卡将重新制作并使用新卡号")
            return redirect("cards:detail", new.pk)
        else:
            form = (ActivateSocialForm if action == "activate_social" else ActivateFinancialForm)(
                request.POST
            )
            if not form.is_valid():
                messages.error(request, "请选择启用方式并填写地点")
                return redirect("cards:detail", card.pk)
            fn = card_activate_social if action == "activate_social" else card_activate_financial
            outcome = fn(card=card, actor=user, **form.cleaned_data)
            messages.success(request, "已登记启用" if outcome.changed else "该功能此前已启用，无需重复办理")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("cards:detail", card.pk)


@requires("card.stock")
def stock_view(request: HttpRequest) -> HttpResponse:
    rows = selectors.stock_by_location(request.user)
    return render(request, "cards/stock.html", {"rows": rows, "total": sum(r["in_stock"] for r in rows)})


@requires("card.stock")
def stock_location_view(request: HttpRequest, pk: int) -> HttpResponse:
    location = selectors.location_get(request.user, pk)
    page = Paginator(selectors.stock_cards(location), 30).get_page(request.GET.get("page"))
    return render(request, "cards/stock_location.html", {"location": location, "page_obj": page})


@requires("card.issue")
def card_issue_view(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.card_get(request.user, pk)
    location = selectors.card_location_now(card.pk)
    if card.state != CardState.IN_STOCK or location is None or location.outlet is None:
        messages.error(request, "该卡不在网点库存中，不能发放")
        return redirect("cards:detail", card.pk)
    outlet = location.outlet
    user = request.user
    may_activate_financial = user.role == Role.BANK_CLERK and user.bank_id == card.bank_id  # type: ignore[union-attr]
    form = IssueForm(request.POST or None, financial=may_activate_financial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        receiver = Receiver(
            name=d["receiver_name"],
            ssn=d["receiver_ssn"],
            relation=d["relation"],
            household_register=d["household_register"],
            phone=d["phone"],
            address=d["address"],
            form_signed=d["form_signed"],
            applicant_id_shown=d["applicant_id_shown"],
        )
        try:
            issue = card_issue(
                card=card,
                outlet=outlet,
                mode=d["mode"],
                receiver=receiver,
                activate_social=d["activate_social"],
                activate_financial=d.get("activate_financial", False),
                actor=request.user,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已发放，请打印《个人领取登记表》由领取人签字")
            return redirect("cards:issue_print", issue.pk)
    application = card.application
    return render(
        request,
        "cards/issue.html",
        {
            "card": card,
            "outlet": outlet,
            "form": form,
            "application": application,
            "may_activate_financial": may_activate_financial,
        },
    )


@requires("card.view")
def issue_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    issue = selectors.issue_get(request.user, pk)
    return render(
        request, "cards/print_issue.html", {"issue": issue, "card": issue.card, "person": issue.card.person}
    )


@requires("card.issue")
def collective_view(request: HttpRequest) -> HttpResponse:
    """单位集中领卡: pick a unit with cards in this outlet's stock, record the notice, hand over to two clerks."""
    outlet = getattr(request.user, "outlet", None)
    if outlet is None:
        messages.error(request, "您的账号没有绑定网点，不能办理集中领卡")
        return redirect("cards:search")
    if request.method == "POST" and request.POST.get("step") == "settle":
        return _settle_handover(request, outlet)
    if request.method == "POST" and request.POST.get("step") == "activate":
        handover = selectors.handover_get(request.user, int(request.POST.get("activate_handover", 0) or 0))
        try:
            done = handover_activate(
                handover=handover, place=request.POST.get("place", ""), actor=request.user
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"已按发卡名单启用{done.social}张社保卡的人社功能，通过移动终端激活{done.financial}张的金融功能",
            )
        return redirect("cards:collective")
    units = selectors.stock_by_employer(outlet)
    wanted = request.GET.get("employer") or request.POST.get("employer") or ""
    employer = next((u for u, _ in units if str(u.pk) == wanted), None)
    ctx: dict = {
        "outlet": outlet,
        "units": units,
        "employer": employer,
        "open_handovers": selectors.open_handovers(outlet),
        "to_activate": selectors.settled_handovers_to_activate(request.user, outlet),
    }
    if wanted and employer is None:
        messages.error(request, "该单位在本网点没有待领的社保卡")
    if employer is None:
        return render(request, "cards/collective.html", ctx)
    notices = selectors.notices_for(outlet.pk, employer.pk)
    step = request.POST.get("step") if request.method == "POST" else None
    notice_form = NoticeForm(request.POST if step == "notice" else None)
    form = CollectiveForm(request.POST if step == "handover" else None, notices=notices)
    try:
        if step == "notice" and notice_form.is_valid():
            card_notice_record(
                outlet=outlet, employer=employer, actor=request.user, **notice_form.cleaned_data
            )
            messages.success(request, f"已登记对{employer.name}的领卡通知")
            return redirect(f"{request.path}?employer={employer.pk}")
        if step == "handover" and form.is_valid():
            d = form.cleaned_data
            handover = card_issue_collective(
                card_ids=[int(x) for x in request.POST.getlist("card") if x.isdigit()],
                outlet=outlet,
                employer=employer,
                notice=d["notice"],
                letter_no=d["letter_no"],
                clerks=(
                    Receiver(name=d["clerk1_name"], ssn=d["clerk1_ssn"]),
                    Receiver(name=d["clerk2_name"], ssn=d["clerk2_ssn"]),
                ),
                actor=request.user,
            )
            messages.success(
                request, f"已移交{handover.card_count}张社保卡，请打印《集中领卡移交单》双方签字"
            )
            return redirect("cards:handover_print", handover.pk)
    except PermissionDenied:
        raise
    except DomainError as exc:
        _form_error(form, exc)
    ctx.update(
        {
            "unit_cards": selectors.stock_cards(outlet.card_location).filter(person__employer=employer),
            "notices": notices,
            "form": form,
            "notice_form": notice_form,
            "selected": set(request.POST.getlist("card")) if step == "handover" else None,
        }
    )
    return render(request, "cards/collective.html", ctx)


def _settle_handover(request: HttpRequest, outlet) -> HttpResponse:  # type: ignore[no-untyped-def]
    """The unit brings back its list: the cards not ticked as handed out come back into stock."""
    handover = selectors.handover_get(request.user, int(request.POST.get("handover", 0) or 0))
    handed_out = {int(x) for x in request.POST.getlist("handed_out") if x.isdigit()}
    own = list(CardIssue.objects.filter(handover=handover).values_list("card_id", flat=True))
    try:
        unit_handover_settle(
            handover=handover,
            returned_card_ids=[pk for pk in own if pk not in handed_out],
            custodian=request.POST.get("custodian", ""),
            actor=request.user,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已办理移交单#{handover.pk}的交回：未发出的卡已重新入库")
    return redirect("cards:collective")


@requires("card.view")
def handover_print_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    handover = selectors.handover_get(request.user, pk)
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import HandoverExporter

        exporter = HandoverExporter(handover, full_ids=request.user.sees_full_ids)  # type: ignore[union-attr]
        return exporter.xlsx_response(f"集中领卡移交单_{handover.pk}.xlsx")
    issues = (
        CardIssue.objects.filter(handover=handover)
        .select_related("card", "card__person")
        .order_by("card__person__name")
    )
    return render(request, "cards/print_handover.html", {"handover": handover, "issues": issues})


@requires("card.stock")
def closing_list_view(request: HttpRequest) -> HttpResponse:
    """月清月结: the custodian enters the physical count; the list shows every month per location."""
    locations = selectors.locations_visible_to(request.user).order_by("kind", "name")
    can_count = request.user.can("card.vault_close")  # type: ignore[union-attr]
    form = VaultCountForm(
        request.POST if request.method == "POST" and can_count else None,
        locations=locations,
        initial={
            "period": period_of(timezone.localdate()),
            "counted_by": getattr(request.user, "display_name", ""),
        },
    )
    if request.method == "POST" and not can_count:
        raise PermissionDenied("您的角色无权盘点")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            closing = vault_count_submit(
                location=d["location"],
                period=d["period"],
                card_nos=d["card_nos"].split(),
                counted_by=d["counted_by"],
                actor=request.user,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "已登记盘点结果")
            return redirect("cards:closing_detail", closing.pk)
    page = Paginator(selectors.closings_visible_to(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "cards/closings.html", {"form": form, "page_obj": page, "can_count": can_count})


@requires("card.stock")
def closing_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    closing = selectors.closing_get(request.user, pk)
    if request.method == "POST":
        if not request.user.can("card.vault_close"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权结账")
        try:
            if request.POST.get("action") == "close":
                vault_close(closing=closing, actor=request.user)
                messages.success(request, "本月已结账，帐卡相符")
            else:
                diff = get_object_or_404(closing.differences, pk=request.POST.get("difference"))
                vault_difference_explain(
                    difference=diff, explanation=request.POST.get("explanation", ""), actor=request.user
                )
                messages.success(request, f"已登记卡号 {diff.card_no} 的差异原因")
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("cards:closing_detail", closing.pk)
    return render(
        request,
        "cards/closing_detail.html",
        {
            "closing": closing,
            "summary": selectors.closing_summary(closing),
            "differences": closing.differences.select_related("explained_by"),
            "can_close": request.user.can("card.vault_close"),  # type: ignore[union-attr]
        },
    )


@requires("card.apply")
def card_apply_view(request: HttpRequest) -> HttpResponse:
    """申领受理 at a window: person, bank, reserved agent, delivery choice."""
    from shebao.people.selectors import persons_visible_to

    outlets = outlets_visible_to(request.user).order_by("code")
    form = ApplyForm(
        request.POST or None,
        request.FILES or None,
        outlets=outlets,
        initial={"ssn": request.GET.get("ssn", "")},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = persons_visible_to(request.user).filter(ssn=d["ssn"].strip().upper()).first()
        if person is None:
            form.add_error("ssn", "没有找到该人员，或不在您的管辖范围内")
        else:
            try:
                card = card_apply(
                    person=person,
                    bank=d["bank"],
                    generation=d["generation"],
                    delivery=d["delivery"],
                    outlet=d["outlet"],
                    agent_name=d["agent_name"],
                    agent_ssn=d["agent_ssn"],
                    agent_relation=d["agent_relation"],
                    mail_address=d["mail_address"],
                    mail_phone=d["mail_phone"],
                    photo=d["photo"],
                    actor=request.user,
                )
            except PermissionDenied:
                raise
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"已受理{person.name}的社保卡申领")
                return redirect("cards:detail", card.pk)
    return render(request, "cards/apply.html", {"form": form})


@requires("card.apply")
def error_reapply_view(request: HttpRequest) -> HttpResponse:
    """信息有误卡: the recalled error cards still waiting for a new card; pick one, correct, apply again."""
    from shebao.cards.forms import ErrorReapplyForm

    waiting = selectors.error_cards_awaiting_new_card(request.user)
    raw = request.POST.get("card") or request.GET.get("card") or ""
    chosen = waiting.filter(card_id=raw).first() if raw.isdigit() else None
    form = None
    if chosen is not None:
        form = ErrorReapplyForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            outlets=outlets_visible_to(request.user).order_by("code"),
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                card = error_card_reapply(
                    card=chosen.card,
                    correction=d["correction"],
                    name=d["name"],
                    delivery=d["delivery"],
                    outlet=d["outlet"],
                    mail_address=d["mail_address"],
                    mail_phone=d["mail_phone"],
                    photo=d["photo"],
                    actor=request.user,
                )
            except PermissionDenied:
                raise
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"已受理{card.person.name}的信息有误卡重新制卡申领")
                return redirect("cards:detail", card.pk)
    elif raw:
        messages.error(request, "该卡不在待重新申领的信息有误卡名单中")
    page = Paginator(waiting, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "cards/error_reapply.html",
        {"page_obj": page, "chosen": chosen, "form": form, "querystring": _querystring(request)},
    )


@requires("card.production")
def production_view(request: HttpRequest) -> HttpResponse:
    """制卡管理: write the production file, read the factory's return file, resubmit failed applications."""
    file_form = ProductionFileForm(request.POST if request.POST.get("step") == "write" else None)
    return_form = ReturnFileForm(
        request.POST if request.POST.get("step") == "return" else None,
        request.FILES if request.POST.get("step") == "return" else None,
    )
    problems = None
    try:
        if request.POST.get("step") == "write" and file_form.is_valid():
            batch = production_file_write(actor=request.user, fmt=file_form.cleaned_data["fmt"])
            messages.success(request, f"已生成制卡文件（{batch.card_count}张），请下载后交卡厂")
            return redirect("cards:production")
        if request.POST.get("step") == "return" and return_form.is_valid():
            upload = return_form.cleaned_data["file"]
            if upload.size > RETURN_INLINE_BYTES:
                return _production_return_job(request, _save_upload(upload), upload.name)
            result = production_return_import(path=_save_upload(upload), actor=request.user)
            f = result.file
            if result.already_read:
                messages.info(
                    request,
                    f"该文件已于{timezone.localtime(f.created_at):%Y-%m-%d %H:%M}读入过，本次未做任何修改",
                )
            else:
                messages.success(
                    request,
                    f"已读入{f.row_count}行：制卡成功{f.produced_count}张，失败{f.failed_count}张，已处理过{f.unchanged_count}行",
                )
            return redirect("cards:production")
        if request.POST.get("step") == "photo":
            photo_form = ApplicationPhotoForm(request.POST, request.FILES)
            if not photo_form.is_valid():
                raise ValidationError("请选择要上传的相片", field="photo")
            app = application_photo_attach(
                application=selectors.application_get(request.user, photo_form.cleaned_data["application"]),
                photo=photo_form.cleaned_data["photo"],
                actor=request.user,
            )
            messages.success(request, f"已补采{app.person.name}的相片，可以送制卡")
            return redirect("cards:production")
        if request.POST.get("step") == "resubmit":
            application_resubmit(
                application=selectors.application_get(request.user, int(request.POST.get("application", 0))),
                actor=request.user,
            )
            messages.success(request, "已重新提交制卡")
            return redirect("cards:production")
    except PermissionDenied:
        raise
    except ReturnFileInvalid as exc:
        messages.error(request, exc.message)
        problems = exc.problems
    except DomainError as exc:
        messages.error(request, exc.message)
    ctx = {"file_form": file_form, "return_form": return_form, "problems": problems}
    ctx.update(selectors.production_overview(request.user))
    return render(request, "cards/production.html", ctx)


# A return file larger than this (about 8,000 cards) is read by a background job with a progress page.
RETURN_INLINE_BYTES = 1024 * 1024


def _production_return_job(request: HttpRequest, path: Path, name: str) -> HttpResponse:
    from shebao.cards import jobs
    from shebao.jobs.services import job_start

    if not request.user.can("card.production"):  # type: ignore[union-attr]
        raise PermissionDenied("您的角色不能读入制卡回盘文件")
    job = job_start(
        kind=jobs.PRODUCTION_RETURN,
        actor=request.user,
        title=f"读入制卡回盘文件：{name}"[:200],
        params={"path": str(path), "file_name": name},
    )
    messages.success(request, "回盘文件较大，已提交后台任务读入；完成前请勿重复上传")
    return redirect("jobs:detail", job.pk)


def _save_upload(upload, kind: str = "returns") -> Path:  # type: ignore[no-untyped-def]
    """Keep the uploaded file (the original is evidence); the suffix tells the reader its format."""
    folder = Path(settings.DATA_DIR) / "cards" / kind
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S%f")
    path = folder / f"{stamp}{suffix}"
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return path


@requires("card.production")
def production_file_view(request: HttpRequest, pk: int) -> FileResponse:
    """The batch for the card factory as one zip: the data file and every applicant's photo."""
    try:
        package = production_package_open(batch=selectors.batch_get(request.user, pk), actor=request.user)
    except StateError as exc:
        raise Http404(exc.message) from None
    return FileResponse(
        package.file, as_attachment=True, filename=package.name, content_type="application/zip"
    )


@requires("card.stock")
def shipment_list_view(request: HttpRequest) -> HttpResponse:
    """配送交接: the centre hands boxes to an outlet; the outlet signs them into its stock."""
    user = request.user
    outlets = outlets_visible_to(user).order_by("code")
    outlet = outlets.filter(pk=request.GET.get("outlet") or 0).first() if user.can("card.ship") else None  # type: ignore[union-attr]
    form = ShipmentForm(request.POST if request.POST.get("step") == "ship" else None)
    try:
        if request.POST.get("step") == "ship":
            if not user.can("card.ship") or outlet is None:  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权配送社保卡")
            if form.is_valid():
                shipment = shipment_create(
                    card_ids=[int(x) for x in request.POST.getlist("card") if x.isdigit()],
                    outlet=outlet,
                    actor=user,
                    **form.cleaned_data,
                )
                messages.success(
                    request,
                    f"已交付{shipment.card_count}张社保卡，请打印《合作银行社保卡领卡登记表》双方签字",
                )
                return redirect("cards:shipment_print", shipment.pk)
        if request.POST.get("step") == "receive":
            if not user.can("card.receive"):  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权签收社保卡")
            receive = ReceiveForm(request.POST)
            shipment = selectors.shipment_get(user, int(request.POST.get("shipment", 0)))
            if receive.is_valid():
                missing = request.POST.get("missing_card_nos", "")[:2000]
                shipment = shipment_receive(
                    shipment=shipment,
                    custodian=receive.cleaned_data["custodian"],
                    missing_card_nos=[missing],
                    shortage_note=request.POST.get("shortage_note", "")[:200],
                    actor=user,
                )
                short = len(selectors.shipment_missing_cards(shipment))
                messages.success(
                    request,
                    f"已签收入库{shipment.card_count - short}张社保卡"
                    + (f"，登记短缺{short}张（仍为配送中，找到后补收入库）" if short else ""),
                )
            else:
                messages.error(request, "请填写入库保管责任人")
            return redirect("cards:shipments")
        if request.POST.get("step") == "receive_late":
            if not user.can("card.receive"):  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权签收社保卡")
            receive = ReceiveForm(request.POST)
            shipment = selectors.shipment_get(user, int(request.POST.get("shipment", 0)))
            if receive.is_valid():
                shipment = shipment_receive_late(
                    shipment=shipment,
                    card_nos=[request.POST.get("card_nos", "")[:2000]],
                    custodian=receive.cleaned_data["custodian"],
                    actor=user,
                )
                messages.success(
                    request, f"短缺卡已补收入库；配送#{shipment.pk}{shipment.get_state_display()}"
                )
            else:
                messages.error(request, "请填写入库保管责任人")
            return redirect("cards:shipments")
        if request.POST.get("step") == "declare_lost":
            if not user.can("card.declare_lost"):  # type: ignore[union-attr]
                raise PermissionDenied("配送短缺卡认定遗失须由中心复核员办理")
            shipment = selectors.shipment_get(user, int(request.POST.get("shipment", 0)))
            made = shipment_cards_declare_lost(
                shipment=shipment,
                card_nos=[request.POST.get("card_nos", "")[:2000]],
                reason=request.POST.get("reason", "")[:200],
                actor=user,
            )
            messages.success(
                request,
                f"已认定遗失并注销{len(made)}张社保卡，已为持卡人重新申领（请通知合作银行冻结原卡金融账户）；"
                f"配送#{shipment.pk}{shipment.get_state_display()}",
            )
            return redirect("cards:shipments")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    page = Paginator(selectors.shipments_visible_to(user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "cards/shipments.html",
        {
            "page_obj": page,
            "outlets": outlets if user.can("card.ship") else None,  # type: ignore[union-attr]
            "outlet": outlet,
            "vault_cards": selectors.vault_cards_for(user, outlet) if outlet is not None else None,
            "form": form,
            "receive_form": ReceiveForm(initial={"custodian": getattr(user, "display_name", "")}),
        },
    )


@requires("card.stock")
def shipment_print_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    shipment = selectors.shipment_get(request.user, pk)
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import ShipmentExporter

        exporter = ShipmentExporter(shipment, full_ids=request.user.sees_full_ids)  # type: ignore[union-attr]
        return exporter.xlsx_response(f"合作银行社保卡领卡登记表_{shipment.pk}.xlsx")
    lines = (
        shipment.movements.filter(kind="handed_over")
        .select_related("card", "card__person", "card__bank")
        .order_by("card__box_position", "card__card_no")
    )
    return render(request, "cards/print_shipment.html", {"shipment": shipment, "lines": lines})


@requires("card.recall")
def error_list_print_view(request: HttpRequest) -> HttpResponseBase:
    """信息有误人员清单 (附件4): the error cards waiting at the user's outlets, handed to the centre
    with the list; after the hand-over the page prints that batch (?batch=)."""
    from urllib.parse import urlencode

    from shebao.cards.services import error_cards_handover

    if request.method == "POST":
        outlet = _outlet_of(request)
        if outlet is None:
            messages.error(request, "请选择移交信息有误卡的网点")
            return redirect("cards:error_list_print")
        try:
            batch = error_cards_handover(
                outlet=outlet,
                handed_over_by=request.POST.get("handed_over_by", ""),
                received_by=request.POST.get("received_by", ""),
                actor=request.user,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("cards:error_list_print")
        messages.success(request, "已将信息有误卡移交人社部门，请打印清单由双方签字")
        return redirect(reverse("cards:error_list_print") + "?" + urlencode({"batch": batch}))
    batch = request.GET.get("batch", "")[:60]
    recalls = selectors.error_recalls(request.user, batch=batch, awaiting=not batch)
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import ErrorListExporter

        exporter = ErrorListExporter(recalls, full_ids=request.user.sees_full_ids)  # type: ignore[union-attr]
        return exporter.xlsx_response(f"信息有误人员清单_{timezone.localdate():%Y%m%d}.xlsx")
    handover = None
    if batch:
        handover = (
            CardMovement.objects.filter(
                batch_ref=batch, kind=CardMovement.Kind.HANDED_OVER, card__recall__in=recalls
            )
            .select_related("location")
            .first()
        )
    return render(
        request,
        "cards/print_error_list.html",
        {
            "recalls": recalls,
            "batch": batch,
            "handover": handover,
            "outlets": outlets_visible_to(request.user).order_by("code")
            if getattr(request.user, "outlet", None) is None
            else None,
        },
    )


# ---------------------------------------------------------------- notifying holders


def _outlet_of(request: HttpRequest):  # type: ignore[no-untyped-def]
    """The user's own outlet, or (centre staff) the one picked in ?outlet= among the visible ones."""
    own = getattr(request.user, "outlet", None)
    if own is not None:
        return own
    wanted = request.GET.get("outlet") or request.POST.get("outlet") or ""
    visible = outlets_visible_to(request.user).order_by("code")
    return visible.filter(pk=wanted).first() if wanted.isdigit() else None


@requires("card.notice")
def notices_view(request: HttpRequest) -> HttpResponse:
    """领卡通知: the outlet tells units and people that their cards have arrived; the sender's answer shows."""
    from shebao.cards.forms import NoticeSendForm
    from shebao.orgs.models import Employer
    from shebao.people.selectors import persons_visible_to

    outlet = _outlet_of(request)
    ctx: dict = {"outlet": outlet, "outlets": outlets_visible_to(request.user).order_by("code")}
    if outlet is None:
        return render(request, "cards/notices.html", ctx)
    if request.method == "POST" and request.POST.get("step") == "resend":
        notice = get_object_or_404(
            selectors.notices_at(request.user, outlet), pk=request.POST.get("notice", "0") or 0
        )
        try:
            notice_resend(notice=notice, actor=request.user)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已重新发送对{notice.employer or notice.person}的通知")
        return redirect(f"{request.path}?outlet={outlet.pk}")
    form = NoticeSendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        kind, _, pk = d["target"].partition(":")
        employer = person = None
        if kind == "unit" and pk.isdigit():
            employer = Employer.objects.filter(pk=pk).first()
        elif kind == "person" and pk.isdigit():
            person = persons_visible_to(request.user).filter(pk=pk).first()
        try:
            notice = card_notice_record(
                outlet=outlet,
                employer=employer,
                person=person,
                channel=d["channel"],
                recipient=d["recipient"],
                note=d["note"],
                actor=request.user,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"已登记{notice.get_channel_display()}通知：{notice.employer or notice.person}"
            )
            return redirect(f"{request.path}?outlet={outlet.pk}")
    page = Paginator(selectors.notices_at(request.user, outlet), 20).get_page(request.GET.get("page"))
    ctx.update(
        {
            "units": selectors.stock_by_employer(outlet),
            "waiting": selectors.persons_waiting_at(outlet)[:200],
            "page_obj": page,
            "channels": CardNotice.Channel.choices,
        }
    )
    return render(request, "cards/notices.html", ctx)


# ---------------------------------------------------------------- village distribution


@requires("card.village")
def village_view(request: HttpRequest) -> HttpResponse:
    """进村发放: plan a session (date, place, villages notified) and open it on the day."""
    from shebao.cards.forms import VillagePlanForm
    from shebao.orgs.models import Township

    user = request.user
    outlets = outlets_visible_to(user).order_by("code")
    townships = Township.objects.filter(region__in=outlets.values("region")).order_by("code")
    own_township = getattr(user, "township_id", None)
    if own_township:
        townships = townships.filter(pk=own_township)
    form = VillagePlanForm(
        request.POST or None,
        outlets=outlets,
        townships=townships,
        initial={"held_on": timezone.localdate(), "station_officer": getattr(user, "display_name", "")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = village_session_plan(actor=user, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"已计划{session.held_on:%Y-%m-%d}在{session.place}进村发放")
            return redirect("cards:village_detail", session.pk)
    page = Paginator(selectors.village_sessions_visible_to(user), 20).get_page(request.GET.get("page"))
    return render(request, "cards/village.html", {"form": form, "page_obj": page})


@requires("card.village")
def village_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    from shebao.cards.forms import VillageIssueForm

    session = selectors.village_session_get(request.user, pk)
    form = VillageIssueForm(request.POST if request.POST.get("step") == "issue" else None)
    try:
        if request.POST.get("step") == "close":
            village_session_close(session=session, actor=request.user)
            messages.success(request, "本场进村发放已结束，未发出的卡留在网点库存")
            return redirect("cards:village_detail", session.pk)
        if request.POST.get("step") == "issue" and form.is_valid():
            d = form.cleaned_data
            card = selectors.village_cards(session).filter(pk=d["card"]).first()
            if card is None:
                raise StateError("该卡不在本场次的待发卡片中")
            issue = card_issue_village(
                session=session,
                card=card,
                receiver=Receiver(
                    name=d["receiver_name"], ssn=d["receiver_ssn"], phone=d["phone"], address=d["address"]
                ),
                checks=VillageChecks(
                    id_checked=d["id_checked"],
                    photo_checked=d["photo_checked"],
                    address_checked=d["address_checked"],
                    form_signed=d["form_signed"],
                ),
                activate_financial=d["activate_financial"],
                password_changed=d["password_changed"],
                actor=request.user,
            )
            messages.success(request, f"已向{issue.receiver_name}发放社保卡，并已启用")
            return redirect("cards:village_detail", session.pk)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return render(
        request,
        "cards/village_detail.html",
        {
            "session": session,
            "cards": selectors.village_cards(session),
            "issues": session.issues.select_related("card", "card__person").order_by("-issued_at"),
            "form": form,
        },
    )


# ---------------------------------------------------------------- mail delivery


@requires("card.mail_request")
def mail_mine_view(request: HttpRequest) -> HttpResponse:
    """The holder: ask for the card by EMS, upload the three liveness proofs, follow the review."""
    from shebao.cards.forms import MailRequestForm, ProofUploadForm

    user = request.user
    step = request.POST.get("step", "")
    try:
        if step == "request":
            form = MailRequestForm(request.POST)
            if form.is_valid():
                card = selectors.mailable_cards(user).filter(pk=form.cleaned_data["card"]).first()
                if card is None:
                    raise StateError("该卡不能申请邮寄")
                mail_request_create(
                    card=card,
                    address=form.cleaned_data["address"],
                    phone=form.cleaned_data["phone"],
                    actor=user,
                )
                messages.success(request, "已提交邮寄申请，请按提示上传生存状态认证材料")
            else:
                messages.error(request, "请填写邮寄地址和收件电话")
            return redirect("cards:mail_mine")
        if step in ("upload", "resubmit", "cancel"):
            req = selectors.mail_request_get(user, int(request.POST.get("request", 0) or 0))
            if step == "upload":
                upload = ProofUploadForm(request.POST, request.FILES)
                if not upload.is_valid():
                    raise ValidationError("请选择材料类型和文件")
                proof = mail_proof_upload(
                    request=req,
                    kind=upload.cleaned_data["kind"],
                    upload=upload.cleaned_data["file"],
                    actor=user,
                )
                messages.success(request, f"已上传{proof.get_kind_display()}")
            elif step == "resubmit":
                mail_request_resubmit(request=req, actor=user)
                messages.success(request, "已重新提交审核")
            else:
                mail_request_cancel(request=req, actor=user)
                messages.success(request, "已撤销邮寄申请")
            return redirect("cards:mail_mine")
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("cards:mail_mine")
    requests_ = list(selectors.mail_requests_visible_to(user).prefetch_related("proofs"))
    for r in requests_:
        r.proof_by_kind = {p.kind: p for p in r.proofs.all()}  # type: ignore[attr-defined]
    return render(
        request,
        "cards/mail_mine.html",
        {
            "cards": selectors.mailable_cards(user),
            "requests": requests_,
            "kinds": LivenessProof.Kind.choices,
            "person": getattr(user, "person", None),
        },
    )


@requires("card.view")
def mail_proof_view(request: HttpRequest, pk: int) -> FileResponse:
    """A liveness proof, only to the holder and the centre staff who may see the request."""
    proof = get_object_or_404(LivenessProof, pk=pk)
    selectors.mail_request_get(request.user, proof.request_id)
    try:
        fh = proof.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在") from None
    return FileResponse(fh, content_type=proof.content_type, filename=proof.original_name)


@requires("card.mail_review")
def mail_requests_view(request: HttpRequest) -> HttpResponse:
    """The review queue, and the cards whose application chose mail: the window prepares their request."""
    if request.method == "POST" and request.POST.get("step") == "prepare":
        raw = request.POST.get("card", "")
        card = selectors.mail_to_prepare(request.user).filter(pk=raw).first() if raw.isdigit() else None
        if card is None:
            messages.error(request, "该卡不在待准备邮寄的名单中，请刷新后重试")
            return redirect("cards:mail_requests")
        try:
            req = mail_request_from_application(card=card, actor=request.user)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("cards:mail_requests")
        messages.success(request, "已代持卡人提交邮寄申请，请上传持卡人提供的生存状态认证材料")
        return redirect("cards:mail_detail", req.pk)
    state = request.GET.get("state", MailState.REQUESTED)
    qs = selectors.mail_requests_visible_to(request.user)
    if state in MailState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "cards/mail_requests.html",
        {
            "page_obj": page,
            "state": state,
            "states": MailState.choices,
            "querystring": _querystring(request),
            "to_prepare": selectors.mail_to_prepare(request.user)[:200],
        },
    )


@requires("card.mail_review")
def mail_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Review the proofs, approve or reject with a reason, then dispatch by EMS with the tracking number."""
    from shebao.cards.forms import MailDispatchForm, MailRejectForm, ProofUploadForm

    req = selectors.mail_request_get(request.user, pk)
    step = request.POST.get("step", "")
    reject_form = MailRejectForm(request.POST if step == "reject" else None)
    dispatch_form = MailDispatchForm(request.POST if step == "dispatch" else None)
    try:
        # the window uploads what the holder brought or sent (on the holder's behalf)
        if step == "upload":
            upload = ProofUploadForm(request.POST, request.FILES)
            if not upload.is_valid():
                raise ValidationError("请选择材料类型和文件")
            proof = mail_proof_upload(
                request=req,
                kind=upload.cleaned_data["kind"],
                upload=upload.cleaned_data["file"],
                actor=request.user,
            )
            messages.success(request, f"已代持卡人上传{proof.get_kind_display()}")
            return redirect("cards:mail_detail", req.pk)
        if step == "resubmit":
            mail_request_resubmit(request=req, actor=request.user)
            messages.success(request, "已重新提交审核")
            return redirect("cards:mail_detail", req.pk)
        if step == "approve":
            mail_request_approve(request=req, actor=request.user)
            messages.success(request, "审核通过，可以安排EMS邮寄")
            return redirect("cards:mail_detail", req.pk)
        if step == "reject" and reject_form.is_valid():
            mail_request_reject(request=req, reason=reject_form.cleaned_data["reason"], actor=request.user)
            messages.success(request, "已退回持卡人补正材料")
            return redirect("cards:mail_detail", req.pk)
        if step == "dispatch" and dispatch_form.is_valid():
            issue = mail_dispatch(
                request=req, tracking_no=dispatch_form.cleaned_data["tracking_no"], actor=request.user
            )
            messages.success(request, f"已交EMS邮寄（到付），运单号 {issue.tracking_no}；人社功能已集中启用")
            return redirect("cards:mail_detail", req.pk)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    location = selectors.card_location_now(req.card_id)
    return render(
        request,
        "cards/mail_detail.html",
        {
            "req": req,
            "proofs": req.proofs.all(),
            "location": location,
            "reject_form": reject_form,
            "dispatch_form": dispatch_form,
            "kinds": LivenessProof.Kind.choices,
        },
    )


# ---------------------------------------------------------------- temporary cards


@requires("card.temp_report")
def temp_cards_view(request: HttpRequest) -> HttpResponse:
    """临时卡: look a person up before the formal issue, settle the temporary card, reconcile on the 15th."""
    from shebao.cards.forms import TempReconcileForm, TempRegisterForm, TempSettleForm
    from shebao.people.selectors import persons_visible_to

    user = request.user
    step = request.POST.get("step", "")
    outlets = outlets_visible_to(user).order_by("code")
    register_form = TempRegisterForm(request.POST if step == "register" else None, outlets=outlets)
    reconcile_form = TempReconcileForm(
        request.POST if step == "reconcile" else None,
        outlets=outlets,
        initial={"period": period_of(timezone.localdate()), "checked_by": getattr(user, "display_name", "")},
    )
    try:
        if step == "register" and register_form.is_valid():
            if not user.can("card.temp_register"):  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权登记临时卡")
            d = register_form.cleaned_data
            person = persons_visible_to(user).filter(ssn=d["ssn"].strip().upper()).first()
            if person is None:
                raise ValidationError("没有找到该人员，或不在您的管辖范围内")
            temp_card_register(
                person=person, temp_no=d["temp_no"], issued_on=d["issued_on"], outlet=d["outlet"], actor=user
            )
            messages.success(request, f"已登记{person.name}的临时卡")
            return redirect(f"{request.path}?person={person.pk}")
        if step == "settle":
            if not user.can("card.temp"):  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权办理临时卡回收")
            settle = TempSettleForm(request.POST)
            outlet = _outlet_of(request)
            if not settle.is_valid() or outlet is None:
                raise ValidationError("请选择处理结果和办理网点")
            temp = get_object_or_404(
                selectors.temp_cards_visible_to(user), pk=settle.cleaned_data["temp_card"]
            )
            temp = temp_card_settle(
                temp_card=temp,
                outcome=settle.cleaned_data["outcome"],
                receipt_no=settle.cleaned_data["receipt_no"],
                outlet=outlet,
                actor=user,
            )
            done = (
                "已回收临时卡" if temp.fee is None else f"已收取工本费{temp.fee}元（收据{temp.receipt_no}）"
            )
            messages.success(request, f"{done}，可以发放正式卡")
            return redirect(f"{request.path}?person={temp.person_id}")
        if step == "reconcile" and reconcile_form.is_valid():
            if not user.can("card.temp_reconcile"):  # type: ignore[union-attr]
                raise PermissionDenied("您的角色无权核对临时卡")
            d = reconcile_form.cleaned_data
            rec = temp_card_reconcile(
                outlet=d["outlet"], period=d["period"], checked_by=d["checked_by"], actor=user
            )
            messages.success(request, "已完成临时卡及工本费核对")
            return redirect("cards:temp_reconciliation", rec.pk)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    # by the SSN the clerk types, or by the person a card page links to (no ID number in the URL)
    q = (request.GET.get("q") or "").strip().upper()
    person_id = request.GET.get("person") or ""
    found = None
    if q:
        found = selectors.temp_cards_visible_to(user).filter(person__ssn=q)
    elif person_id.isdigit():
        found = selectors.temp_cards_visible_to(user).filter(person_id=person_id)
    this_period = period_of(timezone.localdate())
    return render(
        request,
        "cards/temp_cards.html",
        {
            "q": q,
            "found": found,
            "outstanding": selectors.temp_cards_visible_to(user).filter(state="outstanding")[:100],
            "register_form": register_form,
            "reconcile_form": reconcile_form,
            "settle_choices": TempSettleForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
            "pending": selectors.temp_unreconciled_by_outlet(user),
            "reconciliations": selectors.temp_reconciliations_visible_to(user)[:24],
            "next_date": selectors.temp_reconcile_date(this_period),
            "outlets": outlets if getattr(user, "outlet", None) is None else None,
        },
    )


@requires("card.temp_report")
def temp_reconciliation_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    rec = selectors.temp_reconciliation_get(request.user, pk)
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import TempReconciliationExporter

        exporter = TempReconciliationExporter(rec, full_ids=request.user.sees_full_ids)  # type: ignore[union-attr]
        return exporter.xlsx_response(f"临时卡核对_{rec.outlet.code}_{rec.period}.xlsx")
    return render(
        request,
        "cards/print_temp_reconciliation.html",
        {"rec": rec, **selectors.temp_reconciliation_report(rec)},
    )


# ---------------------------------------------------------------- waste-card destruction and 附表6


@requires("card.destroy_view")
def destructions_view(request: HttpRequest) -> HttpResponse:
    """废卡: collect waste cards by region, hand them to the provincial centre, list the destructions."""
    from shebao.cards.forms import WasteHandoverForm, WasteRecallForm

    user = request.user
    step = request.POST.get("step", "")
    recall_form = WasteRecallForm(request.POST if step == "recall" else None)
    handover_form = WasteHandoverForm(request.POST if step == "handover" else None)
    try:
        if step and not user.can("card.destroy"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权办理废卡")
        if step == "recall" and recall_form.is_valid():
            d = recall_form.cleaned_data
            card = selectors.cards_visible_to(user).filter(card_no=d["card_no"].strip().upper()).first()
            if card is None:
                raise ValidationError("没有找到该卡号，或不在您的管辖范围内")
            card_recall(
                card=card,
                kind="waste",
                cause=d["cause"],
                death_certificate_no=d["death_certificate_no"],
                reason=d["reason"],
                outlet=getattr(user, "outlet", None),
                handed_in_by=d["handed_in_by"],
                actor=user,
            )
            messages.success(request, f"卡号 {card.card_no} 已作为废卡回收")
            return redirect("cards:destructions")
        if step == "handover" and handover_form.is_valid():
            destruction = waste_handover(
                card_ids=[int(x) for x in request.POST.getlist("card") if x.isdigit()],
                actor=user,
                **handover_form.cleaned_data,
            )
            messages.success(
                request, f"已将{destruction.card_count}张废卡交付省厅信息管理中心，请打印交接记录"
            )
            return redirect("cards:destruction_detail", destruction.pk)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    page = Paginator(selectors.destructions_visible_to(user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "cards/destructions.html",
        {
            "candidates": selectors.waste_candidates(user)[:500],
            "recall_form": recall_form,
            "handover_form": handover_form,
            "page_obj": page,
            "can_destroy": user.can("card.destroy"),  # type: ignore[union-attr]
        },
    )


@requires("card.destroy_view")
def destruction_detail_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    from shebao.cards.forms import DestroyForm

    destruction = selectors.destruction_get(request.user, pk)
    form = DestroyForm(request.POST or None)
    if request.method == "POST":
        if not request.user.can("card.destroy"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权登记废卡销毁")
        if form.is_valid():
            try:
                waste_destroy(destruction=destruction, actor=request.user, **form.cleaned_data)
            except PermissionDenied:
                raise
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"已销毁{destruction.card_count}张废卡，请打印销毁记录由监销人签字")
                return redirect("cards:destruction_detail", destruction.pk)
    items = destruction.items.select_related("card", "card__person", "card__bank").order_by(
        "cause", "card__card_no"
    )
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import DestructionExporter

        exporter = DestructionExporter(destruction, full_ids=request.user.sees_full_ids)  # type: ignore[union-attr]
        return exporter.xlsx_response(f"废卡销毁明细_{destruction.pk}.xlsx")
    template = "cards/print_destruction.html" if request.GET.get("print") else "cards/destruction_detail.html"
    return render(request, template, {"destruction": destruction, "items": items, "form": form})


@requires("card.document_disposal_view")
def disposals_view(request: HttpRequest) -> HttpResponseBase:
    """文件销毁/处置记录表 (附表6)."""
    from shebao.cards.forms import DisposalForm

    user = request.user
    outlets = outlets_visible_to(user).order_by("code")
    form = DisposalForm(
        request.POST or None,
        outlets=outlets,
        initial={
            "disposed_on": timezone.localdate(),
            "disposed_by": getattr(user, "display_name", ""),
            "outlet": getattr(user, "outlet", None),
        },
    )
    if request.method == "POST":
        if not user.can("card.document_disposal"):  # type: ignore[union-attr]
            raise PermissionDenied("您的角色无权登记文件销毁")
        if form.is_valid():
            try:
                document_disposal_record(actor=user, **form.cleaned_data)
            except PermissionDenied:
                raise
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "已登记文件销毁/处置记录")
                return redirect("cards:disposals")
    records = selectors.disposals_visible_to(user)
    if request.GET.get("format") == "xlsx":
        from shebao.cards.exporters import DisposalExporter

        return DisposalExporter(records).xlsx_response("文件销毁处置记录表.xlsx")
    if request.GET.get("print"):
        return render(request, "cards/print_disposals.html", {"records": records[:200]})
    page = Paginator(records, 20).get_page(request.GET.get("page"))
    return render(request, "cards/disposals.html", {"form": form, "page_obj": page})


@requires("card.unit_handout")
def unit_handovers_view(request: HttpRequest) -> HttpResponse:
    """The unit clerk ticks the members who received their cards; the outlet then takes back the rest."""
    if request.method == "POST":
        handover = selectors.handover_get(request.user, int(request.POST.get("handover", 0) or 0))
        try:
            raw_day = request.POST.get("handed_on", "")
            try:
                handed_on = dt.date.fromisoformat(raw_day)
            except ValueError:
                raise ValidationError("请填写发卡日期") from None
            n = unit_member_handout_record(
                handover=handover,
                card_ids=[int(x) for x in request.POST.getlist("card") if x.isdigit()],
                handed_on=handed_on,
                actor=request.user,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已登记{n}张社保卡发给本人；未发出的卡请交回网点")
        return redirect("cards:unit_handovers")
    return render(
        request,
        "cards/unit_handovers.html",
        {"handovers": selectors.handovers_of_unit(request.user), "today": timezone.localdate()},
    )


@requires("card.activate_financial")
def activations_view(request: HttpRequest) -> HttpResponse:
    """金融功能激活报送: the co-brand bank reads in its file of activated cards (item 11: screen or file)."""
    from shebao.cards.activations import ActivationFileInvalid, financial_activation_import
    from shebao.cards.forms import ActivationFileForm

    form = ActivationFileForm(request.POST or None, request.FILES or None)
    problems = None
    if request.method == "POST" and form.is_valid():
        try:
            result = financial_activation_import(
                path=_save_upload(form.cleaned_data["file"], "activations"), actor=request.user
            )
        except PermissionDenied:
            raise
        except ActivationFileInvalid as exc:
            messages.error(request, exc.message)
            problems = exc.problems
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"已读入{result.rows}行：激活金融功能{result.activated}张，此前已激活{result.unchanged}张；"
                "激活卡的银行账户已提交待启用为发放账户",
            )
            return redirect("cards:activations")
    page = Paginator(selectors.reported_activations(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "cards/activations.html", {"form": form, "problems": problems, "page_obj": page})


@requires("card.view")
def application_photo_view(request: HttpRequest, pk: int) -> FileResponse:
    """The photo taken at the window, only to who may see the applicant."""
    application = selectors.application_get(request.user, pk)
    if not application.photo:
        raise Http404("该申领没有相片")
    try:
        fh = application.photo.open("rb")
    except FileNotFoundError:
        raise Http404("相片文件已不存在") from None
    suffix = Path(application.photo.name).suffix.lower()
    return FileResponse(fh, content_type="image/png" if suffix == ".png" else "image/jpeg")
