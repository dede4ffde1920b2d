"""Reads of the indicator tables: THE contract of the report pages and the indicators API.

Every function reads only the current ``IndicatorVersion`` of the precomputed cells (never records, never the
per-application analytics table), in one query, so a page never mixes two recomputes. Counts are EXACT:
callers publish them through ``indicators.disclosure`` for the audience at hand.

Arguments, everywhere:

* ``measure``: a key of ``indicators.dimensions.MEASURES``.
* ``year_from`` / ``year_to``: inclusive bounds; None leaves that side open.
* ``filters``: ``{dimension name: code}`` (``"institution"`` included, ``""`` selects "not recorded").
  A filter is a dimension of the cell: dimensions plus filters may number at most three (the disclosure rule
  for cross-tabs) and must form a precomputed combination (``is_available``); otherwise ``ValueError`` with a
  translated message the page can show.

Counts summed over several years add the yearly counts (for distinct persons: a person accredited in two of
the years counts in each).

Every count is a ``disclosure.Count``: the exact number with its cell key (the sum of its records' secret
keys), which the disclosure module turns into the published value. Adding or subtracting Counts keeps the
key right, so any figure assembled from cells is perturbed as the cell of its own records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .dimensions import (
    CELL_SET_KEYS,
    COMPLETENESS_FIELDS,
    DIMENSIONS,
    MEASURES,
    PROFILE_SET,
    TIMELINESS_SET_KEYS,
    cell_set_key,
)
from .disclosure import Count, histogram_median
from .models import IndicatorCell, IndicatorVersion

MAX_DIMENSIONS = 3

# Completeness of each field is read from the cells (institution x the dimension that holds the field):
# filled = received - the "not recorded" cell.
_COMPLETENESS_DIMENSION = {
    "age_at_application": "age_group",
    "sex": "sex",
    "gender_identity": "gender_identity",
    "nationality": "nationality",
    "migration_status": "migration_status",
    "occupation": "occupation",
    "education": "education",
    "residence_district": "residence_province",
    "mother_tongue": "mother_tongue",
    "relationship": "relationship",
    "recruitment_place": "recruitment_place",
    "exploitation_form": "exploitation_form",
    "means": "means",
    "recruitment_method": "recruitment_method",
    "control_method": "control_method",
    "exploitation_country": "exploitation_country",
}
assert set(_COMPLETENESS_DIMENSION) == set(COMPLETENESS_FIELDS)  # noqa: S101


def data_as_of() -> datetime | None:
    """When the records behind the current indicators were read ("Datos al ..."); None before the first
    recompute."""
    return IndicatorVersion.objects.filter(is_current=True).values_list("data_as_of", flat=True).first()


def years_available() -> list[int]:
    """The years that have any indicator (an application received or decided that year), ascending."""
    received = _cells("").values_list("received_year", flat=True).distinct()
    decided = _cells("").values_list("decided_year", flat=True).distinct()
    return sorted({y for y in received if y is not None} | {y for y in decided if y is not None})


def is_available(*, dims: Sequence[str] = (), filters: Mapping[str, str] | None = None) -> bool:
    """Whether the combination of ``dims`` and the filters' dimensions is precomputed (and allowed)."""
    try:
        _cell_set(dims, filters or {})
    except ValueError:
        return False
    return True


def measure_by_year(
    *, measure: str, year_from: int | None = None, year_to: int | None = None, filters: Mapping[str, str] | None = None
) -> dict[int, int]:
    """The measure per year, for the cell the filters select (the yearly total without filters). Years with no
    case are absent (they count 0)."""
    filters = dict(filters or {})
    _measure(measure)
    key = _cell_set((), filters)
    series = _series(measure, key, [], year_from, year_to, filters)
    return {year: value for (year,), value in sorted(series.items()) if value}


def crosstab(
    *,
    measure: str,
    dims: Sequence[str],
    year_from: int | None = None,
    year_to: int | None = None,
    filters: Mapping[str, str] | None = None,
) -> dict[tuple[str, ...], int]:
    """The measure broken down by 1 to 3 dimensions (in the order given), summed over the years, within the
    filters. Keys are code tuples in the order of ``dims``; cells with no case are absent. For a multi-valued
    dimension an application counts under each of its values, so cells need not add up to the total."""
    filters = dict(filters or {})
    dims = list(dims)
    if not dims:
        raise ValueError(_("Choose at least one dimension."))
    if len(set(dims)) != len(dims):
        raise ValueError(_("Each dimension can be chosen only once."))
    _measure(measure)
    key = _cell_set(dims, filters)
    totals: dict[tuple[str, ...], int] = defaultdict(int)
    for (_year, *codes), value in _series(measure, key, dims, year_from, year_to, filters).items():
        totals[tuple(codes)] += value
    return {codes: value for codes, value in totals.items() if value}


