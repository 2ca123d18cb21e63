from django.urls import path

from shebao.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list_view, name="list"),
    path("<int:pk>/", views.job_detail_view, name="detail"),
    path("<int:pk>/progress/", views.job_progress_view, name="progress"),
    path("<int:pk>/download/", views.job_download_view, name="download"),
]
