"""A measure by dimensions: one dimension (the disaggregation pages), the cross-tabs of two or three (the
intersections page), and the indicators API's measure by year and breakdown by any dimensions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _

from .. import selectors
from ..forms import Filters, IntersectionForm
from ..reporting import (
    Report,
    ReportUnavailable,
    TooManyDimensions,
    check_dimension_count,
    protect_measures_by_year,
    protect_series_report,
    protect_table_report,
)
from .base import (
    STOCK_MEASURES,
    _any_measure,
    _call,
    _drop_empty_rows,
    _measure_definition,
    _measure_label,
    _measure_total,
    _one,
    _own_totals,
    _selector_filters,
    crossable_dimensions,
    dimension_label,
    dimension_values,
    is_multi_valued,
    measure_from,
    total_note,
)
from .ranking import by_value, ranking_from, top_with_others

# --- One dimension, cross-tabs -------------------------------------------------------------------------------


def dimension_report(user, filters: Filters, query: Mapping, *, key: str) -> Report:
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
    ranking = ranking_from(query)
    series_counts = {_one(k): n for k, n in counts.items()}
    labels = dict(values)
    total = _measure_total(measure_key, filters)

    def series(row_keys, row_counts, extra_labels=None) -> Report:
        return protect_series_report(
            user,
            slug=f"dimension-{key}",
            title=_("%(measure)s by %(dimension)s")
            % {"measure": _measure_label(measure_key), "dimension": dimension_label(key).lower()},
            definition=_measure_definition(measure_key),
            keys=row_keys,
            counts=row_counts,
            labels={**labels, **(extra_labels or {})},
            dimension_label=dimension_label(key),
            value_label=_measure_label(measure_key),
            note=total_note(measure_key, [key]),
            total=total,
        )

    report = series(keys, series_counts)
    if ranking.top is not None:
        return top_with_others(
            report,
            top=ranking.top,
            counts=series_counts,
            multi_valued=is_multi_valued(key),
            rebuild=series,
        )
    return by_value(report) if ranking.by_value else report


def crosstab_report(user, filters: Filters, query) -> Report:
    form = IntersectionForm(query, dimensions=crossable_dimensions())
    if not form.is_valid():
        raise ReportUnavailable(" ".join(map(str, form.errors.get("dims", []))) or _("Pick two or three dimensions."))
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
        return listed + sorted(present - set(listed))  # codes that left their list, as in dimension_report

    row_keys: list[Any]  # codes, or pairs of codes for a three-way table
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


# --- Any measure by year or by any dimensions (the indicators API) --------------------------------------------


def measure_by_year_report(user, filters: Filters, query) -> Report:
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


def breakdown_report(user, filters: Filters, query) -> Report:
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
    row_keys: list[Any]  # codes, or pairs of codes for three dimensions
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
