from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator

from shebao.accounts.backends import is_locked_out
from shebao.accounts.roles import CENTRE_ROLES, Role
from shebao.jobs.selectors import jobs_visible_to
from shebao.orgs.selectors import employers_visible_to, townships_visible_to
from shebao.people.models import PersonCategory
from shebao.people.selectors import persons_visible_to
from shebao.web.http import AuthedRequest


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):  # type: ignore[no-untyped-def]
        username = self.request.POST.get("username", "")
        if username and is_locked_out(username):
            form.errors.clear()
            form.add_error(None, "登录失败次数过多，账号已临时锁定，请稍后再试或联系管理员。")
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        ctx = super().get_context_data(**kwargs)
        ctx["login_notice"] = "本系统仅限授权人员使用，所有操作均记录审计日志。"
        return ctx


def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.CARDHOLDER and user.person_id:
        return holder_home(request)
    persons = persons_visible_to(user)
    stats = {
        "persons": persons.count(),
        "alive": persons.filter(death_date__isnull=True).count(),
        "employers": employers_visible_to(user).count(),
        "townships": townships_visible_to(user).count(),
    }
    by_category = dict(
        PersonCategory.objects.filter(person__in=persons.values("pk"))
        .values("category")
        .annotate(n=Count("id"))
        .order_by("category")
        .values_list("category", "n")
    )
    labels = dict(PersonCategory._meta.get_field("category").choices or [])  # type: ignore[arg-type]
    chart = {
        "tooltip": {"trigger": "item"},
        "series": [
            {
                "type": "pie",
                "radius": ["40%", "70%"],
                "data": [{"name": str(labels.get(k, k)), "value": v} for k, v in sorted(by_category.items())],
            }
        ],
    }
    jobs = jobs_visible_to(user)[:5] if user.role in CENTRE_ROLES else []
    from shebao.switching.selectors import start_page_notices

    return render(
        request,
        "web/home.html",
        {"stats": stats, "chart": chart, "jobs": jobs, "switching_notices": start_page_notices(user)},
    )


# What the holder should do next, by the state of a card.
_CARD_NEXT_STEP = {
    "applied": "申领已受理，正在等待制卡。",
    "in_production": "卡片正在制作中，制成后会通知您领卡。",
    "production_failed": "制卡未成功（原因见下），请按提示补充资料后重新制卡。",
    "produced": "卡片已制成，正在配送到领卡网点。",
    "shipped": "卡片正在配送到领卡网点。",
    "in_stock": "卡片已到网点，请本人携带身份证到 {location} 领取（也可凭预留的代领人身份证代领）。",
    "issued": "",
    "temporarily_lost": "已临时挂失：请在有效期内办理正式挂失或解除挂失。",
    "formally_lost": "已正式挂失：请到经办机构或合作银行网点申请补卡。",
    "replaced": "此卡已补换，请使用新卡。",
    "cancelled": "此卡已注销。",
    "recalled": "此卡已回收。",
    "destroyed": "此卡已销毁。",
}


def holder_home(request: AuthedRequest) -> HttpResponse:
    """A cardholder's own page: their cards and what to do next, the account benefits are paid into,
    and the latest payments. Everything through the scoped selectors (the holder's own records only)."""
    from django.utils import timezone

    from shebao.cards.selectors import card_location_now, cards_visible_to
    from shebao.core.values.period import period_of
    from shebao.payments.selectors import payment_statement
    from shebao.people.selectors import account_effective, person_get

    user = request.user
    person = person_get(user, user.person_id)  # type: ignore[arg-type]
    cards = []
    for card in cards_visible_to(user).select_related("bank").order_by("-generation", "-id"):
        location = card_location_now(card.pk)
        step = _CARD_NEXT_STEP.get(card.state, "")
        if card.state == "issued" and card.fin_activated_at is None:
            step = f"金融功能尚未激活：请本人携带社保卡和身份证到{card.bank.name}任一网点激活，激活后待遇才能发放到卡上。"
        elif card.state == "issued" and card.ss_activated_at is None:
            step = "社保功能尚未启用：请到经办机构窗口或乡镇（街道）服务站启用。"
        cards.append({"card": card, "location": location, "step": step.format(location=location or "网点")})
    current = account_effective(person.pk, period_of(timezone.localdate()))
    _person, lines = payment_statement(user, person.pk)
    return render(
        request,
        "web/holder_home.html",
        {"person": person, "cards": cards, "current": current, "lines": list(lines[:12])},
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception) if exception else ""}, status=403)
