"""Every write to case records. Views validate input with a form, call one function here, and respond.

Each function is one transaction (nothing is half-written), checks the caller's right again (a view that forgot
to check fails closed here), and records who did what: simple-history rows for data changes, ApplicationEvent rows
for workflow steps, Decision rows for resolutions, AccessEvent rows for sharing.

A refused step raises ``TransitionRefused`` (or ``ConcurrentEdit``) whose message says why, in the user's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts import access
from accounts.models import AccessEvent, Institution, Role

from . import deadlines, facts, keys, selectors, validation

# The ERI's resolutions (decisions.py) and the refusals and steps every write shares (writes.py) are
# re-exported: records.services stays the one entry point of writes to case records.
from .decisions import current_decision, decision_correct, decision_record, vote_problem
from .models import (
    CLOSED_STATUSES,
    Application,
    ApplicationExploitationCountry,
    ApplicationNationality,
    Identity,
    Person,
    Status,
)
from .writes import (
    ConcurrentEdit,
    ServiceError,
    TransitionRefused,
    _event,
    _indicators_stale,
    _locked,
    _refuse,
    _require_coordinator,
    _require_owner,
)

__all__ = [
    "ConcurrentEdit",
    "IDENTITY_FIELDS",
    "InvalidValues",
    "M2M_FIELDS",
    "SCALAR_FIELDS",
    "ServiceError",
    "TransitionRefused",
    "VIEW_PERMISSION",
    "age_on",
    "application_create",
    "application_share",
    "application_start_review",
    "application_submit",
    "application_unshare",
    "application_update",
    "application_withdraw",
    "case_reference_taken",
    "current_decision",
    "decision_correct",
    "decision_record",
    "information_request",
    "person_key_compute",
    "vote_problem",
]

VIEW_PERMISSION = "records.view_application"

# The application's facts are declared once, in records.facts (re-exported here for the callers of the services).
SCALAR_FIELDS = facts.SCALAR_FIELDS
M2M_FIELDS = facts.M2M_FIELDS
IDENTITY_FIELDS = facts.IDENTITY_FIELDS


class InvalidValues(ServiceError):
    """Values that ``records.validation.application_values_check`` refuses; ``errors`` holds every problem by
    field. The form and the import check first, so a caller that skipped them is refused here."""

    def __init__(self, errors: dict[str, list[validation.Problem]]):
        first = next(iter(errors.values()))[0]
        super().__init__(first.message, code="invalid_values")
        self.errors = errors


def _check_values(values: dict[str, Any], identity: dict[str, Any]) -> validation.Geography | None:
    """Refuse what the one validator refuses; return the geography it read (None when no place was given)."""
    combined = {**values, **identity}
    geography = validation.Geography.load() if any(combined.get(n) for n in facts.PLACE_FIELDS) else None
    errors = validation.application_values_check(combined, geography=geography)
    if errors:
        raise InvalidValues(errors)
    return geography


# --- Helpers -------------------------------------------------------------------------------------------------


def person_key_compute(*, document_type: str, document_number: str) -> str:
    """The pseudonymous key of a person: HMAC-SHA256 of the normalised document type and number under
    ``settings.PERSON_KEY_SECRET``; empty without a document, so undocumented people are never matched."""
    return keys.person_key(document_type, document_number)


age_on = validation.age_on


def _apply_profile(application: Application, values: dict[str, Any], birth_date: dt.date | None, geography) -> None:
    for name in SCALAR_FIELDS:
        if name in values:
            setattr(application, name, values[name])
    # Each place is kept at the level given, with the coarser levels of the finest one (always consistent).
    empty = validation.Geography(canton_of_district={}, province_of_canton={})
    for name, code in validation.place_levels(values, geography=geography or empty).items():
        setattr(application, f"{name}_id", code)
    application.recruitment_country = values.get("recruitment_country") or ""
    application.narrative = values.get("narrative") or ""
    # Age at application comes from the birth date when it is known; a recorded age otherwise.
    application.birth_date_known = birth_date is not None
    if birth_date is not None and application.received_on:
        application.age_at_application = age_on(birth_date, application.received_on)


def _set_relations(application: Application, values: dict[str, Any]) -> None:
    for name in M2M_FIELDS:
        if name in values:
            getattr(application, name).set(values[name] or [])
    if "nationalities" in values:
        _set_countries(application, ApplicationNationality, values["nationalities"])
    if "exploitation_countries" in values:
        _set_countries(application, ApplicationExploitationCountry, values["exploitation_countries"])


def _set_countries(application: Application, model, countries: Iterable) -> None:
    wanted = {str(c) for c in countries or []}
    model.objects.filter(application=application).exclude(country__in=wanted).delete()
    have = set(model.objects.filter(application=application).values_list("country", flat=True))
    model.objects.bulk_create([model(application=application, country=c) for c in sorted(wanted - have)])


def case_reference_taken(*, institution_id: int, case_reference: str, exclude_pk: int | None = None) -> bool:
    """Whether the institution already has another application with this case reference (one per institution,
    whoever entered it). Asked by the services before a write and by the form, next to the field."""
    qs = Application.all_objects.filter(institution_id=institution_id, case_reference=case_reference)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


# --- Applications --------------------------------------------------------------------------------------------


@transaction.atomic
def application_create(
    *, user, institution: Institution, values: dict[str, Any], identity: dict[str, Any]
) -> Application:
    """Register a person and a draft application for ``institution``. Only an officer of that institution may;
    the person gets a pseudonymous key from the identity document, so a person referred by another institution
    too is flagged to coordinators as a possible duplicate."""
    if institution.pk not in access.institution_ids(user, Role.OFFICER):
        raise PermissionDenied
    geography = _check_values(values, identity)
    if case_reference_taken(institution_id=institution.pk, case_reference=values["case_reference"]):
        _refuse(_("Your institution already has an application with this case reference."), "duplicate_reference")
    person = Person(
        institution=institution,
        person_key=person_key_compute(
            document_type=identity.get("document_type") or "", document_number=identity.get("document_number") or ""
        ),
    )
    person._history_user = user
    person.save()
    identity_row = Identity(person=person, **{k: identity.get(k) or _blank(k) for k in IDENTITY_FIELDS})
    identity_row._history_user = user
    identity_row.save()
    application = Application(institution=institution, person=person, created_by=user, status=Status.DRAFT)
    _apply_profile(application, values, identity.get("birth_date"), geography)
    application._history_user = user
    application.save()
    _set_relations(application, values)
    _event(application, user=user, from_status="", to_status=Status.DRAFT)
    return application


def _blank(field: str):
    return None if field == "birth_date" else ""


@transaction.atomic
def application_update(
    *, user, application: Application, version: int, values: dict[str, Any], identity: dict[str, Any]
) -> Application:
    """Save an officer's edit of a draft or of an application the ERI asked more information about. ``version``
    is the version the officer's form was built from: if somebody saved in between, the save is refused and
    the other person's data stay as they were (optimistic locking, one conditional UPDATE)."""
    _require_owner(user, application)
    geography = _check_values(values, identity)
    current = _locked(application)
    if not current.is_editable:
        _refuse(
            _("This application can no longer be edited: it is %(status)s.") % {"status": current.get_status_display()},
            "not_editable",
        )
    bumped = Application.all_objects.filter(pk=current.pk, version=version).update(version=F("version") + 1)
    if not bumped:
        raise ConcurrentEdit(
            _(
                "Somebody else saved this application while you were editing it. Your changes were not saved; "
                "the page now shows the current data. Enter your changes again."
            ),
            code="stale_version",
        )
    if values.get("case_reference") and case_reference_taken(
        institution_id=current.institution_id, case_reference=values["case_reference"], exclude_pk=current.pk
    ):
        _refuse(_("Your institution already has an application with this case reference."), "duplicate_reference")
    current.refresh_from_db(fields=["version"])
    _apply_profile(current, values, identity.get("birth_date"), geography)
    current._history_user = user
    current.save()
    _set_relations(current, values)

    person = current.person
    row = Identity.objects.filter(person=person).first() or Identity(person=person)
    for name in IDENTITY_FIELDS:
        setattr(row, name, identity.get(name) or _blank(name))
    row._history_user = user
    row.save()
    new_key = person_key_compute(document_type=row.document_type, document_number=row.document_number)
    if new_key != person.person_key:
        person.person_key = new_key
        person._history_user = user
        person.save()
    # A new person key can change the distinct-person counts of every application of this person.
    _indicators_stale(application_ids=Application.all_objects.filter(person=person).values_list("pk", flat=True))
    return current


