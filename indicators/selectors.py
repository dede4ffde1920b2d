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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db.models import Q, Sum
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
    """The years that have any indicator (received, decided or pending), ascending."""
    return list(
        _cells("")
        .filter(measure__in=("received", "accredited", "not_accredited", "pending"))
        .values_list("year", flat=True)
        .distinct()
        .order_by("year")
    )


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
    m = _measure(measure)
    key = _cell_set((), filters)
    rows = (
        _cells(key, year_from, year_to, filters)
        .filter(measure__in=m.stored)
        .values("year")
        .annotate(value=Sum(m.column))
        .order_by("year")
    )
    return {row["year"]: row["value"] for row in rows if row["value"]}


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
    m = _measure(measure)
    key = _cell_set(dims, filters)
    rows = (
        _cells(key, year_from, year_to, filters)
        .filter(measure__in=m.stored)
        .values(*dims)
        .annotate(value=Sum(m.column))
        .order_by()
    )
    return {tuple(row[d] for d in dims): row["value"] for row in rows if row["value"]}


def timeliness_by_year(
    *, year_from: int | None = None, year_to: int | None = None, filters: Mapping[str, str] | None = None
) -> dict[int, dict]:
    """Per year of decision: ``decided`` (applications decided with both dates known), ``within_deadline``,
    ``share_within_deadline`` (0..1, None without decisions), ``median_business_days`` (business days from
    receipt to decision, None without decisions) and ``overdue`` (applications received that year still
    awaiting a decision after their deadline). At most one filter (a profile dimension or the institution)."""
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
        _cells(key, year_from, year_to, filters)
        .filter(measure="decision_days")
        .values("year", "days")
        .annotate(n=Sum("n"), within=Sum("within_deadline"))
        .order_by()
    )
    for row in rows:
        histogram[row["year"]][row["days"]] += row["n"]
        within[row["year"]] += row["within"]
    overdue = measure_by_year(measure="overdue", year_from=year_from, year_to=year_to, filters=filters)
    result = {}
    for year in sorted(set(histogram) | set(overdue)):
        decided = sum(histogram[year].values())
        result[year] = {
            "decided": decided,
            "within_deadline": within[year],
            "share_within_deadline": (within[year] / decided) if decided else None,
            "median_business_days": _median(histogram[year]),
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
    return crosstab(measure=measure, dims=[origin, destination], year_from=year_from, year_to=year_to)


def profiles(
    *, year_from: int | None = None, year_to: int | None = None, limit: int = 20, measure: str = "accredited"
) -> list[tuple[str, str, str, str, int]]:
    """The most frequent victim profiles among accredited victims: ``(sex, age group, nationality, form of
    exploitation, count)``, largest first, at most ``limit`` (ties broken by the codes, so the order is stable).
    An application with two forms of exploitation appears in two profiles. Combinations with an unrecorded
    value are left out."""
    m = _measure(measure)
    dims = list(PROFILE_SET)
    rows = (
        _cells(cell_set_key(dims), year_from, year_to, {})
        .filter(measure__in=m.stored)
        .exclude(Q(sex="") | Q(age_group="") | Q(nationality="") | Q(exploitation_form=""))
        .values(*dims)
        .annotate(value=Sum(m.column))
        .filter(value__gt=0)
        .order_by("-value", *dims)[:limit]
    )
    return [(row["sex"], row["age_group"], row["nationality"], row["exploitation_form"], row["value"]) for row in rows]


def completeness(*, year_from: int | None = None, year_to: int | None = None) -> dict[tuple[str, int], dict]:
    """Data quality: for each (institution code, year of receipt), ``{"total": applications received,
    "fields": {field: applications with the field recorded}}`` for every field of
    ``dimensions.COMPLETENESS_FIELDS`` (a multi-valued fact is recorded when it has at least one value)."""
    totals = (
        _cells("institution", year_from, year_to, {})
        .filter(measure="received")
        .values("institution", "year")
        .annotate(value=Sum("n"))
        .order_by()
    )
    result: dict[tuple[str, int], dict] = {
        (row["institution"], row["year"]): {"total": row["value"], "fields": {}} for row in totals
    }
    missing = defaultdict(int)
    for field, dimension in _COMPLETENESS_DIMENSION.items():
        rows = (
            _cells(cell_set_key(["institution", dimension]), year_from, year_to, {dimension: ""})
            .filter(measure="received")
            .values("institution", "year")
            .annotate(value=Sum("n"))
            .order_by()
        )
        for row in rows:
            missing[(row["institution"], row["year"], field)] = row["value"]
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


def _cells(key: str, year_from=None, year_to=None, filters: Mapping[str, str] | None = None):
    qs = IndicatorCell.objects.filter(version__is_current=True, cell_set=key)
    if year_from is not None:
        qs = qs.filter(year__gte=year_from)
    if year_to is not None:
        qs = qs.filter(year__lte=year_to)
    for name, code in (filters or {}).items():
        qs = qs.filter(**{name: code})
    return qs


def _median(histogram: Mapping[int, int]) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    values = sorted(histogram.items())

    def nth(k: int) -> int:  # the k-th smallest value, 0-based
        seen = 0
        for value, count in values:
            seen += count
            if k < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2
