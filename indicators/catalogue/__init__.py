"""The report catalogue: every published table by name (its slug), built from the indicator selectors for one
user through indicators.reporting.

Pages, chart-data views and exports call :func:`build` with the same slug and the same query string, so a
page, its chart and its CSV/XLSX always hold the same protected figures. The indicators API may call
:func:`build` too. Nothing here reads records: the selectors read the indicator tables (geography and
population are reference data an admin edits)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from itertools import combinations
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404
from django.templatetags.static import static
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from .. import disclosure, selectors
from ..dimensions import COMPLETENESS_FIELDS, DIMENSIONS, MEASURES, NOT_RECORDED, PROFILE, PROFILE_SET, cell_set_key
from ..disclosure import ProtectedCell
from ..forms import (
    FIXED_FILTERS,
    INSTITUTION,
    YEAR_FROM,
    YEAR_TO,
    DimensionChoice,
    Filters,
    IntersectionForm,
    ReportFilterForm,
    refusal_message,
)
from ..reporting import (
    NOT_SHOWN,
    Figure,
    InvalidFilters,
    Report,
    ReportUnavailable,
    TooManyDimensions,
    audience,
    check_dimension_count,
    median_from_histogram,
    protect_headline,
    protect_measures_by_year,
    protect_series_report,
    protect_table_report,
    rate_per_100k,
    ratio,
    whole_number,
)

CACHE_SECONDS = 600
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


def _dimension(key: str):
    try:
        return DIMENSIONS[key]
    except KeyError:
        raise Http404 from None


def dimension_label(key: str) -> str:
    return str(_dimension(key).label)


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


def data_as_of_display() -> str:
    moment = data_as_of()
    if moment is None:
        return _("no indicators computed yet")
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


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


def _one(key) -> object:
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


# --- Dashboard -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    display: str
    definition: str
    hidden: bool = False


@dataclass(frozen=True)
class Overview:
    kpis: list[Kpi]
    by_year: Report | None
    timeliness: Report | None
    unavailable: str = ""
    timeliness_unavailable: str = ""


STOCK_MEASURES = ("pending",)
DASHBOARD_MEASURES = ("received", "accredited", "accredited_persons", "not_accredited", "pending", "overdue")


def _by_year(user, filters: Filters) -> Report:
    sel = _selector_filters(filters)
    shown = _years_shown(filters)
    measures = [
        (
            key,
            _measure_label(key),
            _call(
                selectors.measure_by_year,
                measure=key,
                year_from=filters.year_from,
                year_to=filters.year_to,
                filters=sel,
            ),
        )
        for key in DASHBOARD_MEASURES
    ]
    definition = " ".join(f"{_measure_label(k)}: {_measure_definition(k)}" for k in DASHBOARD_MEASURES)
    report = protect_measures_by_year(
        user,
        slug="by-year",
        title=_("Applications and decisions by year"),
        definition=definition,
        years=shown,
        measures=measures,
        year_label=_("Year"),
        # "Pending at year end" is a stock: adding it over the years means nothing, so it has no total.
        without_total=STOCK_MEASURES,
    )
    return replace(report, extra={"chart": "series", "chart_columns": ["received", "accredited_persons"]})


def _timeliness(user, filters: Filters) -> Report:
    rows = _call(
        selectors.timeliness_by_year,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    shown = _years_shown(filters)
    report = protect_measures_by_year(
        user,
        slug="timeliness",
        title=_("Time to decision"),
        definition=_(
            "Applications decided in the year (by the date of the ERI's resolution, with both dates known); how "
            "many were decided within 7 business days of receipt (Ley 9095; Costa Rican public holidays do not "
            "count); their share; and the median number of business days from receipt to decision."
        ),
        years=shown,
        measures=[
            ("decided", _("Decided"), {y: r["decided"] for y, r in rows.items()}),
            ("within_deadline", _("Within 7 business days"), {y: r["within_deadline"] for y, r in rows.items()}),
        ],
        year_label=_("Year"),
    )
    shares, medians = [], []
    for i, year in enumerate(shown):
        decided_cell, within_cell = report.table.cells[i]
        shares.append(ratio(within_cell, decided_cell))
        medians.append(median_from_histogram(user, rows.get(year, {}).get("histogram", {}), decided_cell))
    return replace(
        report,
        derived=((_("Share within 7 business days"), tuple(shares)), (_("Median business days"), tuple(medians))),
        extra={"chart": "series"},
    )


def dashboard(user, filters: Filters) -> Overview:
    exact, k = audience(user)
    key = _cache_key("dashboard", exact, k, filters.querystring())
    overview = cache.get(key)
    if overview is None:
        overview = _dashboard(user, filters)
        cache.set(key, overview, CACHE_SECONDS)
    return overview


def _dashboard(user, filters: Filters) -> Overview:
    try:
        by_year = _by_year(user, filters)
    except ReportUnavailable as refused:
        return Overview(kpis=[], by_year=None, timeliness=None, unavailable=str(refused))
    try:
        timeliness = _timeliness(user, filters)
        timeliness_unavailable = ""
    except ReportUnavailable as refused:
        timeliness, timeliness_unavailable = None, str(refused)

    col = {key: j for j, key in enumerate(by_year.table.col_keys)}
    last_year = by_year.table.row_keys[-1] if by_year.table.row_keys else None

    def total(measure_key: str) -> ProtectedCell:
        return by_year.table.col_totals[col[measure_key]]

    def in_last_year(measure_key: str) -> ProtectedCell:
        if last_year is None:
            return protect_headline(user, 0)
        return by_year.table.cells[-1][col[measure_key]]

    def kpi(key: str, cell: ProtectedCell, label: str, definition: str) -> Kpi:
        return Kpi(key=key, label=label, display=cell.display, definition=definition, hidden=cell.hidden)

    years_text = _year_span(by_year.table.row_keys)
    kpis = [
        kpi(
            "received",
            total("received"),
            _("Applications received, %(years)s") % {"years": years_text},
            _measure_definition("received"),
        ),
        kpi(
            "accredited_persons",
            total("accredited_persons"),
            _("Accredited victims, %(years)s") % {"years": years_text},
            _measure_definition("accredited_persons"),
        ),
        kpi(
            "pending",
            in_last_year("pending"),
            _("Pending at the end of %(year)s") % {"year": last_year or "—"},
            _measure_definition("pending"),
        ),
        kpi(
            "overdue",
            total("overdue"),
            _("Overdue now (received %(years)s)") % {"years": years_text},
            _measure_definition("overdue"),
        ),
    ]
    if timeliness is not None and timeliness.table.row_keys:
        decided_total, within_total = timeliness.table.col_totals
        kpis.append(
            Kpi(
                key="within_deadline",
                label=_("Decided within 7 business days, %(years)s") % {"years": years_text},
                display=ratio(within_total, decided_total),
                definition=_(
                    "Share of the applications decided in the years shown that were decided within the legal "
                    "deadline of 7 business days (Ley 9095)."
                ),
            )
        )
        medians = dict(timeliness.derived)[_("Median business days")]
        kpis.append(
            Kpi(
                key="median_days",
                label=_("Median business days to decision, %(year)s") % {"year": last_year},
                display=medians[-1],
                definition=_(
                    "Half of the applications decided in the year took at most this many business days from "
                    "receipt to the ERI's decision. Hidden when the number of decisions is."
                ),
            )
        )
    return Overview(kpis=kpis, by_year=by_year, timeliness=timeliness, timeliness_unavailable=timeliness_unavailable)


def _year_span(years_shown: Sequence[int]) -> str:
    if not years_shown:
        return "—"
    if years_shown[0] == years_shown[-1]:
        return str(years_shown[0])
    return f"{years_shown[0]}–{years_shown[-1]}"


# --- One dimension, cross-tabs, profiles ---------------------------------------------------------------------


def _dimension_report(user, key: str, filters: Filters, query) -> Report:
    measure_key = measure_from(query)
    counts = _call(
        selectors.crosstab,
        measure=measure_key,
        dims=[key],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values(key)
    # Every code is listed (a true zero is information), except long lists such as countries, where only the
    # values that occur are.
    present = {_one(k) for k in counts}
    keys = [v for v, _l in values if len(values) <= 40 or v in present]
    # A code no longer in its list (retired, or recounted as "not recorded") still holds its cells until the
    # next full recompute: list it rather than refuse the whole table.
    keys += sorted(present - set(keys))
    return protect_series_report(
        user,
        slug=f"dimension-{key}",
        title=_("%(measure)s by %(dimension)s")
        % {"measure": _measure_label(measure_key), "dimension": dimension_label(key).lower()},
        definition=_measure_definition(measure_key),
        keys=keys,
        counts={_one(k): n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=dimension_label(key),
        value_label=_measure_label(measure_key),
        note=total_note(measure_key, [key]),
        total=_measure_total(measure_key, filters),
    )


def _crosstab_report(user, filters: Filters, query) -> Report:
    form = IntersectionForm(query, dimensions=crossable_dimensions())
    if not form.is_valid():
        raise ReportUnavailable(" ".join(form.errors.get("dims", [])) or _("Pick two or three dimensions."))
    chosen = form.cleaned_data["dims"]
    measure_key = measure_from(query)
    counts = _call(
        selectors.crosstab,
        measure=measure_key,
        dims=chosen,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    row_dims, col_dim = chosen[:-1], chosen[-1]

    def codes(dim: str) -> list[str]:
        values = dimension_values(dim)
        present = {key[chosen.index(dim)] for key in counts}
        listed = [v for v, _l in values if len(values) <= 40 or v in present]
        return listed + sorted(present - set(listed))  # codes that left their list, as in _dimension_report

    if len(row_dims) == 1:
        row_keys = codes(row_dims[0])
        table_counts = {(key[0], key[1]): n for key, n in counts.items()}
    else:
        first, second = codes(row_dims[0]), codes(row_dims[1])
        row_keys = [(a, b) for a in first for b in second]
        table_counts = {((key[0], key[1]), key[2]): n for key, n in counts.items()}
    labels = tuple(dict(dimension_values(dim)) for dim in row_dims)
    report = protect_table_report(
        user,
        slug="crosstab",
        title=_("%(measure)s by %(dimensions)s")
        % {
            "measure": _measure_label(measure_key),
            "dimensions": " × ".join(dimension_label(d).lower() for d in chosen),
        },
        definition=_measure_definition(measure_key),
        row_keys=row_keys,
        col_keys=codes(col_dim),
        counts=table_counts,
        row_dimensions=[dimension_label(d) for d in row_dims],
        labels=labels,
        col_labels=dict(dimension_values(col_dim)),
        note=total_note(measure_key, chosen),
        totals=_own_totals(measure_key, row_dims, col_dim, filters),
    )
    if len(row_dims) == 2:
        report = _drop_empty_rows(report)
    return replace(report, extra={"chart": "series"})


def _drop_empty_rows(report: Report) -> Report:
    """Leave out rows with no case at all: a three-way table of every pair of values would be mostly empty."""
    return replace(report, table=report.table.without_empty_rows())


PROFILES_LISTED = 20


def _profiles_report(user, filters: Filters, query) -> Report:
    """The most frequent combinations, ranked by their published values (never by exact counts, whose order
    would tell more than the figures shown); combinations shown as "<k" are not listed, and the list's total
    is a figure of its own: the protected count of the combinations listed."""
    exact, k = audience(user)
    rows = _call(
        selectors.profiles,
        year_from=filters.year_from,
        year_to=filters.year_to,
        limit=None,
        measure="accredited_persons",
    )
    # A filter on one of the four dimensions keeps the combinations with that value: the same cells, so the
    # same published values as without it (``applied_filters``: no other filter reaches this report).
    wanted = [(i, filters.values[dim]) for i, dim in enumerate(PROFILE_SET) if dim in filters.values]
    counts = {tuple(row[:-1]): row[-1] for row in rows if all(row[i] == code for i, code in wanted)}
    every = disclosure.protect_series(list(counts), counts, k=k, exact=exact)
    ranked = sorted(
        ((row[0].value, key) for key, row in zip(every.row_keys, every.cells, strict=True) if not row[0].hidden),
        key=lambda item: (-item[0], item[1]),
    )
    keys = [key for _value, key in ranked[:PROFILES_LISTED]]
    # Each part of a profile by its own dimension's labels: two code lists may share a code.
    labels = tuple(dict(dimension_values(dim)) for dim in PROFILE_SET)
    report = protect_series_report(
        user,
        slug="profiles",
        title=_("Most frequent profiles of accredited victims"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by their combination of sex, "
            "age group, nationality and form of exploitation. A person with two forms of exploitation counts in "
            "both combinations; combinations with a value not recorded are left out."
        ),
        keys=keys,
        counts={key: counts[key] for key in keys},
        labels=labels,
        dimension_label=_("Profile"),
        value_label=_("Accredited victims"),
        note=""
        if exact
        else _("Combinations shown as fewer than %(k)s people are not listed; the total counts those listed.")
        % {"k": k},
    )
    return replace(report, row_dimensions=tuple(dimension_label(d) for d in PROFILE_SET))


# --- Relations -----------------------------------------------------------------------------------------------

RELATION_SLUGS = ("relation-means", "relation-recruitment_method", "relation-control_method")


def _relation_report(user, other: str, filters: Filters) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=["exploitation_form", other],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    forms_ = dimension_values("exploitation_form")
    others = dimension_values(other)
    report = protect_table_report(
        user,
        slug=f"relation-{other}",
        title=_("Forms of exploitation by %(other)s") % {"other": dimension_label(other).lower()},
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) counted once for each pair "
            "of a form of exploitation and a value of %(other)s recorded in their case: a person can appear in "
            "several cells, so the totals count pairs, not people."
        )
        % {"other": dimension_label(other).lower()},
        row_keys=[v for v, _l in forms_],
        col_keys=[v for v, _l in others],
        counts={(a, b): n for (a, b), n in counts.items()},
        row_dimensions=[dimension_label("exploitation_form")],
        labels=dict(forms_),
        col_labels=dict(others),
    )
    return replace(report, extra={"chart": "matrix"})


def _flows_report(user, filters: Filters) -> Report:
    counts = _call(selectors.flows, year_from=filters.year_from, year_to=filters.year_to, measure=DEFAULT_MEASURE)
    places = dimension_values("recruitment_place")
    order = {code: i for i, (code, _l) in enumerate(places)}
    origins = sorted({a for a, _b in counts}, key=lambda c: order.get(c, len(order)))
    destinations = sorted({b for _a, b in counts}, key=lambda c: order.get(c, len(order)))
    report = protect_table_report(
        user,
        slug="flows",
        title=_("From place of recruitment to place of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by the province (or country, "
            "abroad) where they were recruited and the province or country where they were exploited. A person "
            "exploited in several places counts in each flow. Filters other than the years do not apply here."
        ),
        row_keys=origins,
        col_keys=destinations,
        counts=counts,
        row_dimensions=[_("Place of recruitment")],
        labels=dict(places),
        col_labels=dict(places),
        note=_("Hidden flows are not drawn in the diagram; the table shows them as hidden."),
    )
    return replace(report, extra={"chart": "sankey"})


def _countries_report(user, filters: Filters) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=["exploitation_country"],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values("exploitation_country")
    present = {_one(k) for k in counts}
    counts_by_code = {_one(k): n for k, n in counts.items()}
    keys = sorted((v for v, _l in values if v in present), key=lambda c: (-counts_by_code[c], c))
    return protect_series_report(
        user,
        slug="countries",
        title=_("Countries of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by each country where they "
            "were exploited; a person exploited in two countries counts in both."
        ),
        keys=keys,
        counts=counts_by_code,
        labels=dict(values),
        dimension_label=_("Country"),
        value_label=_("Accredited victims"),
    )


# --- Maps ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geography:
    """Where a map places people: where they live or where they were recruited. ``canton`` is a one-way cell
    set only (see ``NOT_CROSSABLE``), so its map takes no profile or institution filter. The province series
    (``province_slug``) is what the canton map is protected against and rolls up to; only the one of residence
    is also a map of its own."""

    province: str
    canton: str
    province_slug: str
    canton_slug: str
    province_title: Promise
    canton_title: Promise
    place_note: Promise | None
    filters_refused: Promise


RESIDENCE = _Geography(
    province="residence_province",
    canton="residence_canton",
    province_slug="map-province",
    canton_slug="map-canton",
    province_title=gettext_lazy("Accredited victims by province of residence"),
    canton_title=gettext_lazy("Accredited victims by canton of residence"),
    place_note=None,
    filters_refused=gettext_lazy(
        "The canton map is drawn without profile or institution filters; the province map applies them."
    ),
)
RECRUITMENT = _Geography(
    province="recruitment_province",
    canton="recruitment_canton",
    province_slug="recruitment-province",
    canton_slug="map-recruitment-canton",
    province_title=gettext_lazy("Accredited victims by province of recruitment"),
    canton_title=gettext_lazy("Accredited victims by canton of recruitment"),
    place_note=gettext_lazy(
        "The place of recruitment is the canton of the district where the person was recruited; people "
        'recruited abroad, or whose district is not recorded, are not on this map (the page "Recruitment and '
        'exploitation" shows countries of recruitment).'
    ),
    filters_refused=gettext_lazy("The map of cantons of recruitment is drawn without profile or institution filters."),
)
# The canton maps, in the order the maps page shows them (after the province map of residence).
CANTON_MAPS = {geography.canton_slug: geography for geography in (RESIDENCE, RECRUITMENT)}


def _map_definition(geography: _Geography) -> str:
    definition = _measure_definition(DEFAULT_MEASURE)
    return f"{definition} {geography.place_note}" if geography.place_note else definition


def _province_series(user, filters: Filters, geography: _Geography = RESIDENCE) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=[geography.province],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values(geography.province)
    return protect_series_report(
        user,
        slug=geography.province_slug,
        title=str(geography.province_title),
        definition=_map_definition(geography),
        keys=[v for v, _l in values],
        counts={_one(k): n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=dimension_label(geography.province),
        value_label=_("Accredited victims"),
        note=total_note(DEFAULT_MEASURE, [geography.province]),
        total=_measure_total(DEFAULT_MEASURE, filters),
    )


def _province_map(user, filters: Filters) -> Report:
    report = _province_series(user, filters)
    areas = {
        str(key): {"value": row[0].value, "display": row[0].display, "label": report.row_label(key)}
        for key, row in zip(report.table.row_keys, report.table.cells, strict=True)
        if key != NOT_RECORDED
    }
    geo = {
        "level": "province",
        "geojson_url": static("geo/cr_provinces.geojson"),
        "code_property": "cod_provin",
        "areas": areas,
    }
    return replace(report, extra={"chart": "choropleth", "geo": geo})


def _canton_provinces() -> dict[str, str]:
    from records.models import Canton

    return dict(Canton.objects.values_list("code", "province_id"))


# The address's province whose cantons a canton map shows alone (the drill-down from a province to its
# cantons): not a filter of the cells, only a choice of rows and areas already published.
ZOOM = "zoom"


def _canton_map(user, filters: Filters, geography: _Geography = RESIDENCE, query: Mapping | None = None) -> Report:
    """Cantons of residence or of recruitment (``geography``), each a protected count of its own. On the map, a
    province whose total or any of whose cantons is hidden is "rolled up": drawn as one area, the province,
    with the province's own figure (never that figure painted on each of its cantons, nor a map of hidden
    cells), and the note names the provinces drawn so. The colour scale is the script's, from the areas drawn.

    With ``zoom`` (a province code) the table lists that province's cantons only and the map draws that
    province alone: a subset of the figures of the whole map, plus the province's own figure as its total."""
    if filters.values or filters.institution:
        raise ReportUnavailable(str(geography.filters_refused))
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=[geography.canton],
        year_from=filters.year_from,
        year_to=filters.year_to,
    )
    province_of = _canton_provinces()
    provinces = _province_series(user, filters, geography)
    province_cells = {
        key: row[0] for key, row in zip(provinces.table.row_keys, provinces.table.cells, strict=True) if key
    }
    zoom = (query or {}).get(ZOOM) or None
    if zoom is not None and zoom not in province_cells:
        raise ReportUnavailable(_("The province asked for is not one of the country's provinces."))
    cantons = [(c, label) for c, label in dimension_values(geography.canton) if c in province_of]
    report = protect_series_report(
        user,
        slug=geography.canton_slug,
        title=str(geography.canton_title),
        definition=_map_definition(geography),
        keys=[c for c, _l in cantons],
        counts={_one(k): n for k, n in counts.items() if _one(k) in province_of},
        labels=dict(cantons),
        dimension_label=dimension_label(geography.canton),
        value_label=_("Accredited victims"),
    )
    canton_cell = {key: row[0] for key, row in zip(report.table.row_keys, report.table.cells, strict=True)}
    rolled_up = [
        p
        for p, cell in province_cells.items()
        if cell.hidden or any(canton_cell[c].hidden for c, _l in cantons if province_of[c] == p)
    ]
    shown = [p for p in province_cells if zoom in (None, p)]
    areas = {
        canton: {"value": canton_cell[canton].value, "display": canton_cell[canton].display, "label": label}
        for canton, label in cantons
        if province_of[canton] in shown and province_of[canton] not in rolled_up
    }
    whole = {
        province: {
            "value": province_cells[province].value,
            "display": province_cells[province].display,
            "label": _("%(province)s (whole province)") % {"province": provinces.row_label(province)},
        }
        for province in rolled_up
        if province in shown
    }
    geo = {
        "level": "canton",
        "geojson_url": static("geo/cr_cantons.geojson"),
        "code_property": "cod_canton",
        "areas": areas,
        # Rolled-up provinces, drawn from the province boundaries in place of their cantons.
        "parent_property": "cod_provin",
        "rolled_up": whole,
        "rolled_up_geojson_url": static("geo/cr_provinces.geojson"),
        "rolled_up_code_property": "cod_provin",
        "rolled_up_legend": _("Whole province: a canton's figure is hidden") if whole else "",
    }
    note = (
        _(
            "Drawn as one area with the province's own figure, because a canton's count is hidden: %(provinces)s. "
            "The colours are scaled to the areas drawn."
        )
        % {"provinces": ", ".join(provinces.row_label(p) for p in rolled_up if p in shown)}
        if whole
        else ""
    )
    if zoom is None:
        return replace(report, note=note, extra={"chart": "choropleth", "geo": geo})
    keep = [i for i, key in enumerate(report.table.row_keys) if province_of[key] == zoom]
    province_name = provinces.row_label(zoom)
    return replace(
        report,
        title=_("%(title)s: province of %(province)s") % {"title": report.title, "province": province_name},
        table=report.table.rows(keep),
        # The table's own total is the whole country's: the province's figure (the same cell as on the province
        # map) is given instead.
        show_totals_row=False,
        note=" ".join(
            part
            for part in (
                _("Total of the province of %(province)s: %(total)s.")
                % {"province": province_name, "total": province_cells[zoom].display},
                note,
            )
            if part
        ),
        extra={"chart": "choropleth", "geo": {**geo, "zoom": zoom}, "zoom": zoom},
    )


