from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator

from shebao.accounts.backends import is_locked_out
from shebao.accounts.roles import CENTRE_ROLES
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
    return render(request, "web/home.html", {"stats": stats, "chart": chart, "jobs": jobs})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception) if exception else ""}, status=403)
