from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from conatt_portal.admin import AdminRoleMixin, PortalModelAdmin, ReadOnlyAdmin

from . import access, services
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
    # axes' and django-otp's own admin pages stay closed to the admin role (they show addresses, usernames and
    # device secrets); these two actions are what an admin needs from them, each audited.
    actions = ["unlock_login", "reset_two_factor"]

    @admin.action(description=_("Lift the login lockout of the selected users"))
    def unlock_login(self, request, queryset):
        ip = access.client_ip(request)
        removed = sum(services.user_login_unlock(by=request.user, user=user, ip=ip) for user in queryset)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "Login lockout lifted for %(count)d user (%(removed)d lockout records removed).",
                "Login lockout lifted for %(count)d users (%(removed)d lockout records removed).",
                count,
            )
            % {"count": count, "removed": removed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reset the two-factor devices of the selected users"))
    def reset_two_factor(self, request, queryset):
        ip = access.client_ip(request)
        removed = sum(services.user_two_factor_reset(by=request.user, user=user, ip=ip) for user in queryset)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "Two-factor devices reset for %(count)d user (%(removed)d devices removed); they enrol again at "
                "their next page.",
                "Two-factor devices reset for %(count)d users (%(removed)d devices removed); they enrol again at "
                "their next page.",
                count,
            )
            % {"count": count, "removed": removed},
            messages.SUCCESS,
        )


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