# --- Data quality --------------------------------------------------------------------------------------------


def _completeness_report(user, filters: Filters) -> Report:
    rows = _call(selectors.completeness, year_from=filters.year_from, year_to=filters.year_to)
    if filters.institution:
        rows = {key: value for key, value in rows.items() if key[0] == filters.institution}
    keys = sorted(rows)
    applications = protect_series_report(
        user,
        slug="quality-completeness",
        title=_("Completeness of the records by institution and year"),
        definition=_(
            "Share of the applications received in the year (by date of receipt) in which each field is filled "
            "in. Shown only where the number of applications is itself shown."
        ),
        keys=keys,
        counts={key: rows[key]["total"] for key in keys},
        labels={},
        dimension_label="",
        value_label=_("Applications"),
    )
    filled = protect_table_report(
        user,
        slug="quality-completeness-filled",
        title="",
        definition="",
        row_keys=keys,
        col_keys=list(COMPLETENESS_FIELDS),
        counts={(key, f): rows[key]["fields"].get(f, 0) for key in keys for f in COMPLETENESS_FIELDS},
        row_dimensions=[],
        labels={},
        col_labels={},
    ).table
    derived = []
    for j, (_field_key, field_label) in enumerate(COMPLETENESS_FIELDS.items()):
        # Shares of protected counts only, shown with their denominator.
        values = [_whole_percentage(filled.cells[i][j], applications.table.cells[i][0]) for i in range(len(keys))]
        derived.append((str(field_label), tuple(values)))
    # Institutions by their code (INAMU, PANI...): the table has a column per field and needs the width.
    return replace(
        applications,
        row_dimensions=(_("Institution"), _("Year")),
        row_labels=({k[0]: k[0] for k in keys}, {k[1]: str(k[1]) for k in keys}),
        derived=tuple(derived),
        extra={"chart": "none"},
    )


