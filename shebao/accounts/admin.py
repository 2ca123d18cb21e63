from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from shebao.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role", "region", "employer", "township", "bank", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name")
    raw_id_fields = ("person", "employer", "township", "outlet")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        ("角色与管辖范围", {"fields": ("role", "full_name", "phone", "region", "employer", "township", "bank", "outlet", "person")}),
    )
