"""Reads of records that depend on who asks. Every one starts from accounts.access, never from a bare manager."""

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts import access
from accounts.models import AccessEvent

from . import deadlines
from .models import CLOSED_STATUSES, Status


def officer_summary(*, user) -> dict:
    """Counts of the officer's institutions' applications by status, for the officer's home page."""
    mine = access.applications_visible_to(user).filter(institution_id__in=access.institution_ids(user, "officer"))
    by_status = dict(mine.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "drafts": by_status.get(Status.DRAFT, 0),
        "awaiting_decision": sum(by_status.get(s, 0) for s in (Status.SUBMITTED, Status.UNDER_REVIEW)),
        "information_requested": by_status.get(Status.INFO_REQUESTED, 0),
        "accredited": by_status.get(Status.ACCREDITED, 0),
        "not_accredited": by_status.get(Status.NOT_ACCREDITED, 0),
    }


def queue_summary(*, user) -> dict:
    """Open applications in the ERI's queue, with how many are overdue or due within two business days."""
    today = timezone.localdate()
    open_ = access.applications_visible_to(user).exclude(status__in=CLOSED_STATUSES).exclude(status=Status.DRAFT)
    counts = open_.aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_on__lt=today)),
        awaiting_institution=Count("id", filter=Q(status=Status.INFO_REQUESTED)),
    )
    return counts


# --- Lists and the ERI queue ---------------------------------------------------------------------------------

OPEN_STATUSES = (Status.SUBMITTED, Status.UNDER_REVIEW, Status.INFO_REQUESTED)

QUEUE_SORTS = {
    "due": (F("due_on").asc(nulls_last=True), "received_on", "id"),
    "-due": (F("due_on").desc(nulls_last=True), "-received_on", "-id"),
    "received": ("received_on", "id"),
    "-received": ("-received_on", "-id"),
    "institution": ("institution__code", "received_on", "id"),
    "-institution": ("-institution__code", "-received_on", "-id"),
    "status": ("status", F("due_on").asc(nulls_last=True), "id"),
    "-status": ("-status", F("due_on").asc(nulls_last=True), "id"),
}
LIST_SORTS = {
    "-received": ("-received_on", "-id"),
    "received": ("received_on", "id"),
    "reference": ("case_reference", "id"),
    "-reference": ("-case_reference", "-id"),
    "status": ("status", "-received_on", "-id"),
    "-status": ("-status", "-received_on", "-id"),
}


def flag_possible_duplicates(applications, *, user) -> list:
    """Set ``possible_duplicate`` on each of ``applications`` (a page of rows): another application the same user
    may see carries the same person key. One query for the whole page, restricted to what the user sees, so the
    flag never reveals another institution's draft; done after paging so counting the queue stays a plain scan."""
    rows = list(applications)
    keys = {row.person.person_key for row in rows if row.person.person_key}
    seen: dict[str, set[int]] = {}
    if keys:
        others = access.applications_visible_to(user).filter(person__person_key__in=keys)
        for key, pk in others.values_list("person__person_key", "pk"):
            seen.setdefault(key, set()).add(pk)
    for row in rows:
        key = row.person.person_key
        row.possible_duplicate = bool(key) and bool(seen.get(key, set()) - {row.pk})
    return rows


def application_list(*, user, status: str = "", year: int | None = None, reference: str = "", sort: str = ""):
    """Applications the user may open, newest first, with the fields a list shows (never identity data)."""
    qs = access.applications_visible_to(user).select_related("institution")
    if status in Status.values:
        qs = qs.filter(status=status)
    if year:
        qs = qs.filter(received_on__year=year)
    if reference:
        qs = qs.filter(case_reference__icontains=reference.strip())
    return qs.order_by(*LIST_SORTS.get(sort, LIST_SORTS["-received"]))


def due_soon_limit(today: dt.date) -> dt.date:
    return deadlines.add_business_days(today, settings.DEADLINE_DUE_SOON_BUSINESS_DAYS)


def queue(*, user, sort: str = "due", state: str = "", status: str = ""):
    """The ERI's open applications (submitted, under review, waiting for the institution) with their deadline
    (flag possible duplicates on the page shown with ``flag_possible_duplicates``). ``state`` filters on overdue /
    due_soon / paused. The default order (due date, stopped clocks last) follows the partial index
    ``application_open_queue``."""
    if not access.can_decide(user):
        return access.applications_visible_to(user).none()
    today = timezone.localdate()
    qs = access.applications_visible_to(user).filter(status__in=OPEN_STATUSES).select_related("institution", "person")
    if status in OPEN_STATUSES:
        qs = qs.filter(status=status)
    if state == "overdue":
        qs = qs.filter(due_on__lt=today)
    elif state == "due_soon":
        qs = qs.filter(due_on__gte=today, due_on__lte=due_soon_limit(today))
    elif state == "paused":
        qs = qs.filter(due_on__isnull=True)
    return qs.order_by(*QUEUE_SORTS.get(sort, QUEUE_SORTS["due"]))