def crosstab_by_year(
    *,
    measure: str,
    dims: Sequence[str],
    year_from: int | None = None,
    year_to: int | None = None,
    filters: Mapping[str, str] | None = None,
) -> dict[tuple, int]:
    """The measure by year and by 1 to 3 dimensions, within the filters: ``{(year, *codes): n}``, keys in the
    order of ``dims``, cells with no case absent. The cells carry their year already, so this is the same read
    as :func:`crosstab` without adding the years up: the count of one year here is the count, with the same
    cell key, that :func:`crosstab` gives for that year alone."""
    filters = dict(filters or {})
    dims = list(dims)
    if not dims:
        raise ValueError(_("Choose at least one dimension."))
    if len(set(dims)) != len(dims):
        raise ValueError(_("Each dimension can be chosen only once."))
    _measure(measure)
    key = _cell_set(dims, filters)
    return {codes: value for codes, value in _series(measure, key, dims, year_from, year_to, filters).items() if value}


def timeliness_by_year(
    *, year_from: int | None = None, year_to: int | None = None, filters: Mapping[str, str] | None = None
) -> dict[int, dict]:
    """Per year of decision: ``decided`` (applications decided with both dates known), ``within_deadline``,
    ``share_within_deadline`` (0..1, None without decisions), ``median_business_days`` (business days from
    receipt to decision, None without decisions), ``histogram`` (``{business days: decisions}``) and
    ``overdue`` (applications received that year still
    awaiting a decision after their deadline). At most one filter: a profile dimension (province for
    geography) or the institution."""
    filters = dict(filters or {})
    if len(filters) > 1:
        raise ValueError(_("Timeliness can be filtered by one dimension at a time."))
    for name in filters:
        _dimension(name)
    key = cell_set_key(filters)
    if key not in TIMELINESS_SET_KEYS:
        raise ValueError(_("Timeliness is not available by %(dimension)s.") % {"dimension": _label_of(filters)})
    histogram: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    within: dict[int, int] = defaultdict(int)
    rows = (
        _in_years(_cells(key, filters, kind=IndicatorCell.DAYS), "decided_year", year_from, year_to)
        .values("decided_year", "days")
        .annotate(n=Sum("n"), n_key=Sum("n_key"), within=Sum("within_deadline"), within_key=Sum("within_key"))
        .order_by()
    )
    for row in rows:
        histogram[row["decided_year"]][row["days"]] += Count(row["n"], row["n_key"])
        within[row["decided_year"]] += Count(row["within"], row["within_key"])
    overdue = measure_by_year(measure="overdue", year_from=year_from, year_to=year_to, filters=filters)
    result = {}
    for year in sorted(set(histogram) | set(overdue)):
        decided = sum(histogram[year].values())
        if not decided and not overdue.get(year):
            continue
        result[year] = {
            "decided": decided,
            "within_deadline": within[year],
            "share_within_deadline": (within[year] / decided) if decided else None,
            "median_business_days": histogram_median(histogram[year]),
            "histogram": {days: n for days, n in sorted(histogram[year].items()) if n},
            "overdue": overdue.get(year, 0),
        }
    return result


def flows(
    *,
    year_from: int | None = None,
    year_to: int | None = None,
    measure: str = "accredited",
    origin: str = "recruitment_place",
    destination: str = "exploitation_place",
) -> dict[tuple[str, str], int]:
    """Cases from a place of recruitment to a place of exploitation: ``{(origin code, destination code): n}``.
    Places are provinces of the portal's country (ISO 3166-2, e.g. "CR-SJ") or countries (ISO 3166-1), see
    ``DIMENSIONS["recruitment_place"].labels()``. ``origin``/``destination`` may name coarser dimensions
    (e.g. ``recruitment_country`` -> ``exploitation_country``). An application with several places of
    exploitation contributes one flow to each. Unknown places are keyed ``""``."""
    table = crosstab(measure=measure, dims=[origin, destination], year_from=year_from, year_to=year_to)
    return {(origin_code, destination_code): n for (origin_code, destination_code), n in table.items()}


def profiles(
    *, year_from: int | None = None, year_to: int | None = None, limit: int | None = 20, measure: str = "accredited"
) -> list[tuple]:
    """The most frequent victim profiles among accredited victims: ``(sex, age group, nationality, form of
    exploitation, count)``, largest first, at most ``limit`` (every one with None; ties broken by the codes,
    so the order is stable).
    An application with two forms of exploitation appears in two profiles. Combinations with an unrecorded
    value are left out."""
    _measure(measure)
    dims = list(PROFILE_SET)
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for (_year, *codes), value in _series(measure, cell_set_key(dims), dims, year_from, year_to, {}).items():
        counts[tuple(codes)] += value
    ranked = sorted(
        ((codes, n) for codes, n in counts.items() if n and "" not in codes), key=lambda item: (-item[1], item[0])
    )
    return [(*codes, n) for codes, n in (ranked if limit is None else ranked[:limit])]


