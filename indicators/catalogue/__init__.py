"""The report catalogue: every published table by name (its slug), built from the indicator selectors for one
user through indicators.reporting.

Pages, chart-data views and exports call :func:`build` with the same slug and the same query string, so a
page, its chart and its CSV/XLSX always hold the same protected figures. The indicators API may call
:func:`build` too. Nothing here reads records: the selectors read the indicator tables (geography and
population are reference data an admin edits).

One module per family of pages: ``base`` (dimensions, measures, filters, years, totals), ``caching`` (cache
keys and the indicator version), ``overview``, ``breakdowns``, ``profiles``, ``maps``, ``quality``,
``international``, and ``registry`` (the slug -> builder table, ``build`` and what each report applies).
Callers import from the package; the names below are what they use."""

from ..reporting import ReportUnavailable, audience
from .base import (
    COUNT_MEASURES,
    DEFAULT_MEASURE,
    STOCK_MEASURES,
    UnknownReport,
    _call,
    _marginal,
    _measure_definition,
    _measure_label,
    _measure_total,
    _own_totals,
    _selector_filters,
    _year_span,
    _years_shown,
    api_filters,
    combinable_filters,
    count_measures,
    crossable_dimensions,
    dimension_label,
    dimension_values,
    filter_dimensions,
    filter_form,
    measure_from,
    profile_dimensions,
    total_note,
    years,
)
from .caching import CACHE_SECONDS, VERSION_SECONDS, _version, data_as_of, data_as_of_display, page_cache_key
from .international import INTERNATIONAL_SLUGS
from .maps import CANTON_MAPS, RECRUITMENT, RESIDENCE, ZOOM
from .overview import DASHBOARD_MEASURES, Kpi, Overview, dashboard
from .profiles import RELATION_SLUGS
from .ranking import OTHERS, ranking_query
from .ranking import PARAMETERS as RANKING_PARAMETERS
from .registry import BUILDERS, applied_filters, build, filters_not_applied_reason, report_measures

__all__ = [
    "BUILDERS",
    "CACHE_SECONDS",
    "CANTON_MAPS",
    "COUNT_MEASURES",
    "DASHBOARD_MEASURES",
    "DEFAULT_MEASURE",
    "INTERNATIONAL_SLUGS",
    "RECRUITMENT",
    "RELATION_SLUGS",
    "RESIDENCE",
    "STOCK_MEASURES",
    "VERSION_SECONDS",
    "ZOOM",
    "OTHERS",
    "RANKING_PARAMETERS",
    "ranking_query",
    "Kpi",
    "Overview",
    "ReportUnavailable",
    "UnknownReport",
    "_call",
    "_marginal",
    "_measure_definition",
    "_measure_label",
    "_measure_total",
    "_own_totals",
    "_selector_filters",
    "_version",
    "_year_span",
    "_years_shown",
    "api_filters",
    "applied_filters",
    "audience",
    "build",
    "combinable_filters",
    "count_measures",
    "crossable_dimensions",
    "dashboard",
    "data_as_of",
    "data_as_of_display",
    "dimension_label",
    "dimension_values",
    "filter_dimensions",
    "filter_form",
    "filters_not_applied_reason",
    "measure_from",
    "page_cache_key",
    "profile_dimensions",
    "report_measures",
    "total_note",
    "years",
]
