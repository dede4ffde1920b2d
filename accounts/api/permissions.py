"""DRF permission classes that ask accounts.access, so the API applies exactly the rules of the pages.

Every class answers 401 to a request without valid credentials (DRF does this before has_permission is
asked for an anonymous user only if the class refuses; the classes below refuse anonymous users first) and
403 to an authenticated user whose roles lack the right. Object visibility (another institution's case ->
404) is not a permission here: views fetch objects through access.get_application / the visible querysets.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import access
from accounts.models import AccessEvent


def _denied(request, view) -> bool:
    """Log a refusal (ids only) and refuse."""
    match = getattr(request._request, "resolver_match", None)
    access.log_access(request, AccessEvent.Action.ACCESS_DENIED, detail=match.view_name if match else "api")
    return False


class _Check(BasePermission):
    def check(self, user, request, view) -> bool:  # pragma: no cover (abstract)
        raise NotImplementedError

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return self.check(user, request, view) or _denied(request, view)


class HasAnyRole(_Check):
    """Reference data and the API itself: any user with at least one active membership."""

    message = _("Your account has no role in any institution.")

    def check(self, user, request, view) -> bool:
        return access.can_use_api(user)


class CanReadRecords(_Check):
    """Case records: officers and coordinators read (what access lets them see); analysts and admins do not."""

    message = _("Your role does not give access to case records.")

    def check(self, user, request, view) -> bool:
        return access.has_role(user, "officer", "coordinator")


class ApplicationPermission(CanReadRecords):
    """Reading as CanReadRecords; creating, editing and submitting are for officers (can_create_application);
    whether a given application may still be edited is checked on the object."""

    write_message = _("Your role may not create or change applications.")

    def check(self, user, request, view) -> bool:
        if not super().check(user, request, view):
            return False
        if request.method in SAFE_METHODS or access.can_create_application(user):
            return True
        self.message = self.write_message
        return False


class DecisionPermission(CanReadRecords):
    """Reading as CanReadRecords; recording a decision (and the ERI's review steps) is for coordinators."""

    write_message = _("Only ERI / CONATT coordinators record decisions.")

    def check(self, user, request, view) -> bool:
        if not super().check(user, request, view):
            return False
        if request.method in SAFE_METHODS or access.can_decide(user):
            return True
        self.message = self.write_message
        return False


class CanViewReports(_Check):
    message = _("Your account may not view reports.")

    def check(self, user, request, view) -> bool:
        return access.can_view_reports(user)


class CanImportRecords(_Check):
    message = _("Your role may not import records.")

    def check(self, user, request, view) -> bool:
        return access.can_import_records(user)
