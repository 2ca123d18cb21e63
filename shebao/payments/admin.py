"""Reference data only: benefit types (payer code, card rollout period) are edited here; everything that
moves money goes through the services and their pages, so the rest is read-only."""

from django.contrib import admin

from shebao.payments.models import BenefitType, NameWhitelist


@admin.register(BenefitType)
class BenefitTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "payer_code", "kind", "card_from_period", "sort_order")
    search_fields = ("code", "name")
    readonly_fields = ("code",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(NameWhitelist)
class NameWhitelistAdmin(admin.ModelAdmin):
    list_display = ("person", "spelling", "note", "created_by", "created_at")
    search_fields = ("person__ssn", "person__name", "spelling")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
