from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from shebao.api.api import api
from shebao.web import views as web_views

admin.site.site_header = "社保卡发放与待遇支付系统 · 基础数据管理"
admin.site.site_title = "shebao 管理"

urlpatterns = [
    path("", web_views.home, name="home"),
    path("login/", web_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("people/", include("shebao.people.urls")),
    path("cards/", include("shebao.cards.urls")),
    path("switching/", include("shebao.switching.urls")),
    path("payments/", include("shebao.payments.urls")),
    path("campaigns/", include("shebao.campaigns.urls")),
    path("audit/", include("shebao.audit.urls")),
    path("jobs/", include("shebao.jobs.urls")),
    path("accounts/", include("shebao.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

handler403 = "shebao.web.views.forbidden"
