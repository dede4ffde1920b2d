"""Historical ERI decisions in an import. Accreditation is the ERI's, by a reasoned resolution adopted by simple
majority: a row that loads an application as accredited or not accredited must carry its resolution (number, vote;
its date is the decision date) and be imported by an ERI coordinator. Such a row then creates the Decision row,
audited as imported. Otherwise the row is an error, by row and column: an officer's import never makes an
accredited victim without a decision of the ERI.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping

from django.utils.translation import gettext as _

from accounts import access
from records.models import DECIDED_STATUSES, Decision
from records.services import vote_problem

from .validation import Record


def needs_decision(record: Record, current: Record | None) -> bool:
    """A row that makes an application decided (new, or an editable one moved to a decided status)."""
    return record.status in DECIDED_STATUSES and (current is None or current.status not in DECIDED_STATUSES)


def decision_problems(records: list[Record], *, user, header: Mapping[str, str]) -> Iterator[tuple[int, str, str]]:
    """(row, column, message) for each decided row that cannot create its resolution."""
    if not records:
        return
    status_column = header.get("status", "")
    coordinator = access.can_decide(user)
    numbers = [r.resolution_number for r in records if r.resolution_number]
    taken = set(Decision.objects.filter(resolution_number__in=numbers).values_list("resolution_number", flat=True))
    first_row: dict[str, int] = {}
    for record in records:
        if not coordinator:
            yield (
                record.line,
                status_column,
                _(
                    "only an ERI coordinator may import a decided application: the ERI accredits by a reasoned "
                    "resolution (import it as submitted, or ask the ERI)"
                ),
            )
            continue
        number = record.resolution_number
        if not number:
            yield (
                record.line,
                header.get("resolution_number", status_column),
                _("a decided application needs the number of the ERI's resolution"),
            )
        elif number in taken or number in first_row:
            yield (
                record.line,
                header["resolution_number"],
                _("the resolution number '%(value)s' is already recorded") % {"value": number},
            )
        else:
            first_row[number] = record.line
        if record.votes_in_favour is None or record.votes_against is None:
            yield (
                record.line,
                header.get("votes_in_favour", status_column),
                _("a decided application needs the ERI's vote (votes in favour of accrediting and against)"),
            )
            continue
        problem = vote_problem(
            outcome=record.status, votes_in_favour=record.votes_in_favour, votes_against=record.votes_against
        )
        if problem:
            yield record.line, header["votes_in_favour"], problem


def decision_row(record: Record, *, decision_id: int, application_id: int, user_id, now: datetime.datetime) -> dict:
    """The Decision row of a checked decided record, as the writer inserts it."""
    return {
        "id": decision_id,
        "application_id": application_id,
        "kind": Decision.Kind.ORIGINAL.value,
        "supersedes_id": None,
        "resolution_number": record.resolution_number,
        "resolution_date": record.decided_on,
        "votes_in_favour": record.votes_in_favour,
        "votes_against": record.votes_against,
        "abstentions": record.abstentions or 0,
        "outcome": record.status,
        "reasons": record.decision_reasons or _("Historical resolution, loaded by import."),
        "recorded_by_id": user_id,
        "recorded_at": now,
    }
