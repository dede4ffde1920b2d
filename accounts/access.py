"""The one place that decides what a user may see and do.

Every view, export, API endpoint and task asks this module; none filters records on its own. Each helper fails
closed: an anonymous user, a user without an active membership or an unknown role gets an empty queryset or a
refusal, never everything. Another institution's case answers 404 (its existence is not revealed); a role
that lacks a right answers 403.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from records.scopes import case_data_scope

from .models import AccessEvent, Institution, Membership, Role, User

if TYPE_CHECKING:
    from records.models import Application

VIEW_APPLICATION = "view_application"


def memberships(user) -> list[Membership]:
    """The user's memberships in effect (active and confirmed), read once per request object. A membership still
    waiting for a second admin's confirmation grants nothing, whatever its role."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_conatt_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(
                user=user, active=True, institution__active=True, confirmed_at__isnull=False
            ).select_related("institution")
        )
        user._conatt_memberships = cached
    return cached


def roles(user) -> frozenset[str]:
    return frozenset(m.role for m in memberships(user))


def has_role(user, *wanted: str) -> bool:
    return bool(roles(user) & set(wanted))


def institution_ids(user, role: str) -> set[int]:
    """Ids of the institutions in which the user holds ``role``."""
    return {m.institution_id for m in memberships(user) if m.role == role}


def institutions(user, role: str) -> list:
    return [m.institution for m in memberships(user) if m.role == role]


