"""Reads of the estimation app: the capture histories of a period (from the records), the fingerprint of the
period's records, the runs to show, and the part of a run's result that may be shown to a given user.

Counting is over persons: applications of the same pseudonymous key (``Person.person_key``, an HMAC of the
identity document) are one person, on every list that referred them in the period, as the indicators count
distinct persons. An application without a usable document has no key: it is one person on its own list only
(it cannot be linked), and the page says how many there are. Drafts are never counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Sum

from accounts import access
from accounts.models import Institution
from records.models import Application, Code, CodeList, Status

from .models import EstimationRun

ADULT_AGE = 18  # as the indicators' victim groups (child under 18 at the application)
SEX_CODES = ("F", "M")
# More lists than this makes 2**t histories too many for the bootstrap (and for a reader): the smallest lists
# are merged into one until the limit holds.
MAX_LISTS = 6


@dataclass
class CaptureInput:
    """What a run reads from the records: the lists, the counts of persons by (history code, sex, child) and
    how many applications had no document."""

    lists: list[dict]
    cells: list[list]  # [history code, sex "F"/"M"/"", child True/False/None, persons]
    undocumented: int
    applications: int

    def as_json(self) -> dict:
        return {
            "lists": self.lists,
            "cells": self.cells,
            "undocumented": self.undocumented,
            "applications": self.applications,
        }


def _period_applications(year_from: int, year_to: int):
    return Application.objects.exclude(status=Status.DRAFT).filter(
        received_on__gte=dt.date(year_from, 1, 1), received_on__lte=dt.date(year_to, 12, 31)
    )


def records_stamp(*, year_from: int, year_to: int) -> str:
    """A cheap fingerprint of the period's applications: any created, edited (version), submitted or
    withdrawn application changes it."""
    row = _period_applications(year_from, year_to).aggregate(
        n=Count("id"), versions=Sum("version"), last=Max("updated_at")
    )
    last = row["last"].isoformat() if row["last"] else "-"
    return f"{row['n']}:{row['versions'] or 0}:{last}"


def _people(year_from: int, year_to: int):
    """Per person: the institutions that referred them in the period, a sex and the youngest recorded age.
    Institution and sex come as ids and are named from two small dictionaries: two joins fewer per row."""
    institution_codes = dict(Institution.objects.values_list("id", "code"))
    sex_codes = dict(Code.objects.filter(list=CodeList.SEX).values_list("id", "code"))
    rows = _period_applications(year_from, year_to).values_list(
        "institution_id", "person__person_key", "sex_id", "age_at_application"
    )
    people: dict[str, list] = {}
    undocumented: list[tuple] = []
    applications = 0
    for institution_id, key, sex_id, age in rows.iterator(chunk_size=20_000):
        applications += 1
        institution, sex = institution_codes[institution_id], sex_codes.get(sex_id, "")
        if not key:
            undocumented.append(({institution}, sex, age))
            continue
        person = people.get(key)
        if person is None:
            people[key] = [{institution}, sex, age]
            continue
        person[0].add(institution)
        if not person[1] and sex:
            person[1] = sex
        if age is not None and (person[2] is None or age < person[2]):
            person[2] = age
    return [*people.values(), *undocumented], len(undocumented), applications


def _list_groups(persons_by_institution: dict[str, int], *, merge: list[str], min_list_size: int) -> list[list[str]]:
    """Institutions grouped into lists: the coordinator's merged group, then every institution with at least
    ``min_list_size`` persons alone, and the smaller ones together (smallest merged first past MAX_LISTS)."""
    present = sorted(persons_by_institution)
    merged = sorted(code for code in merge if code in persons_by_institution)
    groups: list[list[str]] = [merged] if merged else []
    alone = [c for c in present if c not in merged and persons_by_institution[c] >= max(min_list_size, 1)]
    small = [c for c in present if c not in merged and c not in alone]
    alone.sort(key=lambda c: (-persons_by_institution[c], c))
    while len(groups) + len(alone) + (1 if small else 0) > MAX_LISTS and alone:
        small.append(alone.pop())
    groups += [[c] for c in alone]
    if small:
        groups.append(sorted(small))
    return groups


def capture_input(*, year_from: int, year_to: int, merge: list[str] = (), min_list_size: int = 0) -> CaptureInput:
    """The capture-history counts of a period under a list definition (see the module docstring)."""
    people, undocumented, applications = _people(year_from, year_to)
    by_institution: dict[str, int] = defaultdict(int)
    for institutions, _, _ in people:
        for code in institutions:
            by_institution[code] += 1
    groups = _list_groups(by_institution, merge=list(merge), min_list_size=min_list_size)
    index = {code: j for j, group in enumerate(groups) for code in group}
    cells: dict[tuple, int] = defaultdict(int)
    persons = [0] * len(groups)
    for institutions, sex, age in people:
        code = 0
        for institution in institutions:
            code |= 1 << index[institution]
        for j in range(len(groups)):
            if code >> j & 1:
                persons[j] += 1
        child = None if age is None else age < ADULT_AGE
        cells[(code, sex if sex in SEX_CODES else "", child)] += 1
    lists = [{"label": "+".join(group), "institutions": group, "persons": persons[j]} for j, group in enumerate(groups)]
    ordered = sorted(cells.items(), key=lambda item: (item[0][0], item[0][1], str(item[0][2])))
    return CaptureInput(
        lists=lists,
        cells=[[code, sex, child, n] for (code, sex, child), n in ordered],
        undocumented=undocumented,
        applications=applications,
    )


def years_with_records() -> list[int]:
    """Years of receipt of submitted applications (for the period picker)."""
    span = Application.objects.exclude(status=Status.DRAFT).aggregate(low=Min("received_on"), high=Max("received_on"))
    if span["low"] is None:
        return []
    return list(range(span["low"].year, span["high"].year + 1))


def latest_run(user, *, year_from: int, year_to: int) -> EstimationRun | None:
    """The latest run of the period the user may see (coordinators: any state; analysts: finished ones)."""
    return (
        access.estimation_runs_visible_to(user)
        .filter(year_from=year_from, year_to=year_to)
        .order_by("-requested_at", "-id")
        .first()
    )


def recent_runs(user, limit: int = 10) -> list[EstimationRun]:
    return list(access.estimation_runs_visible_to(user).order_by("-requested_at", "-id")[:limit])


def histories_table(run: EstimationRun) -> list[dict]:
    """The capture-history table of a run (persons by combination of lists): for coordinators only; callers
    check ``access.can_see_capture_histories`` first."""
    lists = run.inputs.get("lists", [])
    totals: dict[int, int] = defaultdict(int)
    for code, _, _, n in run.inputs.get("cells", []):
        totals[code] += n
    rows = []
    for code in sorted(totals, key=lambda c: (bin(c).count("1"), c)):
        rows.append({"on": [bool(code >> j & 1) for j in range(len(lists))], "persons": totals[code]})
    return rows
