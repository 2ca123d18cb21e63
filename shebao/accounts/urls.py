from django.urls import path

from shebao.accounts import views

app_name = "accounts"

urlpatterns = [path("tokens/", views.token_list_view, name="tokens")]
