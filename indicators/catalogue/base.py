"""What every report of the catalogue builds on: the dimensions and measures as the pages offer them, the
filters (parsed here for every output), the years with data, the call that turns a selector's refusal into
``ReportUnavailable``, and the totals read as cells of their own."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import combinations
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext as _

from .. import selectors
from ..dimensions import DIMENSIONS, MEASURES, NOT_RECORDED, PROFILE, cell_set_key
from ..forms import (
    FIXED_FILTERS,
    INSTITUTION,
    YEAR_FROM,
    YEAR_TO,
    DimensionChoice,
    Filters,
    ReportFilterForm,
    refusal_message,
)
from ..reporting import InvalidFilters, Report, ReportUnavailable
from .caching import CACHE_SECONDS, _cache_key

DEFAULT_MEASURE = "accredited_persons"
# What a table or chart can count (the picker on the disaggregation and intersection pages).
COUNT_MEASURES = ("accredited_persons", "accredited", "received", "decided", "not_accredited", "pending")
# Case facts an analyst may filter by (so "girls of Nicaraguan nationality recruited through social networks"
# is three clicks), besides every profile dimension.
FILTER_FACTS = ("exploitation_form", "recruitment_method", "means", "control_method")
# Shown alone only (maps); too many values for a filter or a cross-tab.
NOT_FILTERABLE = ("residence_district",)
NOT_CROSSABLE = ("residence_district", "residence_canton", "recruitment_canton")


# --- Dimensions and measures as the pages offer them ---------------------------------------------------------


class UnknownReport(LookupError):
    """The address names a report or a dimension the catalogue does not hold. A domain error, not an HTTP one:
    the views answer it with 404 (``indicators.views.can_view_reports``, the indicators API's ``_build`` and
    ``ReportView``)."""


def _dimension(key: str):
    try:
        return DIMENSIONS[key]
    except KeyError:
        raise UnknownReport(key) from None


def dimension_label(key: str) -> str:
    return str(_dimension(key).label)


def is_multi_valued(key: str) -> bool:
    """Whether an application may hold several values of the dimension ``key`` (its cells are not additive)."""
    return bool(_dimension(key).multi_valued)


def dimension_values(key: str, *, with_not_recorded: bool = True) -> list[tuple[str, str]]:
    labels = _dimension(key).labels()
    return [(code, label) for code, label in labels.items() if with_not_recorded or code != NOT_RECORDED]


def profile_dimensions() -> list[DimensionChoice]:
    """The dimensions with a disaggregation page and in the cross-tab picker."""
    return [
        DimensionChoice(key=d.name, label=str(d.label))
        for d in DIMENSIONS.values()
        if d.kind == PROFILE and d.name != "residence_district"
    ]


def crossable_dimensions() -> list[DimensionChoice]:
    return [d for d in profile_dimensions() if d.key not in NOT_CROSSABLE] + [
        DimensionChoice(key=k, label=dimension_label(k)) for k in FILTER_FACTS
    ]


def filter_dimensions() -> list[DimensionChoice]:
    """Every profile dimension and the main case facts, with their values (cached per language: code lists
    change rarely, and a page should not read them all on every request)."""
    key = _cache_key("filter-dimensions")
    choices = cache.get(key)
    if choices is None:
        keys = [d.key for d in profile_dimensions() if d.key not in NOT_FILTERABLE] + list(FILTER_FACTS)
        choices = [
            DimensionChoice(key=k, label=dimension_label(k), values=tuple(dimension_values(k, with_not_recorded=False)))
            for k in keys
        ]
        cache.set(key, choices, CACHE_SECONDS)
    return choices


def api_filter_dimensions() -> list[DimensionChoice]:
    """Every dimension but the institution (a filter of its own), with its codes: the API filters by any of
    them (cached per language, as ``filter_dimensions``)."""
    key = _cache_key("api-filter-dimensions")
    choices = cache.get(key)
    if choices is None:
        choices = [
            DimensionChoice(key=k, label=dimension_label(k), values=tuple(dimension_values(k, with_not_recorded=False)))
            for k in DIMENSIONS
            if k not in FIXED_FILTERS
        ]
        cache.set(key, choices, CACHE_SECONDS)
    return choices


# --- Filters: where every output reads them ------------------------------------------------------------------


def filter_form(query) -> ReportFilterForm:
    """The filters of a report page, its chart data and its CSV/XLSX, read from the address (the only place
    they are parsed for those outputs): years with data, a reporting institution, one value of a profile
    dimension or case fact, a count measure and known dimensions to cross. ``form.filters()`` gives the
    :class:`Filters` or raises :class:`InvalidFilters` with the form's refusal, so no output falls back to the
    unfiltered table."""
    return ReportFilterForm(
        query or None,
        years=years(),
        dimensions=filter_dimensions(),
        measures=COUNT_MEASURES,
        dimension_names=tuple(DIMENSIONS),
        combinable=combinable_filters(),
    )


@lru_cache(maxsize=1)
def combinable_filters() -> frozenset[str]:
    """Every combination of one to three dimensions (as ``cell_set_key`` names) that the selectors can filter by
    together (``selectors.is_available``, the one rule that also refuses them): the filter form greys out a
    choice that would leave it."""
    return frozenset(
        cell_set_key(names)
        for size in range(1, selectors.MAX_DIMENSIONS + 1)
        for names in combinations(sorted(DIMENSIONS), size)
        if selectors.is_available(filters=dict.fromkeys(names, ""))
    )


def api_filters(params, *, year_from: int | None = None, year_to: int | None = None) -> Filters:
    """The filters of an indicators API request (the only place the API parses them): the same form and the
    same refusal as the pages, over every dimension; an empty code filters by "not recorded"; a year must be one
    with data. ``year_from``/``year_to`` are the serializer's (already whole numbers); the measure and the
    dimensions are the serializer's to check. Raises :class:`InvalidFilters`."""
    data = {name: str(value) for name, value in ((YEAR_FROM, year_from), (YEAR_TO, year_to)) if value is not None}
    not_recorded = {}
    for name in DIMENSIONS:
        if name in params:
            if params[name] == "":
                not_recorded[name] = NOT_RECORDED
            else:
                data[name] = params[name]
    form = ReportFilterForm(data or None, years=years(), dimensions=api_filter_dimensions())
    unknown = [dimension_label(name) for name in data if name not in form.fields]
    if unknown:  # a dimension without codes to choose from: nothing it could filter by
        raise InvalidFilters(refusal_message(unknown))
    filters = form.filters()
    not_recorded.pop(INSTITUTION, None)  # every case has its institution
    return replace(filters, values={**filters.values, **not_recorded})


