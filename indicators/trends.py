"""Trends: the report catalogue's tables of a measure by year, for one dimension or a pair of them (every
dimension of the disaggregation pages and every pair of the intersections page), and of the headline figures,
each with the change from the previous year.

The indicator cells carry their year (``selectors.crosstab_by_year``), so the count of one category in one
year is the same count, with the same cell key, as the disaggregation page shows for that year alone: the
trend publishes the same perturbed value. The change from the previous year is the difference of the two
published values (``reporting.change``), never of the true counts, and a hidden value gives a hidden change:
differencing a trend with the other pages yields nothing the published figures did not already give.

Registered in the catalogue as ``trend`` and ``trend-headline`` (see ``catalogue.registry.BUILDERS``), so the page,
its chart data, its CSV/XLSX and the API share these builders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from django.utils.translation import gettext as _

from . import catalogue, selectors
from .catalogue import ReportUnavailable
from .forms import DimensionChoice, Filters
from .reporting import Change, Report, changes_along, protect_measures_by_year, protect_table_report

TREND_SLUGS = ("trend-headline", "trend")
DEFAULT_DIMENSION = "sex"
MAX_DIMENSIONS = 2
HEADLINE_MEASURES = ("received", "accredited", "accredited_persons")
# Lines on one chart: the palette's colours; the table lists every row.
CHART_LINES = 8


def trend_dimensions() -> list[DimensionChoice]:
    """What a trend can follow: every dimension with a disaggregation page and every case fact of the
    intersections page."""
    choices = catalogue.profile_dimensions()
    keys = {d.key for d in choices}
    return choices + [d for d in catalogue.crossable_dimensions() if d.key not in keys]


def dims_from(query: Mapping) -> list[str]:
    """The dimensions asked for (``dims``, in order; an empty choice is skipped), or the default one.
    ReportUnavailable, with the reason, for an unknown dimension, a repeated one or more than two."""
    asked = query.getlist("dims") if hasattr(query, "getlist") else list(query.get("dims", []))
    dims = [d for d in asked if d]
    known = {d.key for d in trend_dimensions()}
    unknown = [d for d in dims if d not in known]
    if unknown:
        # Not quoted back: a value in an address can be a megabyte long, or reorder the sentence.
        raise ReportUnavailable(_("A dimension asked for is not among those a trend can follow."))
    if len(set(dims)) != len(dims):
        raise ReportUnavailable(_("Each dimension can be chosen only once."))
    if len(dims) > MAX_DIMENSIONS:
        raise ReportUnavailable(
            _(
                "A trend follows one dimension or a pair of them over the years (the year is the third "
                "dimension): choose at most two."
            )
        )
    return dims or [DEFAULT_DIMENSION]


def year_span(filters: Filters) -> list[int]:
    """Every calendar year from the first to the last year with data within the filters, gaps included, so
    that "the previous year" is always the calendar year before."""
    shown = catalogue._years_shown(filters)
    return list(range(shown[0], shown[-1] + 1)) if shown else []


def _codes(dim: str, present: set[str]) -> list[str]:
    """A dimension's codes in its own order: all of them for a short list (a true zero is information), the
    ones that occur for a long one (countries), and any code that has left its list but still holds cells."""
    values = catalogue.dimension_values(dim)
    listed = [code for code, _label in values if len(values) <= 40 or code in present]
    return listed + sorted(present - set(listed))


def _with_changes(report: Report, years: Sequence[int]) -> Report:
    """Add the change from the previous year of every row and of the totals row, as derived columns (one per
    year after the first) and, for the chart and the API, as ``extra["changes"]``/``extra["total_changes"]``."""
    changes = tuple(changes_along(cells) for cells in report.table.cells)
    total_changes = changes_along(report.table.col_totals)
    derived = tuple(
        (_("Change %(year)s") % {"year": year}, tuple(row[j].display for row in changes))
        for j, year in enumerate(years)
        if j
    )
    return replace(
        report,
        derived=derived,
        derived_totals=tuple(c.display for c in total_changes[1:]),
        extra={**report.extra, "chart": "trend", "changes": changes, "total_changes": total_changes},
    )


def trend_report(user, filters: Filters, query) -> Report:
    """A measure by year for one dimension (rows: its values) or a pair (rows: pairs of values that hold a
    case), years as columns, with totals and changes."""
    dims = dims_from(query)
    measure_key = catalogue.measure_from(query)
    years = year_span(filters)
    counts = catalogue._call(
        selectors.crosstab_by_year,
        measure=measure_key,
        dims=dims,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=catalogue._selector_filters(filters),
    )
    codes = [_codes(dim, {key[1 + i] for key in counts}) for i, dim in enumerate(dims)]
    if len(dims) == 1:
        row_keys: list = codes[0]
        table_counts = {(key[1], key[0]): n for key, n in counts.items() if key[0] in years}
        labels: Mapping | tuple = dict(catalogue.dimension_values(dims[0]))
    else:
        row_keys = [(a, b) for a in codes[0] for b in codes[1]]
        table_counts = {((key[1], key[2]), key[0]): n for key, n in counts.items() if key[0] in years}
        labels = tuple(dict(catalogue.dimension_values(dim)) for dim in dims)
    note = catalogue.total_note(measure_key, dims)
    # Each year's total is the measure's own cell for that year (the overview's figure), not the sum of the
    # rows, which can count a case or a person more than once (see catalogue.total_note).
    try:
        per_year = selectors.measure_by_year(
            measure=measure_key,
            year_from=filters.year_from,
            year_to=filters.year_to,
            filters=catalogue._selector_filters(filters),
        )
        totals = {"columns": per_year, "grand": sum(n for year, n in per_year.items() if year in years)}
    except ValueError:
        totals = None
    report = protect_table_report(
        user,
        slug="trend",
        title=_("%(measure)s by %(dimensions)s and year")
        % {
            "measure": catalogue._measure_label(measure_key),
            "dimensions": " × ".join(catalogue.dimension_label(d).lower() for d in dims),
        },
        definition=catalogue._measure_definition(measure_key),
        row_keys=row_keys,
        col_keys=years,
        counts=table_counts,
        row_dimensions=[catalogue.dimension_label(d) for d in dims],
        labels=labels,
        col_labels={y: str(y) for y in years},
        value_label=catalogue._measure_label(measure_key),
        note=note,
        totals=totals,
    )
    table = report.table
    if measure_key in catalogue.STOCK_MEASURES:
        # Pending at the end of each year is a stock: its sum over the years means nothing.
        table = table.without_row_totals()
    if len(dims) == 2 or len(row_keys) > 40:
        table = table.without_empty_rows()
    if len(table.row_keys) > CHART_LINES:
        lines = _("The chart draws the %(n)s lines with the largest totals; the table lists every one.") % {
            "n": CHART_LINES
        }
        note = f"{note} {lines}".strip()
    return _with_changes(replace(report, table=table, note=note), years)


def headline_report(user, filters: Filters, query) -> Report:
    """Applications received, applications accredited and accredited victims (persons) by year, with their
    totals over the years and their changes: the key figures of the overview as a trend."""
    years = year_span(filters)
    sel = catalogue._selector_filters(filters)
    measures = [
        (
            key,
            catalogue._measure_label(key),
            catalogue._call(
                selectors.measure_by_year,
                measure=key,
                year_from=filters.year_from,
                year_to=filters.year_to,
                filters=sel,
            ),
        )
        for key in HEADLINE_MEASURES
    ]
    by_year = protect_measures_by_year(
        user,
        slug="trend-headline",
        title=_("Key figures by year"),
        definition=" ".join(
            f"{catalogue._measure_label(k)}: {catalogue._measure_definition(k)}" for k in HEADLINE_MEASURES
        ),
        years=years,
        measures=measures,
        year_label=_("Year"),
    )
    # Protected as years by measures (each measure its own series with its own total); shown the other way.
    report = replace(
        by_year,
        table=by_year.table.transposed(),
        row_dimensions=(_("Figure"),),
        row_labels={key: label for key, label, _counts in measures},
        col_labels={y: str(y) for y in years},
        additive=True,
        show_totals_row=False,
    )
    return _with_changes(report, years)


def chart_payload(report: Report) -> dict:
    """A line per row (the largest CHART_LINES by their published total), years along the x axis; hidden
    values as null with their display text ("<5"), and each point's change from the previous year."""
    changes: Sequence[Sequence[Change]] = report.extra.get("changes", ())
    order = sorted(
        range(len(report.table.row_keys)),
        key=lambda i: (report.table.row_totals[i].value is None, -(report.table.row_totals[i].value or 0), i),
    )
    shown = sorted(order[:CHART_LINES])
    return {
        "title": report.title,
        "labels": [report.col_label(year) for year in report.table.col_keys],
        "datasets": [
            {
                "label": report.row_label(report.table.row_keys[i]),
                "data": [cell.value for cell in report.table.cells[i]],
                "display": [cell.display for cell in report.table.cells[i]],
                "change": [c.display for c in changes[i]] if changes else [],
            }
            for i in shown
        ],
        "lines_left_out": len(report.table.row_keys) - len(shown),
    }