def _missing_for_submission(application: Application) -> list[str]:
    missing = []
    if not application.exploitation_forms.exists():
        missing.append(_("at least one form of exploitation"))
    if application.sex_id is None:
        missing.append(_("sex"))
    if not application.nationalities.exists():
        missing.append(_("at least one nationality"))
    if application.age_at_application is None:
        missing.append(_("birth date or age"))
    return missing


def _pauses(application: Application) -> list[tuple[dt.date, dt.date]]:
    """(requested, answered) date pairs of information requests, read from the workflow events."""
    pauses, started = [], None
    for event in application.events.order_by("at", "id"):
        day = timezone.localdate(event.at)
        if event.to_status == Status.INFO_REQUESTED:
            started = day
        elif started is not None and event.from_status == Status.INFO_REQUESTED:
            pauses.append((started, day))
            started = None
    return pauses


def _paused(application: Application) -> bool:
    from django.conf import settings

    return application.status == Status.INFO_REQUESTED and settings.DEADLINE_PAUSES_ON_INFORMATION_REQUEST


def _due_on(application: Application) -> dt.date:
    return deadlines.due_on(application.received_on, paused_days=deadlines.paused_business_days(_pauses(application)))


@transaction.atomic
def application_submit(*, user, application: Application) -> Application:
    """Send a draft to the ERI, or send back an application the ERI asked more information about. The ERI's
    clock runs from receipt; if it was stopped while the institution answered, the waiting days are added."""
    _require_owner(user, application)
    current = _locked(application)
    if current.status not in (Status.DRAFT, Status.INFO_REQUESTED):
        _refuse(
            _(
                "Only a draft, or an application the ERI asked more information about, can be submitted; "
                "this one is %(status)s."
            )
            % {"status": current.get_status_display()},
            "not_submittable",
        )
    missing = _missing_for_submission(current)
    if missing:
        _refuse(
            _("Complete these fields before submitting: %(fields)s.") % {"fields": ", ".join(missing)}, "incomplete"
        )
    if current.received_on > timezone.localdate():
        _refuse(_("The date of receipt cannot be in the future."), "future_receipt")
    previous = current.status
    current.status = Status.SUBMITTED
    if previous == Status.DRAFT:
        current.submitted_at = timezone.now()
    _event(current, user=user, from_status=previous, to_status=Status.SUBMITTED)
    current.due_on = _due_on(current)
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    return current


