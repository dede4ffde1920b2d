"""DRF permission classes that ask accounts.access, so the API applies exactly the rules of the pages.

Every class answers 401 to a request without valid credentials (DRF does this before has_permission is
asked for an anonymous user only if the class refuses; the classes below refuse anonymous users first) and
403 to an authenticated user whose roles lack the right. Object visibility (another institution's case ->
404) is not a permission here: views fetch objects through access.get_application / the visible querysets.

The order is the pages' order: first the right to read records at all (403 for analysts, admins and users
without a membership, whatever the id), then the object (404 if the user cannot see it, whether it exists or
not), then the right to change it or act on it (403). So an officer calling a coordinator's action on another
institution's case gets 404, like for an id that does not exist, and learns nothing about the case.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import access
from accounts.models import AccessEvent


def _denied(request, view) -> bool:
    """Log a refusal (ids only) and refuse."""
    match = getattr(request._request, "resolver_match", None)
    access.log_access(request, AccessEvent.Action.ACCESS_DENIED, detail=match.view_name if match else "api")
    return False


class _Check(BasePermission):
    # Set by check() when the role may read records but lacks the right to change this one or act on it.
    lacks_an_object_right = False

    def check(self, user, request, view) -> bool:  # pragma: no cover (abstract)
        raise NotImplementedError

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if self.check(user, request, view):
            return True
        if self.lacks_an_object_right:
            _hide_invisible_object(view)
        return _denied(request, view)


def _hide_invisible_object(view) -> None:
    """On a detail URL, 404 if the object is not visible to the user (through the view's queryset, which asks
    accounts.access), whether it exists or not; the caller then refuses the missing right with 403."""
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    value = getattr(view, "kwargs", {}).get(lookup)
    if value is None:
        return
    try:
        visible = view.get_queryset().filter(pk=value).exists()
    except (ValueError, TypeError, ValidationError):
        visible = False
    if not visible:
        raise NotFound


class HasAnyRole(_Check):
    """Reference data and the API itself: any user with at least one active membership."""

    message = _("Your account has no role in any institution.")

    def check(self, user, request, view) -> bool:
        return access.can_use_api(user)


class CanReadRecords(_Check):
    """Case records: officers and coordinators read (what access lets them see); analysts and admins do not."""

    message = _("Your role does not give access to case records.")

    def check(self, user, request, view) -> bool:
        return access.reads_records(user)


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
        self.lacks_an_object_right = True
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
        self.lacks_an_object_right = True
        return False


class CanViewReports(_Check):
    message = _("Your account may not view reports.")

    def check(self, user, request, view) -> bool:
        return access.can_view_reports(user)


class CanViewEstimates(_Check):
    """Estimates of unidentified victims: coordinators and analysts (never capture-history cells)."""

    message = _("Your role may not view estimates of unidentified victims.")

    def check(self, user, request, view) -> bool:
        return access.can_view_estimates(user)


class CanImportRecords(_Check):
    message = _("Your role may not import records.")

    def check(self, user, request, view) -> bool:
        return access.can_import_records(user)
