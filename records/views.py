"""Pages of the case records. Thin: check the role (403), fetch the case through accounts.access (404 for
another institution's case), validate with a form, call one service, respond.

Order of checks on a case page: the role first (analysts, admins and users without a membership get 403
whatever the id, which reveals nothing), then visibility (another institution's case is 404 on every page), then
the page's own right (403, e.g. an officer on the decision page of their own case).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.models import AccessEvent, Institution, Role

from . import selectors, services
from .forms import (
    ApplicationForm,
    DecisionForm,
    InformationRequestForm,
    ShareForm,
    WithdrawForm,
)
from .models import Decision, Identity, Status

case_roles = access.require(access.reads_records)
PAGE_SIZE = 50
COUNT_CAP = 10_000
REFRESH = "_refresh"  # the no-JavaScript "update the choices" button of the place selects


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows: an exact COUNT(*) over a million visible applications costs a full scan
    on every page view, while "more than 10,000" is all a person needs before filtering."""

    @cached_property
    def count(self) -> int:
        # Without ordering and annotations (the duplicate flag): the count needs neither.
        queryset = cast(QuerySet, self.object_list)  # the views paginate querysets only
        return queryset.order_by().values("pk")[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


def _page(request, queryset):
    paginator = CappedPaginator(queryset, PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- Lists ---------------------------------------------------------------------------------------------------


@case_roles
@require_GET
def application_list(request):
    """Officers: their institution's applications and those shared with them. Coordinators: every submitted
    application."""
    filters = {
        "status": request.GET.get("status", ""),
        "year": _int(request.GET.get("year")),
        "reference": request.GET.get("reference", "")[:60],
        "sort": request.GET.get("sort", "-received"),
    }
    page = _page(request, selectors.application_list(user=request.user, **filters))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "records/application_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "years": range(timezone.localdate().year, 2014, -1),
            "query": query.urlencode(),
            "can_create": access.can_create_application(request.user),
            "count_cap": COUNT_CAP,
        },
    )


@access.require(access.can_decide)
@require_GET
def queue(request):
    """The ERI's queue: open applications with their deadline, due-soon and overdue flags, and possible
    duplicates (the same person referred by another institution)."""
    sort = request.GET.get("sort", "due")
    sort = sort if sort in selectors.QUEUE_SORTS else "due"
    state = request.GET.get("state", "")
    status = request.GET.get("status", "")
    page = _page(request, selectors.queue(user=request.user, sort=sort, state=state, status=status))
    rows = selectors.flag_possible_duplicates(page.object_list, user=request.user)
    page.object_list = selectors.with_deadline_state(rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "records/queue.html",
        {
            "page": page,
            "sort": sort,
            "state": state,
            "status": status,
            "statuses": [(s, Status(s).label) for s in selectors.OPEN_STATUSES],
            "query": query.urlencode(),
            "due_soon_days": selectors.settings.DEADLINE_DUE_SOON_BUSINESS_DAYS,
            "deadline_days": selectors.settings.DECISION_DEADLINE_BUSINESS_DAYS,
            "count_cap": COUNT_CAP,
        },
    )


# --- Create and edit -----------------------------------------------------------------------------------------


def _initial_from_post(post) -> dict:
    """A re-render after the no-JavaScript 'update choices' button: the posted values as initial data, so
    nothing is validated (and no error shown) until the officer saves."""
    initial = {}
    for name, field in ApplicationForm.base_fields.items():
        if hasattr(field, "widget") and getattr(field.widget, "allow_multiple_selected", False):
            initial[name] = post.getlist(name)
        elif name in post:
            initial[name] = post.get(name)
    return initial


def _registering_institution(request) -> Institution:
    """The institution the officer registers for (accounts.access.acting_institution). The empty form of an
    officer of several institutions opens on their first, with a chooser; a save must name one of theirs."""
    if request.method == "POST":
        return access.acting_institution(request.user, request.POST.get("institution"), by="pk")
    requested = request.GET.get("institution")
    if not requested:
        return access.institutions(request.user, Role.OFFICER)[0]
    return access.acting_institution(request.user, requested, by="pk")