def _whole_percentage(part: ProtectedCell, whole: ProtectedCell) -> str:
    """A share in whole percent, capped at 100 (two perturbed counts of nearly the same records may cross)."""
    if part.value is None or whole.value is None or whole.value == 0:
        return NOT_SHOWN
    share = min(100, round(100 * part.value / whole.value))
    return Figure(f"{share:.0f} %", share / 100, "0%")


def _quality_timeliness_report(user, filters: Filters) -> Report:
    institutions = [(code, label) for code, label in dimension_values("institution", with_not_recorded=False)]
    if filters.institution:
        institutions = [(c, label) for c, label in institutions if c == filters.institution]
    decided, within = {}, {}
    for code, _label in institutions:
        rows = _call(
            selectors.timeliness_by_year,
            year_from=filters.year_from,
            year_to=filters.year_to,
            filters={"institution": code},
        )
        if not rows:
            continue
        decided[code] = sum(r["decided"] for r in rows.values())
        within[code] = sum(r["within_deadline"] for r in rows.values())
    keys = [code for code, _l in institutions if decided.get(code)]
    report = protect_measures_by_year(
        user,
        slug="quality-timeliness",
        title=_("Timeliness of decisions by institution"),
        definition=_(
            "Applications decided in the years shown, by the institution that referred them: how many were "
            "decided within 7 business days of receipt, and their share."
        ),
        years=keys,
        measures=[
            ("decided", _("Decided"), decided),
            ("within_deadline", _("Within 7 business days"), within),
        ],
        year_label=_("Institution"),
    )
    shares = tuple(ratio(row[1], row[0]) for row in report.table.cells)
    return replace(
        report,
        row_labels=dict(institutions),
        derived=((_("Share within 7 business days"), shares),),
        extra={"chart": "none"},
    )


