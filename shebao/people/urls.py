from django.urls import path

from shebao.people import import_views, views

app_name = "people"

urlpatterns = [
    path("", views.person_search_view, name="search"),
    path("<int:pk>/", views.person_detail_view, name="detail"),
    path("export.xlsx", views.person_export_view, name="export"),
    path("import/", views.person_import_view, name="import"),
    path("import/template.xlsx", import_views.person_import_template_view, name="import_template"),
]