class InstitutionChoiceRefused(Exception):
    """The institution a user says they act for is not one of theirs, or they serve several and named none: the
    request is refused (400) with ``message``, a translated sentence, instead of acting for a guessed one."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def acting_institution(user, requested=None, *, by: str = "code", role: str = Role.OFFICER):
    """The institution the user acts for in ``role`` (an officer registering or importing applications): their
    only one, or, for a member of several, the one ``requested`` names (its ``code`` or its ``pk``) among THEIR
    institutions. Fails closed: a name that is not one of theirs, or no name when they serve several, raises
    ``InstitutionChoiceRefused``; a user without the role gets ``PermissionDenied``."""
    mine = institutions(user, role)
    if not mine:
        raise PermissionDenied
    if requested not in (None, ""):
        for institution in mine:
            if str(getattr(institution, by)) == str(requested):
                return institution
        raise InstitutionChoiceRefused(_("You are not an officer of this institution."))
    if len(mine) > 1:
        raise InstitutionChoiceRefused(
            _("You are an officer of several institutions: say which one with 'institution' (%(codes)s).")
            % {"codes": ", ".join(i.code for i in mine)}
        )
    return mine[0]


def home_role(user) -> str | None:
    """The role whose home page the user lands on: the most specific work first."""
    for role in (Role.COORDINATOR, Role.OFFICER, Role.ANALYST, Role.ADMIN):
        if has_role(user, role):
            return role
    return None


# --- Records -------------------------------------------------------------------------------------------------


def applications_visible_to(user) -> QuerySet[Application]:
    """Applications the user may open: officers see their institutions' applications and those shared with
    their institution or with them once submitted; coordinators see every application that has been submitted
    (never another institution's draft); analysts and admins see none by virtue of their role."""
    Application = apps.get_model("records", "Application")
    visible = Q(pk__in=[])  # fail closed: no role, no rows
    officer_of = institution_ids(user, Role.OFFICER)
    if officer_of:
        GroupPermission = apps.get_model("records", "ApplicationGroupObjectPermission")
        UserPermission = apps.get_model("records", "ApplicationUserObjectPermission")
        shared_with_institution = GroupPermission.objects.filter(
            group__institution__in=officer_of, permission__codename=VIEW_APPLICATION
        ).values("content_object_id")
        shared_with_user = UserPermission.objects.filter(user=user, permission__codename=VIEW_APPLICATION).values(
            "content_object_id"
        )
        shared = Q(pk__in=shared_with_institution) | Q(pk__in=shared_with_user)
        # A draft is its owners' alone until submitted, as for coordinators: a grant on one (refused by
        # records.services.application_share, but older grants may exist) shows nothing while it is a draft.
        shared &= ~Q(status="DRAFT")
        visible |= Q(institution_id__in=officer_of) | shared
    if has_role(user, Role.COORDINATOR):
        visible |= ~Q(status="DRAFT")
    # The one place that opens the scope of Application.objects (records/scopes.py): the queryset leaves this
    # function already filtered, and may be chained and evaluated after the scope has closed.
    with case_data_scope():
        return Application.objects.filter(visible)


def no_applications() -> QuerySet[Application]:
    """An empty queryset of applications, e.g. the placeholder of a serializer field that a view fills in with
    ``applications_visible_to``: until it does, nothing is selectable."""
    with case_data_scope():
        return apps.get_model("records", "Application").objects.none()


def get_application(user, pk, *, select_related: tuple[str, ...] = ()) -> Application:
    """The application ``pk`` if the user may see it; otherwise 404, whether it exists or not. ``select_related``
    loads what the page shows in the same query (no second fetch after the check)."""
    try:
        return applications_visible_to(user).select_related(*select_related).get(pk=pk)
    except (ValueError, TypeError, apps.get_model("records", "Application").DoesNotExist):
        raise Http404 from None


def owns(user, application: Application) -> bool:
    """Whether the user is an officer of the institution that submitted the application."""
    return application.institution_id in institution_ids(user, Role.OFFICER)


def can_edit_application(user, application: Application) -> bool:
    """Officers of the owning institution edit until the ERI decides; coordinators comment and decide."""
    return owns(user, application) and application.is_editable


def can_create_application(user) -> bool:
    return has_role(user, Role.OFFICER)


def can_decide(user) -> bool:
    return has_role(user, Role.COORDINATOR)


def reads_records(user) -> bool:
    """Officers and coordinators read case records (pages, API, exports); analysts and admins read none by virtue
    of their role. The check every records page and endpoint makes before its case-by-case visibility."""
    return has_role(user, Role.OFFICER, Role.COORDINATOR)


def can_see_identity(user, application: Application) -> bool:
    """Identity data: the owning institution, institutions granted the case, and coordinators. The caller has
    already obtained ``application`` through ``get_application``, so visibility holds; this adds the role check
    that keeps analysts and admins out even if a grant were made to them."""
    return reads_records(user) and applications_visible_to(user).filter(pk=application.pk).exists()


def can_see_identity_views(user, application: Application) -> bool:
    """Who viewed a person's identity, and when: the owning institution's officers and the coordinators (those
    answerable for the case), on the case page."""
    return has_role(user, Role.COORDINATOR) or owns(user, application)


def can_see_history(user, application: Application) -> bool:
    return has_role(user, Role.COORDINATOR) or owns(user, application)


def can_manage_sharing(user) -> bool:
    """Admins see, grant and revoke who can see a case (without seeing its identity data)."""
    return has_role(user, Role.ADMIN)


def can_import_records(user) -> bool:
    return has_role(user, Role.OFFICER)


def can_export_records(user) -> bool:
    return reads_records(user)


# --- Aggregates ----------------------------------------------------------------------------------------------


def can_view_reports(user) -> bool:
    """Suppressed aggregates are for every role; a user without a membership sees nothing."""
    return bool(roles(user))


def sees_exact_counts(user) -> bool:
    """Coordinators may see counts below the disclosure threshold; everyone else sees them suppressed."""
    return has_role(user, Role.COORDINATOR)


def can_administer(user) -> bool:
    return has_role(user, Role.ADMIN)


# --- Administration of accounts ------------------------------------------------------------------------------
# An admin of a coordination body (ERI, CONATT) administers every institution's users; an admin of a reporting
# institution (such as DGME) only the users of that institution.


def is_system_admin(user) -> bool:
    return any(m.role == Role.ADMIN and m.institution.kind == Institution.Kind.COORDINATION for m in memberships(user))


def institutions_administered_by(user) -> QuerySet[Institution]:
    """Institutions in which ``user`` may grant, confirm and withdraw roles."""
    if not can_administer(user):
        return Institution.objects.none()
    if is_system_admin(user):
        return Institution.objects.all()
    return Institution.objects.filter(pk__in=institution_ids(user, Role.ADMIN))


def memberships_administered_by(user) -> QuerySet[Membership]:
    """Memberships (in any state) that ``user`` may see and manage."""
    if not can_administer(user):
        return Membership.objects.none()
    if is_system_admin(user):
        return Membership.objects.all()
    return Membership.objects.filter(institution_id__in=institution_ids(user, Role.ADMIN))


def users_administered_by(user) -> QuerySet[User]:
    """Accounts ``user`` may see and change: every account for a system admin; for an institutional admin, the
    accounts whose every membership is in their institutions (a DGME admin does not touch the account of
    someone who is also an ERI coordinator). An account without any membership is a system admin's."""
    if not can_administer(user):
        return User.objects.none()
    if is_system_admin(user):
        return User.objects.all()
    own = institution_ids(user, Role.ADMIN)
    elsewhere = Membership.objects.exclude(institution_id__in=own).values("user_id")
    return User.objects.filter(memberships__institution_id__in=own).exclude(pk__in=elsewhere).distinct()


def can_manage_user(by, user) -> bool:
    return users_administered_by(by).filter(pk=user.pk).exists()


def can_manage_institution(by, institution) -> bool:
    return institutions_administered_by(by).filter(pk=institution.pk).exists()


# --- View helpers --------------------------------------------------------------------------------------------


def require(check: Callable[[object], bool]) -> Callable:
    """Decorate a view: anonymous users go to the login page, users who fail ``check`` get 403 (logged)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                log_access(request, AccessEvent.Action.ACCESS_DENIED, detail=request.resolver_match.view_name)
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_role(*wanted: str) -> Callable:
    return require(lambda user: has_role(user, *wanted))


def client_ip(request) -> str | None:
    """The client's address, the one reading of it for the login lockout (``AXES_CLIENT_IP_CALLABLE``), the audit
    and the API's anonymous throttle.

    With ``PROXY_COUNT`` = 0 (the default) it is the connection's address, ``REMOTE_ADDR``: any
    ``X-Forwarded-For`` is the client's own claim and is ignored, so rotating it changes nothing. Behind N
    reverse proxies (``PROXY_COUNT`` = N), each of which appends the address it received the request from to
    ``X-Forwarded-For``, the last N addresses of the chain (``X-Forwarded-For`` entries, then ``REMOTE_ADDR``) are
    our proxies and the one before them is the client: counted from the right, because everything left of it
    is what the client sent and may be forged. A chain shorter than that (a request that did not come through
    every proxy) gives its first address, which one of our proxies wrote. An entry that is not an address
    falls back to ``REMOTE_ADDR``."""
    remote = _address(request.META.get("REMOTE_ADDR"))
    proxies = settings.PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in forwarded if part] + ([remote] if remote else [])
    if not chain:
        return None
    return _address(chain[max(0, len(chain) - 1 - proxies)]) or remote


def _address(value: str | None) -> str | None:
    """``value`` as a normalised IP address, or None if it is not one (it goes into GenericIPAddressField
    columns, where PostgreSQL refuses anything else)."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def log_access(request, action: str, *, obj=None, object_type: str = "", object_id: str = "", detail: str = "") -> None:
    """Record who did what to which object. Only ids and action names: never the data that was seen."""
    user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, str(obj.pk)
    AccessEvent.objects.create(
        user=user,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail[:200],
        ip_address=client_ip(request),
    )


# Object type of the audit row for a 404 on each family of case URLs (records:*, api-*).
_CASE_URL_OBJECTS = (
    ("records:import_", "records.importjob"),
    ("records:", "records.application"),
    ("api-application-", "records.application"),
    ("api-person-", "records.person"),
    ("api-decision-", "records.decision"),
    ("api-import-", "records.importjob"),
)


def case_object_type(view_name: str) -> str | None:
    """The kind of case object a URL of ``view_name`` names by its id, or None for other URLs."""
    return next((label for prefix, label in _CASE_URL_OBJECTS if view_name.startswith(prefix)), None)


def log_case_not_found(request, *, object_type: str, object_id: str) -> bool:
    """Record a request for a case outside the user's access (answered 404, like a missing id) as failed access:
    at most ``CASE_NOT_FOUND_LOG_LIMIT`` rows per user per ``CASE_NOT_FOUND_LOG_WINDOW_SECONDS``, then one row
    saying that further ones were not logged, so a scan of ids cannot flood the audit. The counter lives in the
    cache (Redis in production, so it holds across processes). Returns whether a row was written."""
    from django.conf import settings
    from django.core.cache import cache

    window = settings.CASE_NOT_FOUND_LOG_WINDOW_SECONDS
    limit = settings.CASE_NOT_FOUND_LOG_LIMIT
    key = f"conatt:case-not-found:{request.user.pk}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        seen = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        seen = 1
    if seen > limit + 1:
        return False
    detail = request.resolver_match.view_name if seen <= limit else f"rate_limited after {limit} in {window}s"
    log_access(
        request, AccessEvent.Action.CASE_NOT_FOUND, object_type=object_type, object_id=object_id[:50], detail=detail
    )
    return True


def get_application_for_sharing(user, pk) -> Application:
    """The application ``pk`` for an admin managing who may see it (404 if it does not exist, 403 for anyone
    else). The caller shows only who holds access, never the case's data: admins read no case by being admin."""
    if not can_manage_sharing(user):
        raise PermissionDenied
    Application = apps.get_model("records", "Application")
    try:
        with case_data_scope():  # any application: the admin's right is checked above, and no data is shown
            found = Application.objects.select_related("institution")
        return found.only("pk", "institution", "case_reference", "status", "received_on").get(pk=pk)
    except (ValueError, TypeError, Application.DoesNotExist):
        raise Http404 from None


# --- API -----------------------------------------------------------------------------------------------------


def can_use_api(user) -> bool:
    """Personal API tokens are for users with at least one role; what a token may then read or write is decided
    by the same rules as the pages, at each request, from the owner's memberships."""
    return bool(roles(user))


# --- Bulk import and export (records.imports) ----------------------------------------------------------------


def import_institutions(user) -> list:
    """Institutions a user may import applications into: those where they are an officer, never another one
    named in a file."""
    return institutions(user, Role.OFFICER) if can_import_records(user) else []


def import_jobs_visible_to(user):
    """A user's own import jobs in their officer institutions (an uploaded file holds identity data, so not even a
    colleague's jobs are shown)."""
    ImportJob = apps.get_model("records", "ImportJob")
    officer_of = institution_ids(user, Role.OFFICER)
    if not officer_of:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(user=user, institution_id__in=officer_of)


def applications_with_identity_visible_to(user) -> QuerySet[Application]:
    """The set form of ``can_see_identity`` for exports: the applications whose identity data the user may see
    (visible to them, and they hold a role entitled to identity data)."""
    if not reads_records(user):
        return no_applications()
    return applications_visible_to(user)


# --- Estimation of unidentified victims (estimation) ----------------------------------------------------------


def can_view_estimates(user) -> bool:
    """Estimates of the hidden number and their intervals: coordinators and analysts (officers work on cases,
    admins on the system: neither needs them)."""
    return has_role(user, Role.COORDINATOR, Role.ANALYST)


def can_run_estimation(user) -> bool:
    """Requesting a run (choosing the period and how lists are merged) is the coordinators' decision."""
    return has_role(user, Role.COORDINATOR)


def can_see_capture_histories(user) -> bool:
    """Capture-history cells are exact counts of people by the combination of institutions that referred them,
    most of them small: coordinators only, never analysts, the API or analysts' exports."""
    return has_role(user, Role.COORDINATOR)


def applications_counted_in_estimates() -> QuerySet[Application]:
    """The applications the estimation counts: every submitted one, of every institution (a draft is no one's
    statistic yet). Only for the estimation's selectors, which fold them into counts of persons by capture
    history on the server; no row of it reaches anyone. It takes no user because a run's inputs are the same
    whoever reads them (runs are shared by their inputs' digest); who may read the counts is decided above
    (``can_view_estimates``, ``can_see_capture_histories``)."""
    with case_data_scope():
        return apps.get_model("records", "Application").objects.exclude(status="DRAFT")


def estimation_runs_visible_to(user):
    """Runs a user may open: coordinators every run; analysts the finished ones (estimate or refusal); anyone
    else none."""
    EstimationRun = apps.get_model("estimation", "EstimationRun")
    if can_run_estimation(user):
        return EstimationRun.objects.all()
    if can_view_estimates(user):
        return EstimationRun.objects.filter(status__in=["success", "refused"])
    return EstimationRun.objects.none()


def get_estimation_run(user, pk):
    """The run ``pk`` if the user may see it; otherwise 404, whether it exists or not."""
    try:
        return estimation_runs_visible_to(user).get(pk=pk)
    except (ValueError, TypeError, apps.get_model("estimation", "EstimationRun").DoesNotExist):
        raise Http404 from None