# --- International formats -----------------------------------------------------------------------------------

INTERNATIONAL_SLUGS = ("glotip-forms", "glotip-citizenship", "sdg-16-2-2-sex-age", "sdg-16-2-2-form")


def _per_year(dims: list[str], filters: Filters, *, measure: str = DEFAULT_MEASURE) -> dict[tuple, int]:
    """crosstab per year, keyed (year, *codes): the international tables are yearly."""
    counts: dict[tuple, int] = {}
    for year in _years_shown(filters):
        for key, n in _call(selectors.crosstab, measure=measure, dims=dims, year_from=year, year_to=year).items():
            counts[(year, *key)] = n
    return counts


def _glotip_forms(user, filters: Filters) -> Report:
    counts = _per_year(["victim_group", "exploitation_form"], filters)
    groups = dimension_values("victim_group")
    forms_ = dimension_values("exploitation_form")
    row_keys = [(y, g) for y in _years_shown(filters) for g, _l in groups]
    report = protect_table_report(
        user,
        slug="glotip-forms",
        title=_("GLOTIP: detected victims by sex, age and form of exploitation"),
        definition=_(
            "Shaped like UNODC's GLOTIP questionnaire: accredited victims (distinct persons, in the year of the "
            "ERI's decision) by girls, boys, women and men (child: under 18 at recruitment) and form of "
            "exploitation. A person with two forms of exploitation counts under each."
        ),
        row_keys=row_keys,
        col_keys=[f for f, _l in forms_],
        counts={((y, g), f): n for (y, g, f), n in counts.items()},
        row_dimensions=[_("Year"), dimension_label("victim_group")],
        labels=({y: str(y) for y in _years_shown(filters)}, dict(groups)),
        col_labels=dict(forms_),
    )
    return replace(_drop_empty_rows(report), extra={"chart": "none"})