@access.require(access.can_create_application)
@require_http_methods(["GET", "POST"])
def application_create(request):
    try:
        institution = _registering_institution(request)
    except access.InstitutionChoiceRefused as refused:
        context = {"message": refused.message, "institutions": access.institutions(request.user, Role.OFFICER)}
        return render(request, "records/institution_refused.html", context, status=400)
    kwargs: dict[str, Any] = {"institution": institution}
    if request.method == "POST" and REFRESH in request.POST:
        form = ApplicationForm(initial=_initial_from_post(request.POST), **kwargs)
    elif request.method == "POST":
        form = ApplicationForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                application = services.application_create(
                    user=request.user,
                    institution=institution,
                    values=form.application_values(),
                    identity=form.identity_values(),
                )
            except services.ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The application was saved as a draft. Submit it when it is complete."))
                return redirect("records:application_detail", pk=application.pk)
    else:
        form = ApplicationForm(initial={"received_on": timezone.localdate()}, **kwargs)
    return render(
        request,
        "records/application_form.html",
        {
            "form": form,
            "institution": institution,
            "institutions": access.institutions(request.user, Role.OFFICER),
            "creating": True,
        },
    )


@case_roles
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    """Officers of the owning institution edit a draft, or an application the ERI asked more about. The form
    shows identity data, so opening it is logged like any identity view."""
    application = access.get_application(request.user, pk)
    if not access.owns(request.user, application):
        raise PermissionDenied
    if not application.is_editable:
        messages.error(
            request,
            _("This application can no longer be edited: it is %(status)s.")
            % {"status": application.get_status_display()},
        )
        return redirect("records:application_detail", pk=application.pk)
    kwargs: dict[str, Any] = {"institution": application.institution, "application": application}
    if request.method == "POST" and REFRESH in request.POST:
        form = ApplicationForm(initial=_initial_from_post(request.POST), **kwargs)
    elif request.method == "POST":
        form = ApplicationForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.application_update(
                    user=request.user,
                    application=application,
                    version=form.cleaned_data.get("version") or 0,
                    values=form.application_values(),
                    identity=form.identity_values(),
                )
            except services.ConcurrentEdit as error:
                messages.error(request, error.message)
                application.refresh_from_db()
                form = ApplicationForm(**kwargs)  # the current data, with the current version
            except services.ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("records:application_detail", pk=application.pk)
    else:
        form = ApplicationForm(**kwargs)
        access.log_access(request, AccessEvent.Action.IDENTITY_VIEW, obj=application, detail="edit")
    last_request = (
        application.events.filter(to_status=Status.INFO_REQUESTED).order_by("-at", "-id").first()
        if application.status == Status.INFO_REQUESTED
        else None
    )
    return render(
        request,
        "records/application_form.html",
        {"form": form, "application": application, "last_request": last_request},
    )


# --- Case pages ----------------------------------------------------------------------------------------------


@case_roles
@require_GET
def application_detail(request, pk):
    """Facts and profile of a case (no identity data: that is one click further, and logged)."""
    application = access.get_application(
        request.user,
        pk,
        select_related=(
            "institution",
            "person",
            "sex",
            "gender_identity",
            "migration_status",
            "education_level",
            "occupation",
            "relationship_to_trafficker",
            "recruitment_district",
            "recruitment_canton",
            "recruitment_province",
            "residence_district",
            "residence_canton",
            "residence_province",
            "mother_tongue",
        ),
    )
    user = request.user
    selectors.with_deadline_state([application])
    decisions = list(application.decisions.select_related("supersedes").order_by("recorded_at", "id"))
    last_request = (
        application.events.filter(to_status=Status.INFO_REQUESTED).order_by("-at", "-id").first()
        if application.status == Status.INFO_REQUESTED
        else None
    )
    context = {
        "application": application,
        "decisions": decisions,
        "in_force": services.current_decision(application) if application.is_decided else None,
        "nationalities": application.nationalities.all(),
        "exploitation_countries": application.exploitation_countries.all(),
        "last_request": last_request,
        "duplicates": selectors.possible_duplicates(user=user, application=application),
        "owns": access.owns(user, application),
        "can_edit": access.can_edit_application(user, application),
        "can_decide": access.can_decide(user),
        "can_see_identity": access.can_see_identity(user, application),
        "can_see_history": access.can_see_history(user, application),
        "identity_views": selectors.identity_views(user=user, application=application),
        "Status": Status,
    }
    return render(request, "records/application_detail.html", context)


@case_roles
@require_GET
def application_identity(request, pk):
    """Identity data of the person. Every view is logged with ids only (who, when, which case)."""
    application = access.get_application(request.user, pk)
    if not access.can_see_identity(request.user, application):
        raise PermissionDenied
    identity = Identity.objects.filter(person_id=application.person_id).first()
    access.log_access(request, AccessEvent.Action.IDENTITY_VIEW, obj=application)
    return render(request, "records/application_identity.html", {"application": application, "identity": identity})


