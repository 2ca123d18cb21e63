from django.urls import path

from shebao.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list_view, name="list"),
    path("<int:pk>/", views.campaign_detail_view, name="detail"),
    path("phases/<int:pk>/", views.phase_view, name="phase"),
    path("transfers/", views.transfers_view, name="transfers"),
    path("transfers/refetch/", views.transfer_refetch_view, name="transfer_refetch"),
    path("transfers/<int:pk>/decide/", views.transfer_decide_view, name="transfer_decide"),
    path("progress/", views.progress_view, name="progress"),
    path("card-accounts/", views.offers_view, name="offers"),
]
