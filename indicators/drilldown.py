"""Drill-down: where a click on a table cell, a bar, a heat-map cell or a map area leads.

A cell leads to the same report filtered to what the cell counts (its values added to the page's filters), and
a province to its cantons (the maps page with ``catalogue.ZOOM``). The address is built here, on the server,
once for the table (real links) and the chart data (``url`` beside each value, followed by
static/js/reports-charts.js), so both lead to the same place.

What the link opens goes through the same filter form, catalogue and disclosure control as any address an
analyst types: a link is only offered where the page's filter form accepts the filters and the selectors can
combine them (``selectors.is_available``, the rule that would refuse them), so a cell, hidden or not, never
leads to a refusal. The filtered report's cell is the same cell (the same records, so the same cell key and
the same published value, "<k" included) as the one clicked: drilling down publishes nothing the page did not
(tests/test_reports_drilldown.py checks it as an attacker would)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlencode

from django.urls import reverse

from . import catalogue, selectors
from .dimensions import NOT_RECORDED
from .forms import INSTITUTION, Filters
from .reporting import Report

Links = tuple[tuple[str | None, ...], ...]


def links(report: Report, *, filters: Filters, query: Mapping) -> Links:
    """One address (or None) per cell of the report's body: ``links[i][j]`` for row ``i`` and column ``j``."""
    rows, cols = report.table.row_keys, report.table.col_keys
    target = _target(report, filters, query, filter_choices())
    if target is None:
        return tuple((None,) * len(cols) for _ in rows)
    return tuple(
        tuple(
            None if _is_true_zero(report.table.cells[i][j]) else target(row_key, col_key)
            for j, col_key in enumerate(cols)
        )
        for i, row_key in enumerate(rows)
    )


def links_by_key(report: Report, *, filters: Filters, query: Mapping) -> dict[Hashable, str | None]:
    """The address of each row of a one-column report (a series, a map), by its key."""
    found = links(report, filters=filters, query=query)
    return {key: row[0] if row else None for key, row in zip(report.table.row_keys, found, strict=True)}


def _is_true_zero(cell) -> bool:
    # A shown 0 is a true zero (a count is never perturbed to 0): nothing to drill into.
    return cell.value == 0 and not cell.hidden


def _target(report: Report, filters: Filters, query: Mapping, choices: Mapping[str, frozenset[str]]):
    """A function (row key, column key) -> address or None for the report, or None where its cells lead nowhere."""
    slug = report.slug
    measure = _measure(query)

    def _filtered(page, filters, added, **options):
        return filtered_address(page, filters, added, choices=choices, **options)

    if slug == "by-year":
        dashboard = reverse("indicators:dashboard")

        def year_cell(year, _col):
            drilled = replace(filters, year_from=year, year_to=year)
            return None if drilled == filters else _address(dashboard, drilled)

        return year_cell
    if slug == "trend-headline":
        dashboard = reverse("indicators:dashboard")
        return lambda _measure_key, year: _address(dashboard, replace(filters, year_from=year, year_to=year))
    if slug == "trend":
        dims = _trend_dims(query)
        page = reverse("indicators:trends")
        extra = [("dims", d) for d in dims] + measure

        def trend_cell(row_key, year):
            parts = row_key if isinstance(row_key, tuple) else (row_key,)
            return _filtered(
                page,
                replace(filters, year_from=year, year_to=year),
                dict(zip(dims, parts, strict=True)),
                dims=dims,
                extra=extra,
            )

        return trend_cell
    if slug.startswith("dimension-"):
        key = slug.removeprefix("dimension-")
        page = reverse("indicators:dimension", args=[key])
        return lambda code, _col: _filtered(page, filters, {key: code}, dims=[key], extra=measure)
    if slug == "crosstab":
        dims = _dims(query)
        page = reverse("indicators:intersections")
        extra = [("dims", d) for d in dims] + measure

        def crosstab_cell(row_key, col_key):
            parts = (*(row_key if isinstance(row_key, tuple) else (row_key,)), col_key)
            return _filtered(page, filters, dict(zip(dims, parts, strict=True)), dims=dims, extra=extra)

        return crosstab_cell
    if slug in catalogue.RELATION_SLUGS:
        other = slug.removeprefix("relation-")
        page = reverse("indicators:relations")
        dims = ["exploitation_form", other]
        return lambda form, value: _filtered(
            page, filters, {"exploitation_form": form, other: value}, dims=dims, anchor=f"report-{slug}"
        )
    if slug == catalogue.RESIDENCE.province_slug:
        return lambda province, _col: province_target(province, filters, choices=choices)
    if slug == catalogue.RESIDENCE.canton_slug:
        dashboard = reverse("indicators:dashboard")
        return lambda canton, _col: _filtered(dashboard, filters, {"residence_canton": canton}, dims=[])
    return None


