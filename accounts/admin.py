from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from conatt_portal.admin import AdminRoleMixin, PortalModelAdmin, ReadOnlyAdmin

from .models import AccessEvent, Institution, Membership, User


class MembershipInline(AdminRoleMixin, admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["institution"]


@admin.register(User)
class UserAdmin(PortalModelAdmin, DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active", "last_login"]
    # Roles come from memberships; the superuser and staff flags are not how the portal grants access.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Institution)
class InstitutionAdmin(PortalModelAdmin):
    list_display = ["code", "name_es", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name_es", "name_en"]


@admin.register(Membership)
class MembershipAdmin(PortalModelAdmin):
    list_display = ["user", "institution", "role", "active", "created_at"]
    list_filter = ["role", "institution", "active"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user", "institution"]


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action"]
    date_hierarchy = "at"
