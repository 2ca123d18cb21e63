from django.urls import path

from shebao.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payroll_list_view, name="payroll_list"),
    path("payrolls/<int:pk>/", views.payroll_detail_view, name="payroll_detail"),
    path("payrolls/<int:pk>/approve/", views.payroll_approve_view, name="payroll_approve"),
    path("payrolls/<int:pk>/preflight/", views.payroll_preflight_view, name="payroll_preflight"),
    path("payrolls/<int:pk>/file/", views.payroll_file_view, name="payroll_file"),
    path("payrolls/<int:pk>/return/", views.return_upload_view, name="return_upload"),
    path("files/<int:pk>/download/", views.bank_file_download_view, name="bank_file_download"),
    path("failures/", views.failures_view, name="failures"),
    path("failures/export.xlsx", views.failures_export_view, name="failures_export"),
    path("payrolls/<int:pk>/export.xlsx", views.payroll_export_view, name="payroll_export"),
    path("whitelist/", views.whitelist_add_view, name="whitelist_add"),
    path("whitelist/<int:pk>/confirm/", views.whitelist_confirm_view, name="whitelist_confirm"),
    path("lines/<int:pk>/resolve/", views.line_resolve_view, name="line_resolve"),
    path("lines/<int:pk>/await-card/", views.line_await_card_view, name="line_await_card"),
    path("repayments/", views.repayment_generate_view, name="repayment_generate"),
    path("deaths/", views.death_record_view, name="death_record"),
    path("deaths/correct/", views.death_correct_view, name="death_correct"),
    path("deaths/import/", views.death_import_view, name="death_import"),
    path("deaths/<int:person_id>/family/", views.survivor_claim_view, name="survivor_claim"),
    path(
        "deaths/<int:person_id>/family/decide/",
        views.survivor_claim_decide_view,
        name="survivor_claim_decide",
    ),
    path("certification/", views.certification_view, name="certification"),
    path("certification/import/", views.certification_import_view, name="certification_import"),
    path("certification/sweep/", views.certification_sweep_view, name="certification_sweep"),
    path("entitlements/", views.entitlement_list_view, name="entitlements"),
    path("entitlements/import/", views.entitlement_import_view, name="entitlement_import"),
    path(
        "entitlements/imports/<int:pk>/decide/",
        views.entitlement_import_decide_view,
        name="entitlement_import_decide",
    ),
    path("entitlements/<int:pk>/change/", views.entitlement_change_view, name="entitlement_change"),
    path(
        "entitlement-changes/<int:pk>/decide/",
        views.entitlement_change_decide_view,
        name="entitlement_change_decide",
    ),
    path("statements/<int:person_id>/", views.statement_view, name="statement"),
    path("statements/mine/", views.my_statement_view, name="my_statement"),
    path("overpayments/", views.overpayments_view, name="overpayments"),
    path("overpayments/<int:pk>/settle/", views.overpayment_settle_view, name="overpayment_settle"),
]
