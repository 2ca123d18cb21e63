from django.urls import path
from django.views.generic import RedirectView

from shebao.cards import views

app_name = "cards"

urlpatterns = [
    # the search has its own path so that the menu does not mark it active on every card page
    path("", RedirectView.as_view(pattern_name="cards:search"), name="index"),
    path("search/", views.card_search_view, name="search"),
    path("<int:pk>/", views.card_detail_view, name="detail"),
    path("<int:pk>/action/", views.card_action_view, name="action"),
    path("<int:pk>/issue/", views.card_issue_view, name="issue"),
    path("issues/<int:pk>/print/", views.issue_print_view, name="issue_print"),
    path("stock/", views.stock_view, name="stock"),
    path("stock/<int:pk>/", views.stock_location_view, name="stock_location"),
    path("collective/", views.collective_view, name="collective"),
    path("handovers/<int:pk>/print/", views.handover_print_view, name="handover_print"),
    path("closings/", views.closing_list_view, name="closings"),
    path("recalls/errors/print/", views.error_list_print_view, name="error_list_print"),
    path("recalls/errors/reapply/", views.error_reapply_view, name="error_reapply"),
    path("apply/", views.card_apply_view, name="apply"),
    path("applications/<int:pk>/photo/", views.application_photo_view, name="application_photo"),
    path("production/", views.production_view, name="production"),
    path("production/<int:pk>/file/", views.production_file_view, name="production_file"),
    path("shipments/", views.shipment_list_view, name="shipments"),
    path("shipments/<int:pk>/print/", views.shipment_print_view, name="shipment_print"),
    path("closings/<int:pk>/", views.closing_detail_view, name="closing_detail"),
    path("notices/", views.notices_view, name="notices"),
    path("collective/unit/", views.unit_handovers_view, name="unit_handovers"),
    path("village/", views.village_view, name="village"),
    path("village/<int:pk>/", views.village_detail_view, name="village_detail"),
    path("mail/", views.mail_mine_view, name="mail_mine"),
    path("mail/review/", views.mail_requests_view, name="mail_requests"),
    path("mail/<int:pk>/", views.mail_detail_view, name="mail_detail"),
    path("mail/proofs/<int:pk>/", views.mail_proof_view, name="mail_proof"),
    path("temp/", views.temp_cards_view, name="temp_cards"),
    path("temp/reconciliations/<int:pk>/", views.temp_reconciliation_view, name="temp_reconciliation"),
    path("destruction/", views.destructions_view, name="destructions"),
    path("destruction/<int:pk>/", views.destruction_detail_view, name="destruction_detail"),
    path("disposals/", views.disposals_view, name="disposals"),
    path("activations/", views.activations_view, name="activations"),
]
