from django.contrib import admin

from shebao.orgs.models import Bank, Employer, Outlet, Region, Township


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    search_fields = ("code", "name")


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "region")
    search_fields = ("code", "name")
    list_filter = ("kind",)


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "township", "contact_name", "contact_phone")
    search_fields = ("code", "name")
    list_filter = ("kind", "township")
    raw_id_fields = ("township",)


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "file_layout", "payer_code")
    search_fields = ("code", "name")


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "bank", "township")
    search_fields = ("code", "name")
    list_filter = ("kind", "bank")
