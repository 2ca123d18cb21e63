"""Card pages. Thin: parse the request, call one selector or service, render."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from shebao.cards import selectors
from shebao.cards.forms import (
    ActivateFinancialForm,
    ActivateSocialForm,
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
from shebao.cards.models import CARD_TRANSITIONS, CardIssue, CardState
from shebao.cards.services import (
    LossKind,
    Receiver,
    application_resubmit,
    card_activate_financial,
    card_activate_social,
    card_apply,
    card_issue,
    card_issue_collective,
    card_notice_record,
    card_recall,
    card_replace,
    card_report_loss,
    card_unlock,
    production_dir,
    production_file_write,
    production_return_import,
    shipment_create,
    shipment_receive,
    unit_handover_settle,
    vault_close,
    vault_count_submit,
    vault_difference_explain,
)
from shebao.core.errors import DomainError, PermissionDenied
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
            card_recall(
                card=card,
                kind=request.POST.get("kind", ""),
                reason=reason,
                outlet=getattr(user, "outlet", None),
                actor=user,
            )
            messages.success(request, "已回收该卡；信息有误的卡列入《信息有误人员清单》")
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
    form = IssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        receiver = Receiver(
            name=d["receiver_name"],
            ssn=d["receiver_ssn"],
            relation=d["relation"],
            household_register=d["household_register"],
            phone=d["phone"],
            address=d["address"],
        )
        try:
            issue = card_issue(
                card=card,
                outlet=outlet,
                mode=d["mode"],
                receiver=receiver,
                activate_social=d["activate_social"],
                activate_financial=d["activate_financial"],
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
        {"card": card, "outlet": outlet, "form": form, "application": application},
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
    units = selectors.stock_by_employer(outlet)
    wanted = request.GET.get("employer") or request.POST.get("employer") or ""
    employer = next((u for u, _ in units if str(u.pk) == wanted), None)
    ctx: dict = {
        "outlet": outlet,
        "units": units,
        "employer": employer,
        "open_handovers": selectors.open_handovers(outlet),
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
def handover_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    handover = selectors.handover_get(request.user, pk)
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
    form = ApplyForm(request.POST or None, outlets=outlets, initial={"ssn": request.GET.get("ssn", "")})
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
            result = production_return_import(
                path=_save_upload(return_form.cleaned_data["file"]), actor=request.user
            )
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


def _save_upload(upload) -> Path:  # type: ignore[no-untyped-def]
    """Keep the uploaded return file (the original is evidence); the suffix tells the reader its format."""
    folder = Path(settings.DATA_DIR) / "cards" / "returns"
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
    batch = selectors.batch_get(request.user, pk)
    path = production_dir() / batch.file_name
    if not path.exists():
        raise Http404("制卡文件已不存在")
    return FileResponse(path.open("rb"), as_attachment=True, filename=batch.file_name)


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
                shipment_receive(shipment=shipment, custodian=receive.cleaned_data["custodian"], actor=user)
                messages.success(request, f"已签收入库{shipment.card_count}张社保卡")
            else:
                messages.error(request, "请填写入库保管责任人")
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
def shipment_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    shipment = selectors.shipment_get(request.user, pk)
    lines = (
        shipment.movements.filter(kind="handed_over")
        .select_related("card", "card__person", "card__bank")
        .order_by("card__box_position", "card__card_no")
    )
    return render(request, "cards/print_shipment.html", {"shipment": shipment, "lines": lines})


@requires("card.recall")
def error_list_print_view(request: HttpRequest) -> HttpResponse:
    """信息有误人员清单 (附件4): error cards recalled at the user's locations, for hand-over to the centre."""
    recalls = selectors.error_recalls(request.user)
    return render(request, "cards/print_error_list.html", {"recalls": recalls})