def _glotip_citizenship(user, filters: Filters) -> Report:
    counts = _per_year(["nationality", "victim_group"], filters)
    groups = dimension_values("victim_group")
    countries = dict(dimension_values("nationality"))
    years_shown = _years_shown(filters)
    present = sorted({c for (_y, c, _g) in counts}, key=lambda c: countries.get(c, c))
    report = protect_table_report(
        user,
        slug="glotip-citizenship",
        title=_("GLOTIP: detected victims by citizenship"),
        definition=_(
            "Shaped like UNODC's GLOTIP questionnaire: accredited victims (distinct persons, in the year of the "
            "ERI's decision) by citizenship (nationality; a person with two nationalities counts under each) "
            "and by girls, boys, women and men."
        ),
        row_keys=[(y, c) for y in years_shown for c in present],
        col_keys=[g for g, _l in groups],
        counts={((y, c), g): n for (y, c, g), n in counts.items()},
        row_dimensions=[_("Year"), _("Citizenship")],
        labels=({y: str(y) for y in years_shown}, countries),
        col_labels=dict(groups),
    )
    return replace(_drop_empty_rows(report), extra={"chart": "none"})


def _population() -> dict[tuple[int, str, str], int]:
    from records.models import Population

    return {
        (year, sex, age): n
        for year, sex, age, n in Population.objects.values_list("year", "sex__code", "age_group__code", "population")
    }


