"""The ERI's resolutions on applications: a decision on a submitted application (``decision_record``), and an
appeal or correction that supersedes the one in force (``decision_correct``); both decided by the simple
majority ``vote_problem`` states. Re-exported by records.services, the entry point of every write."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DECIDED_STATUSES, Application, Decision, Status
from .writes import _event, _locked, _refuse, _require_coordinator


def vote_problem(*, outcome: str, votes_in_favour: int, votes_against: int) -> str | None:
    """The ERI decides by simple majority of the votes cast (abstentions do not count). Votes are cast on
    accrediting: in favour means for accreditation. Returns why the vote does not carry ``outcome``, or None."""
    if votes_in_favour + votes_against == 0:
        return _("At least one member must vote in favour or against.")
    if outcome == Decision.Outcome.ACCREDITED and votes_in_favour <= votes_against:
        return _("Accreditation needs more votes in favour than against.")
    if outcome == Decision.Outcome.NOT_ACCREDITED and votes_against <= votes_in_favour:
        return _("Refusing accreditation needs more votes against than in favour.")
    return None


def _check_resolution(application: Application, *, resolution_number: str, resolution_date: dt.date, **votes):
    if resolution_date > timezone.localdate():
        _refuse(_("The resolution date cannot be in the future."), "future_date")
    if resolution_date < application.received_on:
        _refuse(_("The resolution cannot be dated before the application was received."), "before_receipt")
    problem = vote_problem(**votes)
    if problem:
        _refuse(problem, "no_majority")
    if Decision.objects.filter(resolution_number=resolution_number).exists():
        _refuse(_("A resolution with this number is already recorded."), "duplicate_resolution")


def _create_decision(**fields) -> Decision:
    decision = Decision(**fields)
    decision._history_user = fields["recorded_by"]
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError:
        _refuse(_("A resolution with this number is already recorded."), "duplicate_resolution")
    return decision


@transaction.atomic
def decision_record(
    *,
    user,
    application: Application,
    resolution_number: str,
    resolution_date: dt.date,
    votes_in_favour: int,
    votes_against: int,
    abstentions: int,
    outcome: str,
    reasons: str,
) -> Decision:
    """Record the ERI's reasoned technical resolution on a submitted application (taken into review first if it
    was not). The decision makes the application read-only; a change needs ``decision_correct``."""
    _require_coordinator(user)
    current = _locked(application)
    if current.status == Status.INFO_REQUESTED:
        _refuse(_("The ERI is waiting for the institution's answer; decide after it is resubmitted."), "waiting")
    if current.status not in (Status.SUBMITTED, Status.UNDER_REVIEW):
        _refuse(
            _("Only a submitted application can be decided; this one is %(status)s.")
            % {"status": current.get_status_display()},
            "not_decidable",
        )
    _check_resolution(
        current,
        resolution_number=resolution_number,
        resolution_date=resolution_date,
        outcome=outcome,
        votes_in_favour=votes_in_favour,
        votes_against=votes_against,
    )
    if current.status == Status.SUBMITTED:
        _event(current, user=user, from_status=Status.SUBMITTED, to_status=Status.UNDER_REVIEW)
    decision = _create_decision(
        application=current,
        kind=Decision.Kind.ORIGINAL,
        resolution_number=resolution_number,
        resolution_date=resolution_date,
        votes_in_favour=votes_in_favour,
        votes_against=votes_against,
        abstentions=abstentions,
        outcome=outcome,
        reasons=reasons,
        recorded_by=user,
    )
    current.status = outcome
    current.decided_on = resolution_date
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    _event(current, user=user, from_status=Status.UNDER_REVIEW, to_status=outcome, comment=resolution_number)
    return decision


def current_decision(application: Application) -> Decision | None:
    """The resolution in force: the latest one that no later resolution supersedes."""
    return application.decisions.filter(superseded_by__isnull=True).order_by("-recorded_at", "-id").first()


@transaction.atomic
def decision_correct(
    *,
    user,
    application: Application,
    kind: str,
    resolution_number: str,
    resolution_date: dt.date,
    votes_in_favour: int,
    votes_against: int,
    abstentions: int,
    outcome: str,
    reasons: str,
) -> Decision:
    """Change a decision by a new resolution (an appeal or a correction) that supersedes the one in force. The
    earlier resolution stays on record; the application takes the new outcome. ``decided_on`` keeps the date of
    the first decision, which is what time-to-decision measures."""
    _require_coordinator(user)
    current = _locked(application)
    if current.status not in DECIDED_STATUSES:
        _refuse(_("Only a decided application can be corrected or appealed."), "not_decided")
    if kind not in (Decision.Kind.APPEAL, Decision.Kind.CORRECTION):
        _refuse(_("A change of decision is an appeal or a correction."), "bad_kind")
    in_force = current_decision(current)
    if in_force is None:
        _refuse(_("This application has no resolution on record to correct."), "no_decision")
    _check_resolution(
        current,
        resolution_number=resolution_number,
        resolution_date=resolution_date,
        outcome=outcome,
        votes_in_favour=votes_in_favour,
        votes_against=votes_against,
    )
    if resolution_date < in_force.resolution_date:
        _refuse(_("A new resolution cannot be dated before the resolution it changes."), "before_previous")
    decision = _create_decision(
        application=current,
        kind=kind,
        supersedes=in_force,
        resolution_number=resolution_number,
        resolution_date=resolution_date,
        votes_in_favour=votes_in_favour,
        votes_against=votes_against,
        abstentions=abstentions,
        outcome=outcome,
        reasons=reasons,
        recorded_by=user,
    )
    previous = current.status
    current.status = outcome
    current.version += 1  # the row is locked: no lost update
    current._history_user = user
    current.save()
    _event(current, user=user, from_status=previous, to_status=outcome, comment=resolution_number)
    return decision