def completeness(*, year_from: int | None = None, year_to: int | None = None) -> dict[tuple[str, int], dict]:
    """Data quality: for each (institution code, year of receipt), ``{"total": applications received,
    "fields": {field: applications with the field recorded}}`` for every field of
    ``dimensions.COMPLETENESS_FIELDS`` (a multi-valued fact is recorded when it has at least one value)."""
    totals = _series("received", "institution", ["institution"], year_from, year_to, {})
    result: dict[tuple[str, int], dict] = {
        (institution, year): {"total": value, "fields": {}} for (year, institution), value in totals.items() if value
    }
    missing: dict[tuple[str, int, str], int] = defaultdict(int)
    for field, dimension in _COMPLETENESS_DIMENSION.items():
        key = cell_set_key(["institution", dimension])
        rows = _series("received", key, ["institution"], year_from, year_to, {dimension: ""})
        for (year, institution), value in rows.items():
            missing[(institution, year, field)] = value
    for (institution, year), entry in result.items():
        entry["fields"] = {f: entry["total"] - missing[(institution, year, f)] for f in COMPLETENESS_FIELDS}
    return result


# ----------------------------------------------------------------------------------------------------------


def _measure(name: str):
    try:
        return MEASURES[name]
    except KeyError:
        raise ValueError(_("Unknown indicator: %(name)s.") % {"name": name}) from None


def _dimension(name: str):
    try:
        return DIMENSIONS[name]
    except KeyError:
        raise ValueError(_("Unknown dimension: %(name)s.") % {"name": name}) from None


def _label_of(names) -> str:
    return ", ".join(str(DIMENSIONS[n].label) for n in names if n in DIMENSIONS)


def _cell_set(dims: Sequence[str], filters: Mapping[str, str]) -> str:
    names = set(dims) | set(filters)
    for name in names:
        _dimension(name)
    if len(names) > MAX_DIMENSIONS:
        raise ValueError(
            _("At most three dimensions can be combined, counting filters (you chose %(names)s).")
            % {"names": _label_of(sorted(names))}
        )
    key = cell_set_key(names)
    if key not in CELL_SET_KEYS:
        raise ValueError(
            _("This combination is not available: %(names)s. Choose other dimensions.")
            % {"names": _label_of(sorted(names))}
        )
    return key


def _cells(key: str, filters: Mapping[str, str] | None = None, *, kind: str = IndicatorCell.COUNT):
    qs = IndicatorCell.objects.filter(version__is_current=True, cell_set=key, kind=kind)
    for name, code in (filters or {}).items():
        qs = qs.filter(**{name: code})
    return qs


def _in_years(qs, field: str, year_from, year_to):
    if year_from is not None:
        qs = qs.filter(**{f"{field}__gte": year_from})
    if year_to is not None:
        qs = qs.filter(**{f"{field}__lte": year_to})
    return qs


# measure -> (year column, outcome filter, summed column, extra filter)
_PLAIN = {
    "received": ("received_year", None, "n", {}),
    "overdue": ("received_year", None, "n", {"overdue": True}),
    "accredited": ("decided_year", ("A",), "n", {}),
    "accredited_persons": ("decided_year", ("A",), "persons", {}),
    "not_accredited": ("decided_year", ("N",), "n", {}),
    "decided": ("decided_year", ("A", "N"), "n", {}),
    "decided_within_deadline": ("decided_year", ("A", "N"), "within_deadline", {}),
}
# The cell key column of each summed column.
_KEY_OF = {"n": "n_key", "persons": "persons_key", "within_deadline": "within_key"}


def _series(measure, key, dims, year_from, year_to, filters) -> dict[tuple, int]:
    """``{(year, *codes of dims): value}`` of a measure in one cell set: one query on the current version."""
    if measure == "pending":
        return _pending(key, dims, year_from, year_to, filters)
    year_field, outcomes, column, extra = _PLAIN[measure]
    qs = _in_years(_cells(key, filters), year_field, year_from, year_to).filter(**extra)
    if outcomes:
        qs = qs.filter(outcome__in=outcomes)
    rows = qs.values(year_field, *dims).annotate(value=Sum(column), key=Sum(_KEY_OF[column])).order_by()
    return {
        (row[year_field], *(row[d] for d in dims)): Count(row["value"], row["key"])
        for row in rows
        if row[year_field] is not None
    }


def _pending(key, dims, year_from, year_to, filters) -> dict[tuple, int]:
    """Pending at the end of year Y: received by Y and decided after Y, or still open (the current year's
    "end" is the date the data is from). Derived from the years of receipt and decision of the cells."""
    as_of = data_as_of()
    last = timezone.localtime(as_of).year if as_of else timezone.localdate().year
    year_to = last if year_to is None else min(year_to, last)
    qs = _cells(key, filters).filter(outcome__in=("A", "N", "O"), received_year__isnull=False)
    if year_to is not None:
        qs = qs.filter(received_year__lte=year_to)
    rows = (
        qs.values("received_year", "decided_year", "outcome", *dims)
        .annotate(value=Sum("n"), key=Sum("n_key"))
        .order_by()
    )
    result: dict[tuple, int] = defaultdict(int)
    for row in rows:
        if row["outcome"] == "O":
            until = last
        elif row["decided_year"] is None:
            continue
        else:
            until = row["decided_year"] - 1
        start = row["received_year"] if year_from is None else max(row["received_year"], year_from)
        for year in range(start, min(until, year_to) + 1):
            result[(year, *(row[d] for d in dims))] += Count(row["value"], row["key"])
    return result
