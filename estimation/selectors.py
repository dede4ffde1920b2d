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
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import BigIntegerField, Case, Count, F, Max, Min, Q, Sum, Value, When

from accounts import access
from accounts.models import Institution
from records.models import Code, CodeList

from .models import EstimationRun

ADULT_AGE = 18  # as the indicators' victim groups (child under 18 at the application)
SEX_CODES = ("F", "M")
# More lists than this makes 2**t histories too many for the bootstrap (and for a reader): the smallest lists
# are merged into one until the limit holds.
MAX_LISTS = 6
# The institutions of a period are counted as bits of one integer in the database (SQLite's are 64-bit signed).
MAX_INSTITUTION_BITS = 62


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
    return access.applications_counted_in_estimates().filter(
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


def _histories(year_from: int, year_to: int) -> tuple[list[tuple[tuple[int, ...], str, bool | None, int]], int, int]:
    """The persons of the period counted by (institutions that referred them, sex, child), grouped in the
    database: each documented person is one row of a GROUP BY over their key (their institutions as a sum of
    distinct bits, a sex of F/M if any application records one, the youngest recorded age), and those rows are
    counted by their values in the same query; an undocumented application is one person alone. Read this way a
    million applications come back as a few hundred rows (measured in bench/mse.py) instead of a million
    tuples folded in Python. Returns the counts with institution ids, the undocumented applications and all
    the applications of the period."""
    period = _period_applications(year_from, year_to)
    institutions = sorted(period.order_by().values_list("institution_id", flat=True).distinct())
    if len(institutions) > MAX_INSTITUTION_BITS:
        raise ValueError(f"More than {MAX_INSTITUTION_BITS} referring institutions in one period")
    bit = Case(
        *[When(institution_id=pk, then=Value(1 << j)) for j, pk in enumerate(institutions)],
        output_field=BigIntegerField(),
    )
    sexes = dict(Code.objects.filter(list=CodeList.SEX, code__in=SEX_CODES).values_list("id", "code"))
    known_sex = Case(When(sex_id__in=list(sexes), then=F("sex_id")), output_field=BigIntegerField())
    documented = (
        period.exclude(Q(person__person_key="") | Q(person__person_key__isnull=True))
        .values("person__person_key")
        .annotate(h_mask=Sum(bit, distinct=True), h_sex=Max(known_sex), h_age=Min("age_at_application"))
        .order_by()
    )
    # The ORM cannot group by its own aggregates: the persons query is wrapped as SQL, with its parameters.
    inner, params = documented.query.sql_with_params()
    child = "CASE WHEN p.h_age IS NULL THEN NULL WHEN p.h_age < %s THEN 1 ELSE 0 END"
    outer = f"SELECT p.h_mask, p.h_sex, {child}, COUNT(*) FROM ({inner}) p GROUP BY 1, 2, 3"  # noqa: S608 (ORM SQL)
    with connection.cursor() as cursor:
        cursor.execute(outer, [ADULT_AGE, *params])
        rows = cursor.fetchall()
    counts: list[tuple[tuple[int, ...], str, bool | None, int]] = []
    for mask, sex_id, child, n in rows:
        members = tuple(pk for j, pk in enumerate(institutions) if int(mask) >> j & 1)
        counts.append((members, sexes.get(sex_id, ""), None if child is None else bool(child), n))
    undocumented = 0
    alone = (
        period.filter(Q(person__person_key="") | Q(person__person_key__isnull=True))
        .values_list("institution_id", "sex_id", "age_at_application")
        .annotate(n=Count("id"))
        .order_by()
    )
    for institution_id, sex_id, age, n in alone:
        undocumented += n
        counts.append(((institution_id,), sexes.get(sex_id, ""), None if age is None else age < ADULT_AGE, n))
    return counts, undocumented, period.count()


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


def capture_input(*, year_from: int, year_to: int, merge: Sequence[str] = (), min_list_size: int = 0) -> CaptureInput:
    """The capture-history counts of a period under a list definition (see the module docstring)."""
    counts, undocumented, applications = _histories(year_from, year_to)
    names = dict(Institution.objects.values_list("id", "code"))
    by_institution: dict[str, int] = defaultdict(int)
    for members, _, _, n in counts:
        for pk in members:
            by_institution[names[pk]] += n
    groups = _list_groups(by_institution, merge=list(merge), min_list_size=min_list_size)
    index = {code: j for j, group in enumerate(groups) for code in group}
    cells: dict[tuple, int] = defaultdict(int)
    persons = [0] * len(groups)
    for members, sex, child, n in counts:
        code = 0
        for pk in members:
            code |= 1 << index[names[pk]]
        for j in range(len(groups)):
            if code >> j & 1:
                persons[j] += n
        cells[(code, sex, child)] += n
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
    span = access.applications_counted_in_estimates().aggregate(low=Min("received_on"), high=Max("received_on"))
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
