from django.urls import path

from shebao.switching import views

app_name = "switching"

urlpatterns = [
    path("runs/", views.run_list_view, name="runs"),
    path("runs/<int:pk>/", views.run_detail_view, name="run"),
    path("runs/<int:pk>/rerun/", views.run_rerun_view, name="run_rerun"),
    path("rules/", views.rule_list_view, name="rules"),
    path("rules/apply/", views.rollout_apply_view, name="rollout_apply"),
    path("preferences/", views.preference_view, name="preferences"),
    path("forms/", views.form_list_view, name="forms"),
    path("forms/mine/", views.my_forms_view, name="my_forms"),
    path("progress/", views.progress_view, name="progress"),
    path("intake/", views.intake_view, name="intake"),
    path("new-beneficiaries/", views.new_beneficiaries_view, name="new_beneficiaries"),
    path("notices/", views.notice_list_view, name="notices"),
    path("forms/<int:pk>/", views.form_detail_view, name="form"),
    path("forms/<int:pk>/download.xlsx", views.form_download_view, name="form_download"),
    path("forms/<int:pk>/print/", views.form_print_view, name="form_print"),
    path("forms/<int:pk>/return/", views.form_upload_view, name="form_upload"),
    path("forms/<int:pk>/online/", views.form_online_view, name="form_online"),
    path("forms/<int:pk>/files/<str:which>/", views.form_file_view, name="form_file"),
    path("changes/<int:pk>/files/<str:which>/", views.change_file_view, name="change_file"),
    path("forms/<int:pk>/check/", views.form_check_view, name="form_check"),
    path("forms/<int:pk>/review/", views.form_review_view, name="form_review"),
    path("changes/", views.change_list_view, name="changes"),
    path("changes/batch/", views.change_batch_view, name="change_batch"),
    path("changes/<int:pk>/check/", views.change_check_view, name="change_check"),
    path("changes/<int:pk>/decide/", views.change_decide_view, name="change_decide"),
    path("changes/<int:pk>/notice/", views.change_notice_view, name="change_notice"),
    path("changes/<int:pk>/failure/", views.change_failure_view, name="change_failure"),
    path("failures/", views.failure_list_view, name="failures"),
    path("failures/collect/", views.failures_collect_view, name="failures_collect"),
    path("failures/<int:pk>/resubmit/", views.failure_resubmit_view, name="failure_resubmit"),
]