def _sdg_sex_age(user, filters: Filters) -> Report:
    counts = _per_year(["sex", "age_group"], filters)
    years_shown = _years_shown(filters)
    sexes = dimension_values("sex")
    ages = dimension_values("age_group")
    keys = [(y, s, a) for y in years_shown for s, _l in sexes for a, _l2 in ages]
    series = protect_series_report(
        user,
        slug="sdg-16-2-2-sex-age",
        title=_("SDG 16.2.2: victims per 100,000 population, by sex and age"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) per 100,000 residents of the "
            "same sex and age group in that year. The population is entered by an administrator from the national "
            "statistics office's estimates; without it the rate is not shown."
        ),
        keys=keys,
        counts=counts,
        labels=({y: str(y) for y in years_shown}, dict(sexes), dict(ages)),
        dimension_label="",
        value_label=_("Accredited victims"),
    )
    population = _population()
    trimmed = series.table.without_empty_rows()
    populations = [population.get(key) for key in trimmed.row_keys]
    rates = [rate_per_100k(row[0], pop) for row, pop in zip(trimmed.cells, populations, strict=True)]
    return replace(
        series,
        table=trimmed,
        row_dimensions=(_("Year"), dimension_label("sex"), dimension_label("age_group")),
        derived=(
            (
                _("Population"),
                tuple(whole_number(p) if p else NOT_SHOWN for p in populations),
            ),
            (_("Victims per 100,000"), tuple(rates)),
        ),
        extra={"chart": "none"},
    )


