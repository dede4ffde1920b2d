"""The Django admin, opened to users who hold the admin role (not to Django's staff flag alone).

Admins manage institutions, users, memberships, code lists, geography and object permissions. Models that
hold identity data (people, identity, applications) are not registered: being admin grants no case data.
"""

from django.contrib import admin

from accounts import access


class PortalAdminSite(admin.AdminSite):
    site_header = "CONATT"
    site_title = "CONATT"

    def has_permission(self, request) -> bool:
        return request.user.is_active and access.can_administer(request.user)


class AdminRoleMixin:
    """Every admin page and inline answers to the admin role, through accounts.access like every other page."""

    def has_module_permission(self, request) -> bool:
        return access.can_administer(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return access.can_administer(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return access.can_administer(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_administer(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return access.can_administer(request.user)


class PortalModelAdmin(AdminRoleMixin, admin.ModelAdmin):
    pass


class ReadOnlyAdmin(PortalModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