@transaction.atomic
def application_withdraw(*, user, application: Application, reason: str = "") -> Application:
    """The owning institution withdraws an application that the ERI has not decided."""
    _require_owner(user, application)
    current = _locked(application)
    if current.status in CLOSED_STATUSES:
        _refuse(
            _("A decided or withdrawn application cannot be withdrawn; it is %(status)s.")
            % {"status": current.get_status_display()},
            "closed",
        )
    previous = current.status
    current.status = Status.WITHDRAWN
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    _event(current, user=user, from_status=previous, to_status=Status.WITHDRAWN, comment=reason)
    return current


@transaction.atomic
def application_start_review(*, user, application: Application) -> Application:
    """A coordinator takes a submitted application into ERI review."""
    _require_coordinator(user)
    current = _locked(application)
    if current.status != Status.SUBMITTED:
        _refuse(
            _("Only a submitted application can be taken into review; this one is %(status)s.")
            % {"status": current.get_status_display()},
            "not_submitted",
        )
    current.status = Status.UNDER_REVIEW
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    _event(current, user=user, from_status=Status.SUBMITTED, to_status=Status.UNDER_REVIEW)
    return current


@transaction.atomic
def information_request(*, user, application: Application, message: str) -> Application:
    """The ERI asks the institution for more information. The application goes back to the officer, who
    answers by editing and submitting it again; the clock stops meanwhile when configured to."""
    _require_coordinator(user)
    if not (message or "").strip():
        _refuse(_("Say what information the ERI needs."), "empty_request")
    current = _locked(application)
    if current.status not in (Status.SUBMITTED, Status.UNDER_REVIEW):
        _refuse(
            _("Information can only be requested on a submitted application under review; this one is %(status)s.")
            % {"status": current.get_status_display()},
            "not_in_review",
        )
    previous = current.status
    current.status = Status.INFO_REQUESTED
    if _paused(current):
        current.due_on = None  # no running clock until the institution answers
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    _event(current, user=user, from_status=previous, to_status=Status.INFO_REQUESTED, comment=message.strip())
    return current


