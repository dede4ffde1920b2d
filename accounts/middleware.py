from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import access

# Paths a user who still owes a second factor may reach: the two-factor pages themselves, logout, the language
# switch, static files and the public statistics (open without login, the same for everyone).
_OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/", "/healthz", "/estadisticas/")


class RequireTwoFactorMiddleware:
    """Users holding a role of ``TWO_FACTOR_REQUIRED_ROLES`` (by default every role that can see identity data,
    officers and coordinators, and admins) must confirm a TOTP code before any other page: first they enrol a
    device (QR code), then every login asks for a code. API tokens are made from such a verified session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.TWO_FACTOR_REQUIRED
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
            and access.has_role(user, *settings.TWO_FACTOR_REQUIRED_ROLES)
        ):
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            target = "accounts:two_factor_verify" if has_device else "accounts:two_factor_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class CaseNotFoundAuditMiddleware:
    """A logged-in user's request for a case id that answers 404 (another institution's case, or no such case:
    the user cannot tell them apart, the audit need not) is logged as failed access, rate-limited per user
    (``access.log_case_not_found``). Placed after authentication, so API token users are known too (DRF sets the
    user on the underlying request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code == 404 and match is not None and "pk" in match.kwargs:
            object_type = access.case_object_type(match.view_name)
            user = getattr(request, "user", None)
            if object_type and user is not None and user.is_authenticated:
                access.log_case_not_found(request, object_type=object_type, object_id=str(match.kwargs["pk"]))
        return response


class NoStoreMiddleware:
    """Pages shown to a logged-in user may hold identity data: browsers and proxies must not keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class RejectNulBytesMiddleware:
    """NUL bytes are never legitimate in a form field, a query string or a JSON body, and PostgreSQL refuses them
    in text (a lookup with one would answer 500 from any model choice field). Refuse such requests with 400 before
    any view runs. Uploaded files are not inspected (an XLSX file is binary)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            message = _("The request contains a character that is not allowed (NUL).")
            if request.path.startswith("/api/"):
                # API clients get the API's error shape, as documented in its schema.
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        # Names too: a page that shows its query back (the report pages keep unknown parameters in their forms)
        # would otherwise carry a raw NUL into its HTML, and an admin list turns names into lookups.
        if "\x00" in request.get_full_path() or _any_nul(request.GET):
            return True
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            content_type = request.content_type or ""
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                return _any_nul(request.POST)
            if content_type.endswith("json"):
                return b"\\u0000" in request.body or b"\x00" in request.body
        return False


def _any_nul(query) -> bool:
    """A NUL byte in any name or value of a QueryDict."""
    return any("\x00" in name or any("\x00" in v for v in values) for name, values in query.lists())