def province_target(
    province: str,
    filters: Filters,
    *,
    choices: Mapping[str, frozenset[str]],
    canton_slug: str = catalogue.RESIDENCE.canton_slug,
) -> str | None:
    """From a province to its cantons: the maps page showing that province's cantons, at the canton map
    ``canton_slug`` (the canton maps take no profile or institution filter; with such filters, the overview
    filtered to the province instead)."""
    if province == NOT_RECORDED:
        return None
    if not filters.values and not filters.institution:
        query = [*filters.as_query(), (catalogue.ZOOM, str(province))]
        return f"{reverse('indicators:maps')}?{urlencode(query)}#report-{canton_slug}"
    return filtered_address(
        reverse("indicators:dashboard"), filters, {"residence_province": province}, dims=[], choices=choices
    )


def filtered_address(
    page: str,
    filters: Filters,
    added: Mapping[str, Hashable],
    *,
    dims: Sequence[str],
    choices: Mapping[str, frozenset[str]],
    extra: Sequence[tuple[str, str]] = (),
    anchor: str = "",
) -> str | None:
    """``page`` with ``added`` (dimension -> code) added to the filters, or None where the filter form would
    refuse them (a dimension it does not filter by, "not recorded", a value other than the one already chosen)
    or the selectors cannot combine them with ``dims`` (the page's own dimensions)."""
    values = dict(filters.values)
    institution = filters.institution
    for name, code in added.items():
        code = str(code)
        if code == NOT_RECORDED or code not in choices.get(name, ()):
            return None
        current = institution if name == INSTITUTION else values.get(name)
        if current not in (None, code):
            return None  # filtered to another value already: that cell is empty
        if name == INSTITUTION:
            institution = code
        else:
            values[name] = code
    drilled = replace(filters, values=values, institution=institution)
    if drilled == filters:
        return None  # the page is already filtered to this cell
    selector_filters = {**values, **({INSTITUTION: institution} if institution else {})}
    if not selectors.is_available(dims=dims, filters=selector_filters):
        return None
    return _address(page, drilled, extra=extra, anchor=anchor)


def _address(page: str, filters: Filters, *, extra: Sequence[tuple[str, str]] = (), anchor: str = "") -> str:
    query = urlencode([*filters.as_query(), *extra])
    return f"{page}{'?' + query if query else ''}{'#' + anchor if anchor else ''}"


def filter_choices() -> dict[str, frozenset[str]]:
    """The codes the page's filter form accepts, by filter name (cached with the form's choices)."""
    from accounts.models import Institution

    choices = {d.key: frozenset(str(v) for v, _label in d.values) for d in catalogue.filter_dimensions()}
    choices[INSTITUTION] = frozenset(
        Institution.objects.filter(kind=Institution.Kind.REPORTING).values_list("code", flat=True)
    )
    return choices


def _measure(query: Mapping) -> list[tuple[str, str]]:
    return [("measure", catalogue.measure_from(query))]


def _dims(query: Mapping) -> list[str]:
    return list(dict.fromkeys(query.getlist("dims") if hasattr(query, "getlist") else query.get("dims", [])))


def _trend_dims(query: Mapping) -> list[str]:
    from . import trends

    return trends.dims_from(query)