# --- Sharing -------------------------------------------------------------------------------------------------


def _institution_group(institution: Institution):
    if institution.group_id is None:
        from django.contrib.auth.models import Group

        group, _created = Group.objects.get_or_create(name=f"institution:{institution.code}")
        Institution.objects.filter(pk=institution.pk).update(group=group)
        institution.group = group
    return institution.group


def _audit(user, action: str, application: Application, institution: Institution, ip: str | None) -> None:
    AccessEvent.objects.create(
        user=user,
        action=action,
        object_type=Application._meta.label_lower,
        object_id=str(application.pk),
        detail=f"institution={institution.code}",
        ip_address=ip,
    )


@transaction.atomic
def application_share(*, user, application: Application, institution: Institution, ip: str | None = None) -> None:
    """An admin lets another institution's officers see a case (a referral), through a guardian object
    permission on the institution's group. Audited as a grant. A draft is its institution's alone until it is
    submitted (coordinators do not see it either), so a case never submitted cannot be shared."""
    if not access.can_manage_sharing(user):
        raise PermissionDenied
    if not selectors.application_shareable(application=_locked(application)):
        _refuse(_("A draft belongs to its institution alone until it is submitted: it cannot be shared."), "draft")
    if institution.pk == application.institution_id:
        _refuse(_("The institution that submitted the case sees it already."), "owner")
    if not institution.active:
        _refuse(_("This institution is not active."), "inactive")
    group = _institution_group(institution)
    if application.applicationgroupobjectpermission_set.filter(
        group=group, permission__codename=access.VIEW_APPLICATION
    ).exists():
        _refuse(_("This institution can see the case already."), "already_shared")
    assign_perm(VIEW_PERMISSION, group, application)
    _audit(user, AccessEvent.Action.GRANT, application, institution, ip)


@transaction.atomic
def application_unshare(*, user, application: Application, institution: Institution, ip: str | None = None) -> None:
    """An admin withdraws an institution's access to a shared case. Audited as a revoke."""
    if not access.can_manage_sharing(user):
        raise PermissionDenied
    group = institution.group
    if (
        group is None
        or not application.applicationgroupobjectpermission_set.filter(
            group=group, permission__codename=access.VIEW_APPLICATION
        ).exists()
    ):
        _refuse(_("This institution has no access to revoke."), "not_shared")
    remove_perm(VIEW_PERMISSION, group, application)
    _audit(user, AccessEvent.Action.REVOKE, application, institution, ip)