def _sdg_form(user, filters: Filters) -> Report:
    counts = _per_year(["exploitation_form"], filters)
    years_shown = _years_shown(filters)
    forms_ = dimension_values("exploitation_form")
    report = protect_table_report(
        user,
        slug="sdg-16-2-2-form",
        title=_("SDG 16.2.2: victims per 100,000 population, by form of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) per 100,000 residents in "
            "that year, by form of exploitation (a person with two forms counts under each)."
        ),
        row_keys=years_shown,
        col_keys=[f for f, _l in forms_],
        counts={(y, f): n for (y, f), n in counts.items()},
        row_dimensions=[_("Year")],
        labels={y: str(y) for y in years_shown},
        col_labels=dict(forms_),
    )
    population = _population()
    totals = {y: sum(n for (yy, _s, _a), n in population.items() if yy == y) for y in years_shown}
    # Rates replace the counts here: one rate per published count, hidden where the count is.
    rates = tuple(
        tuple(rate_per_100k(cell, totals.get(year)) for cell in row)
        for year, row in zip(report.table.row_keys, report.table.cells, strict=True)
    )
    derived = tuple(
        (_("%(form)s per 100,000") % {"form": report.col_label(col)}, tuple(r[j] for r in rates))
        for j, col in enumerate(report.table.col_keys)
        if any(r[j] != NOT_SHOWN for r in rates)
    )
    return replace(
        report,
        derived=(
            (
                _("Population"),
                tuple(whole_number(totals[y]) if totals.get(y) else NOT_SHOWN for y in years_shown),
            ),
            *derived,
        ),
        extra={"chart": "none"},
    )


# --- Any measure by year or by any dimensions (the indicators API) --------------------------------------------


def _any_measure(query) -> str:
    key = query.get("measure") or DEFAULT_MEASURE
    if key not in MEASURES:
        raise ReportUnavailable(_("Unknown indicator: %(name)s.") % {"name": key})
    return key