@case_roles
@require_GET
def application_history(request, pk):
    """Every change with who and when: data (simple-history), workflow steps and resolutions. Coordinators and
    the owning institution."""
    application = access.get_application(request.user, pk)
    if not access.can_see_history(request.user, application):
        raise PermissionDenied
    return render(
        request,
        "records/application_history.html",
        {"application": application, "entries": selectors.application_history(application=application)},
    )


def _transition(request, application, call, success: str):
    try:
        call()
    except services.ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("records:application_detail", pk=application.pk)


@case_roles
@require_http_methods(["GET", "POST"])
def application_submit(request, pk):
    application = access.get_application(request.user, pk)
    if not access.owns(request.user, application):
        raise PermissionDenied
    if request.method == "POST":
        return _transition(
            request,
            application,
            lambda: services.application_submit(user=request.user, application=application),
            _("The application was submitted to the ERI."),
        )
    return render(request, "records/application_confirm.html", {"application": application, "action": "submit"})


@case_roles
@require_http_methods(["GET", "POST"])
def application_withdraw(request, pk):
    application = access.get_application(request.user, pk)
    if not access.owns(request.user, application):
        raise PermissionDenied
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _transition(
            request,
            application,
            lambda: services.application_withdraw(
                user=request.user, application=application, reason=form.cleaned_data["reason"]
            ),
            _("The application was withdrawn."),
        )
    return render(
        request, "records/application_confirm.html", {"application": application, "action": "withdraw", "form": form}
    )


@case_roles
@require_POST
def application_start_review(request, pk):
    application = access.get_application(request.user, pk)
    if not access.can_decide(request.user):
        raise PermissionDenied
    return _transition(
        request,
        application,
        lambda: services.application_start_review(user=request.user, application=application),
        _("The application is now under ERI review."),
    )


@case_roles
@require_http_methods(["GET", "POST"])
def information_request(request, pk):
    application = access.get_application(request.user, pk)
    if not access.can_decide(request.user):
        raise PermissionDenied
    form = InformationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.information_request(
                user=request.user, application=application, message=form.cleaned_data["message"]
            )
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The institution was asked for more information."))
            return redirect("records:application_detail", pk=application.pk)
    return render(request, "records/information_request.html", {"application": application, "form": form})


@case_roles
@require_http_methods(["GET", "POST"])
def decision_record(request, pk):
    """The ERI's resolution; on a decided application, a new resolution (appeal or correction) that
    supersedes the one in force."""
    application = access.get_application(request.user, pk)
    if not access.can_decide(request.user):
        raise PermissionDenied
    correction = application.is_decided
    form = DecisionForm(request.POST or None, application=application, correction=correction)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if correction:
                services.decision_correct(user=request.user, application=application, **data)
            else:
                services.decision_record(user=request.user, application=application, **data)
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The resolution was recorded."))
            return redirect("records:application_detail", pk=application.pk)
    return render(
        request,
        "records/decision_form.html",
        {
            "application": application,
            "form": form,
            "correction": correction,
            "in_force": services.current_decision(application) if correction else None,
            "Outcome": Decision.Outcome,
        },
    )


# --- Sharing (admins) ----------------------------------------------------------------------------------------


@access.require(access.can_manage_sharing)
@require_http_methods(["GET", "POST"])
def application_sharing(request, pk):
    """Admins see, grant and revoke which institutions may see a case. The page names the case by its
    institution and reference only: no identity data, no facts."""
    application = access.get_application_for_sharing(request.user, pk)
    form = ShareForm(application=application)
    if request.method == "POST":
        ip = access.client_ip(request)
        action = request.POST.get("action")
        try:
            if action == "grant":
                form = ShareForm(request.POST, application=application)
                if form.is_valid():
                    services.application_share(
                        user=request.user, application=application, institution=form.cleaned_data["institution"], ip=ip
                    )
                    messages.success(request, _("Access granted."))
                    return redirect("records:application_sharing", pk=application.pk)
            elif action == "revoke":
                institution = get_object_or_404(Institution, pk=_int(request.POST.get("institution")))
                services.application_unshare(user=request.user, application=application, institution=institution, ip=ip)
                messages.success(request, _("Access revoked."))
                return redirect("records:application_sharing", pk=application.pk)
            else:
                return HttpResponseNotAllowed(["GET", "POST"])
        except services.ServiceError as error:
            messages.error(request, error.message)
            return redirect("records:application_sharing", pk=application.pk)
    return render(
        request,
        "records/application_sharing.html",
        {
            "application": application,
            "shared_with": selectors.shared_with(application=application),
            "shareable": selectors.application_shareable(application=application),
            "form": form,
        },
    )