def with_deadline_state(applications, *, today: dt.date | None = None) -> list:
    """Attach ``deadline_state`` (overdue / due_soon / on_time / paused / closed) to each application."""
    today = today or timezone.localdate()
    out = []
    for application in applications:
        if application.status in CLOSED_STATUSES or application.status == Status.DRAFT:
            application.deadline_state = "closed" if application.status != Status.DRAFT else ""
        else:
            application.deadline_state = deadlines.deadline_state(application.due_on, today=today)
        out.append(application)
    return out


def possible_duplicates(*, user, application) -> list:
    """Other applications with the same person key that the user may see, for coordinators only: officers are
    never told that another institution referred the same person."""
    if not access.can_decide(user) or not application.person.person_key:
        return []
    return list(
        access.applications_visible_to(user)
        .filter(person__person_key=application.person.person_key)
        .exclude(pk=application.pk)
        .select_related("institution")
        .order_by("received_on")
    )


def application_shareable(*, application) -> bool:
    """Whether a case may be shared with another institution: only once it has been submitted to the ERI. A
    draft, or a draft withdrawn without ever being submitted, stays with its owners (coordinators do not see
    a draft either)."""
    return application.status != Status.DRAFT and application.submitted_at is not None


def shared_with(*, application) -> list:
    """Institutions granted the case through their group (besides the owner)."""
    from accounts.models import Institution

    groups = application.applicationgroupobjectpermission_set.filter(
        permission__codename=access.VIEW_APPLICATION
    ).values("group_id")
    return list(Institution.objects.filter(group__in=groups).order_by("code"))


# --- History -------------------------------------------------------------------------------------------------

# Fields whose values are identity data: the history says they changed, never what they were.
_HIDDEN_VALUES = {"narrative", "given_names", "family_names", "document_number", "birth_date", "phone", "email"}
_HIDDEN_VALUES |= {"address", "document_type"}


# Shown by the workflow events instead (with their comments), so not repeated as data changes.
_WORKFLOW_FIELDS = {"version", "updated_at", "status", "submitted_at", "decided_on"}
# Saving an application writes one history row for its fields and one per many-to-many field; rows of the same
# user within this window are shown as one change.
_MERGE_WINDOW = dt.timedelta(seconds=5)


def application_history(*, application) -> list[dict]:
    """One timeline of a case: data changes (simple-history), workflow steps and resolutions, oldest first.
    Changes to identity data are listed by field name only."""
    entries: list[dict] = []
    for model_history, kind in (
        (application.history.select_related("history_user").order_by("history_date"), "application"),
        (_identity_history(application), "identity"),
    ):
        previous = None
        for record in model_history:
            changes: list[dict] = []
            if previous is not None:
                delta = record.diff_against(previous)
                for change in delta.changes:
                    if change.field in _WORKFLOW_FIELDS:
                        continue
                    field = record.instance._meta.get_field(change.field)
                    hidden = kind == "identity" or change.field in _HIDDEN_VALUES
                    changes.append(
                        {
                            "field": str(field.verbose_name),
                            "old": None if hidden else _display(field, change.old),
                            "new": None if hidden else _display(field, change.new),
                            "hidden": hidden,
                        }
                    )
            last = entries[-1] if entries else None
            if (
                changes
                and last is not None
                and last["kind"] == kind
                and last["by"] == record.history_user
                and record.history_date - last["at"] <= _MERGE_WINDOW
            ):
                last["changes"].extend(changes)
            elif previous is None or changes:
                entries.append(
                    {
                        "at": record.history_date,
                        "by": record.history_user,
                        "kind": kind,
                        "created": previous is None,
                        "changes": changes,
                    }
                )
            previous = record
    for event in application.events.select_related("by"):
        entries.append({"at": event.at, "by": event.by, "kind": "event", "event": event})
    for decision in application.decisions.select_related("recorded_by", "supersedes"):
        entries.append(
            {"at": decision.recorded_at, "by": decision.recorded_by, "kind": "decision", "decision": decision}
        )
    entries.sort(key=lambda e: e["at"])
    return entries


def _identity_history(application):
    from .models import Identity

    return (
        Identity.history.filter(person_id=application.person_id).select_related("history_user").order_by("history_date")
    )


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, list):  # m2m changes: list of through-row dicts
        return ", ".join(_m2m_label(field, item) for item in value) or "—"
    if getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        try:
            return str(field.related_model._default_manager.get(pk=value))
        except field.related_model.DoesNotExist:
            return str(value)
    return str(value)


def _m2m_label(field, item) -> str:
    target = field.related_model
    pk = item.get(field.m2m_reverse_field_name()) if isinstance(item, dict) else item
    obj = target._default_manager.filter(pk=pk).first()
    return str(obj) if obj else str(pk)


IDENTITY_VIEWS_SHOWN = 100


def identity_views(*, user, application) -> list | None:
    """Who viewed the identity data of this application's person, and when (newest first, at most
    ``IDENTITY_VIEWS_SHOWN``), from the access log: for the owning institution's officers and the coordinators;
    None for anyone else. The rows hold ids only; the names shown are the viewers' accounts."""
    if not access.can_see_identity_views(user, application):
        return None
    views = AccessEvent.objects.filter(
        action=AccessEvent.Action.IDENTITY_VIEW, object_type="records.application", object_id=str(application.pk)
    )
    return list(views.select_related("user").order_by("-at", "-id")[:IDENTITY_VIEWS_SHOWN])