def _measure_by_year_report(user, filters: Filters, query) -> Report:
    """One measure per year with its total over the years (none for a stock such as pending), for the cell
    the filters select."""
    measure_key = _any_measure(query)
    counts = _call(
        selectors.measure_by_year,
        measure=measure_key,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    years_shown = sorted(counts)
    report = protect_measures_by_year(
        user,
        slug="measure-by-year",
        title=_measure_label(measure_key),
        definition=_measure_definition(measure_key),
        years=years_shown,
        measures=[(measure_key, _measure_label(measure_key), counts)],
        year_label=_("Year"),
        without_total=STOCK_MEASURES,
    )
    return replace(report, value_label=_measure_label(measure_key))


def _breakdown_report(user, filters: Filters, query) -> Report:
    """A measure by one to three of any dimensions, listing the codes that hold a count in each dimension's
    order: with one dimension a series, with two rows by the first and columns by the second, with three rows
    by pairs of the first two."""
    dims = list(query.getlist("dims")) if hasattr(query, "getlist") else list(query.get("dims", []))
    if not dims:
        raise ReportUnavailable(_("Choose at least one dimension."))
    try:
        check_dimension_count(dims)
    except TooManyDimensions as refused:
        raise ReportUnavailable(str(refused)) from None
    measure_key = _any_measure(query)
    counts = _call(
        selectors.crosstab,
        measure=measure_key,
        dims=dims,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    labels = {dim: dict(dimension_values(dim)) for dim in dims}

    def present(i: int) -> list[str]:
        codes = {key[i] for key in counts}
        known = [code for code in labels[dims[i]] if code in codes]
        return known + sorted(codes - set(known))

    common = {
        "slug": "breakdown",
        "title": _measure_label(measure_key),
        "definition": _measure_definition(measure_key),
    }
    if len(dims) == 1:
        return protect_series_report(
            user,
            **common,
            keys=present(0),
            counts={key[0]: n for key, n in counts.items()},
            labels=labels[dims[0]],
            dimension_label=dimension_label(dims[0]),
            value_label=_measure_label(measure_key),
            note=total_note(measure_key, dims),
            total=_measure_total(measure_key, filters),
        )
    if len(dims) == 2:
        row_keys, table_counts = present(0), {(key[0], key[1]): n for key, n in counts.items()}
    else:
        pairs = {key[:2] for key in counts}
        row_keys = [(a, b) for a in present(0) for b in present(1) if (a, b) in pairs]
        table_counts = {(key[:2], key[2]): n for key, n in counts.items()}
    return protect_table_report(
        user,
        **common,
        row_keys=row_keys,
        col_keys=present(len(dims) - 1),
        counts=table_counts,
        row_dimensions=[dimension_label(d) for d in dims[:-1]],
        labels=tuple(labels[dim] for dim in dims[:-1]),
        col_labels=labels[dims[-1]],
        note=total_note(measure_key, dims),
        totals=_own_totals(measure_key, dims[:-1], dims[-1], filters),
    )


# --- The catalogue -------------------------------------------------------------------------------------------

_BUILDERS: dict[str, Callable] = {
    "by-year": lambda user, filters, query: _by_year(user, filters),
    "measure-by-year": _measure_by_year_report,
    "breakdown": _breakdown_report,
    "timeliness": lambda user, filters, query: _timeliness(user, filters),
    "crosstab": _crosstab_report,
    "profiles": _profiles_report,
    "flows": lambda user, filters, query: _flows_report(user, filters),
    "countries": lambda user, filters, query: _countries_report(user, filters),
    "map-province": lambda user, filters, query: _province_map(user, filters),
    **{
        slug: (lambda g: lambda user, filters, query: _canton_map(user, filters, g, query))(geography)
        for slug, geography in CANTON_MAPS.items()
    },
    "quality-completeness": lambda user, filters, query: _completeness_report(user, filters),
    "quality-timeliness": lambda user, filters, query: _quality_timeliness_report(user, filters),
    "glotip-forms": lambda user, filters, query: _glotip_forms(user, filters),
    "glotip-citizenship": lambda user, filters, query: _glotip_citizenship(user, filters),
    "sdg-16-2-2-sex-age": lambda user, filters, query: _sdg_sex_age(user, filters),
    "sdg-16-2-2-form": lambda user, filters, query: _sdg_form(user, filters),
    **{
        slug: (lambda other: lambda user, filters, query: _relation_report(user, other, filters))(
            slug.removeprefix("relation-")
        )
        for slug in RELATION_SLUGS
    },
    "trend": lambda user, filters, query: _trends().trend_report(user, filters, query),
    "trend-headline": lambda user, filters, query: _trends().headline_report(user, filters, query),
}


def _trends():
    # indicators.trends builds on this module's helpers, so it is imported when first asked for.
    from .. import trends

    return trends


# --- What each report applies and counts (its pages' filter panel, its files' and charts' metadata) ---------


def applied_filters(slug: str) -> frozenset[str] | None:
    """The filters the report ``slug`` applies besides the years (which every report applies): ``None`` for
    all of them. ``build`` hands a report only these, so what the page, its files and its chart say about the
    filters is what the figures are. The canton maps are not named: they refuse any other filter instead."""
    if slug == "profiles":
        # The profiles are the cells of sex x age group x nationality x form: a value of one of the four
        # selects some of those very cells; any other dimension is not in them.
        return frozenset(PROFILE_SET)
    if slug in INTERNATIONAL_SLUGS or slug == "flows":
        # The international formats count every victim detected in the country, as the questionnaires ask;
        # the flows are a cell set of the two places alone.
        return frozenset()
    return None


def filters_not_applied_reason(slug: str) -> str:
    """Why the report ``slug`` leaves some filters out, in the user's language ("" when it applies all)."""
    if slug == "profiles":
        return _(
            "Profiles are counted from the table of sex, age group, nationality and form of exploitation "
            "together, which holds no other dimension: only the years and those four filters apply here."
        )
    if slug in INTERNATIONAL_SLUGS:
        return _(
            "The international formats count every victim detected in the country, as the UNODC and SDG "
            "questionnaires ask: only the years apply here."
        )
    if slug == "flows":
        return _("Filters other than the years do not apply here.")
    return ""


def report_measures(slug: str, query) -> tuple[str, ...]:
    """What the report ``slug`` counts (keys of ``MEASURES``), for the metadata of its files and charts."""
    if slug == "by-year":
        return DASHBOARD_MEASURES
    if slug == "trend-headline":
        return _trends().HEADLINE_MEASURES
    if slug in ("timeliness", "quality-timeliness"):
        return ("decided", "decided_within_deadline")
    if slug == "quality-completeness":
        return ("received",)
    if slug in ("measure-by-year", "breakdown"):
        return (_any_measure(query),)
    if slug in ("crosstab", "trend") or slug.startswith("dimension-"):
        return (measure_from(query),)
    return (DEFAULT_MEASURE,)


def _builder(slug: str) -> Callable:
    if slug.startswith("dimension-"):
        key = slug.removeprefix("dimension-")
        if key not in {d.key for d in profile_dimensions()}:
            raise Http404
        return lambda user, filters, query: _dimension_report(user, key, filters, query)
    try:
        return _BUILDERS[slug]
    except KeyError:
        raise Http404 from None


def build(slug: str, user, filters: Filters, query: Mapping) -> Report:
    """The report ``slug`` for ``user``, filtered as asked; 404 for a name the catalogue does not hold;
    ReportUnavailable (with the reason) for a combination that is not published.

    Reports are cached by what they depend on: the name, the audience (exact, or protected at k; never the
    user), the filters and query, the language of the labels and the indicator version (data_as_of), so a
    recompute is seen at once and a coordinator's exact table is never served to an analyst."""
    builder = _builder(slug)
    filters = filters.restricted_to(applied_filters(slug))
    exact, k = audience(user)
    key = _cache_key("report", slug, exact, k, filters.querystring(), _query_key(query))
    cached = cache.get(key)
    if cached is None:
        try:
            cached = builder(user, filters, query)
        except ReportUnavailable as refused:
            cached = refused
        cache.set(key, cached, CACHE_SECONDS)
    if isinstance(cached, ReportUnavailable):
        raise cached
    return cached


def _query_key(query: Mapping) -> str:
    pairs = []
    for name in ("measure", "dims", ZOOM):
        values = query.getlist(name) if hasattr(query, "getlist") else ([query[name]] if name in query else [])
        pairs.extend((name, v) for v in values)
    return urlencode(pairs)


def _cache_key(*parts) -> str:
    raw = "|".join(str(p) for p in (*parts, get_language() or "", _version()))
    return "reports:" + hashlib.sha256(raw.encode()).hexdigest()


# data_as_of is read at most once every VERSION_SECONDS per process: every cache key includes it, and a page
# builds several keys. A recompute is therefore seen within a second or two, and never half-applied (the
# selectors read only the current version).
VERSION_SECONDS = 2.0
_version_seen: tuple[float, datetime | None] = (0.0, None)


def data_as_of() -> datetime | None:
    global _version_seen
    now = time.monotonic()
    read_at, moment = _version_seen
    if now - read_at > VERSION_SECONDS:
        moment = selectors.data_as_of()
        _version_seen = (now, moment)
    return moment


def _version() -> str:
    moment = data_as_of()
    return moment.isoformat() if moment else "none"


def page_cache_key(request, page: str) -> str:
    """The key of a page's rendered report content: everything that content depends on (the address, the
    audience, the language, the indicator version) and nothing about the user beyond the audience."""
    exact, k = audience(request.user)
    return _cache_key("page", page, request.path, exact, k, urlencode(sorted(request.GET.lists()), doseq=True))