def count_measures() -> list[dict]:
    return [{"key": k, "label": str(MEASURES[k].label)} for k in COUNT_MEASURES]


def measure_from(query) -> str:
    """The count measure the address asks for (the default when it names none); any other is refused like an
    invalid filter (``filter_form`` has refused it already for the pages and files)."""
    key = query.get("measure") or DEFAULT_MEASURE
    if key not in COUNT_MEASURES:
        raise InvalidFilters(refusal_message([_("What to count")]))
    return key


def _measure_label(key: str) -> str:
    return str(MEASURES[key].label)


def _measure_definition(key: str) -> str:
    return str(MEASURES[key].definition)


def years() -> list[int]:
    key = _cache_key("years")
    found = cache.get(key)
    if found is None:
        found = selectors.years_available()
        cache.set(key, found, CACHE_SECONDS)
    return found


def _selector_filters(filters: Filters) -> dict[str, str]:
    values = dict(filters.values)
    if filters.institution:
        values["institution"] = filters.institution
    return values


def _years_shown(filters: Filters) -> list[int]:
    return [
        y
        for y in years()
        if (filters.year_from is None or y >= filters.year_from) and (filters.year_to is None or y <= filters.year_to)
    ]


def _call(selector: Callable, **kwargs):
    """Run a selector; its refusals (too many dimensions with the filters, a combination that is not
    precomputed) become ReportUnavailable with the selector's own translated message."""
    try:
        return selector(**kwargs)
    except ValueError as refused:
        raise ReportUnavailable(str(refused)) from None


def _one(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) and len(key) == 1 else key


# Totals: the same total is the same figure on every page. A table's cells can count a unit more than once (a
# case with two forms of exploitation; a person with two accredited applications in a year recorded with two
# different ages or institutions), so the sum of its cells is a different, larger count with a key of its own.
# Its totals are therefore read as cells of their own: the measure's total within the filters (the overview's
# figure), and for a cross-tab the one-way cells of its row and column dimensions.


def _measure_total(measure_key: str, filters: Filters) -> int | None:
    """The measure over the years shown, within the filters, each unit once per year (None where the filters
    alone are not a published cell: the table then keeps the sum of its cells)."""
    try:
        by_year = selectors.measure_by_year(
            measure=measure_key,
            year_from=filters.year_from,
            year_to=filters.year_to,
            filters=_selector_filters(filters),
        )
    except ValueError:
        return None
    return sum(by_year.values())


def _marginal(measure_key: str, dims: Sequence[str], filters: Filters) -> dict | None:
    """The one-way (or two-way) cells of ``dims`` within the filters, keyed like a table's rows (a code, or a
    pair of codes); None where that combination is not published."""
    try:
        counts = selectors.crosstab(
            measure=measure_key,
            dims=list(dims),
            year_from=filters.year_from,
            year_to=filters.year_to,
            filters=_selector_filters(filters),
        )
    except ValueError:
        return None
    return {_one(key): n for key, n in counts.items()}


def _own_totals(measure_key: str, row_dims: Sequence[str], col_dim: str, filters: Filters) -> dict:
    """The totals of a cross-tab as cells of their own (``reporting.protect_table_report``'s ``totals``)."""
    totals = {
        "rows": _marginal(measure_key, row_dims, filters),
        "columns": _marginal(measure_key, [col_dim], filters),
        "grand": _measure_total(measure_key, filters),
    }
    return {name: value for name, value in totals.items() if value is not None}


def total_note(measure_key: str, dims: Sequence[str]) -> str:
    """Why the cells of a table of ``dims`` may add up to more than its totals (which count each unit once),
    in the user's language; "" where they cannot."""
    multi = [dimension_label(d).lower() for d in dims if _dimension(d).multi_valued]
    if multi:
        return _(
            "A case with several values of %(dims)s counts under each of them, so the cells add up to more than "
            "the totals, which count each case once (as the overview does)."
        ) % {"dims": ", ".join(multi)}
    if measure_key == "accredited_persons":
        return _(
            "The totals count each person once a year, as the overview does. A person with two accredited "
            "applications in a year recorded with different values counts under each, so the cells can add up "
            "to a little more."
        )
    return ""


STOCK_MEASURES = ("pending",)


def _year_span(years_shown: Sequence[Hashable]) -> str:
    if not years_shown:
        return "—"
    if years_shown[0] == years_shown[-1]:
        return str(years_shown[0])
    return f"{years_shown[0]}–{years_shown[-1]}"


def _drop_empty_rows(report: Report) -> Report:
    """Leave out rows with no case at all: a three-way table of every pair of values would be mostly empty."""
    return replace(report, table=report.table.without_empty_rows())


def _any_measure(query) -> str:
    key = query.get("measure") or DEFAULT_MEASURE
    if key not in MEASURES:
        raise ReportUnavailable(_("Unknown indicator: %(name)s.") % {"name": key})
    return key
