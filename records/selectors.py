"""Reads of records that depend on who asks. Every one starts from accounts.access, never from a bare manager."""

from django.db.models import Count, Q
from django.utils import timezone

from accounts import access

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
