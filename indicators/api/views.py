"""The indicators API: aggregates only, read from the indicator tables through indicators.selectors and
published through indicators.reporting (which applies indicators.disclosure for the user who asks, the same
layer as the report pages): analysts see small counts as "<k", coordinators exact counts. No record, no
identity data and no per-application row is reachable here."""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import CanViewReports
from indicators import catalogue, dimensions, exports, reporting, selectors, trends
from indicators.disclosure import SERIES_COLUMN, ProtectedCell

from . import serializers

TAG = "indicators"

# Every dimension can filter (one code each); together with the dimensions of the table at most three.
_FILTER_PARAMETERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.STR,
        required=False,
        description=str(dimension.label) + " — " + "code; empty: not recorded / código; vacío: sin dato",
    )
    for name, dimension in dimensions.DIMENSIONS.items()
]
_COMMON_PARAMETERS = [
    OpenApiParameter("measure", OpenApiTypes.STR, enum=sorted(dimensions.MEASURES), required=False),
    OpenApiParameter("year_from", {"type": "integer", "minimum": 1900, "maximum": 2999}, required=False),
    OpenApiParameter("year_to", {"type": "integer", "minimum": 1900, "maximum": 2999}, required=False),
]


def _cell(cell: ProtectedCell) -> dict:
    return {"value": cell.value, "display": cell.display, "status": cell.status}


def _row_head(report: reporting.Report, key) -> dict:
    """A row's code(s) and label(s): a one-dimension row has a one-element key, so clients read one shape."""
    return {"key": [str(p) for p in (key if isinstance(key, tuple) else (key,))], "labels": report.row_label_parts(key)}


def _about(table, *, query: dict, filters: dict) -> dict:
    """What every table answer closes with: its years, filters, the protection it carries and the data date."""
    return {
        "year_from": query.get("year_from"),
        "year_to": query.get("year_to"),
        "filters": filters,
        "disclosure_threshold": table.k,
        "exact": table.exact,
        "data_as_of": selectors.data_as_of(),
    }


def _measure(name: str) -> dict:
    measure = dimensions.MEASURES[name]
    return {"name": name, "label": str(measure.label), "definition": str(measure.definition)}


def _build(request, slug: str, *, measure: str | None, query: dict, dims: list[str] | None = None):
    """Build the report ``slug`` asked for with ``measure`` and ``dims`` (``_build_report``). Returns the report
    and the filters the request named."""
    report_query = QueryDict(mutable=True)
    if measure:
        report_query["measure"] = measure
    if dims:
        report_query.setlist("dims", dims)
    report, _filters = _build_report(request, slug, report_query=report_query, query=query)
    filters = {name: request.query_params[name] for name in dimensions.DIMENSIONS if name in request.query_params}
    return report, filters


def _build_report(request, slug: str, *, report_query: QueryDict, query: dict):
    """Build the report ``slug`` through the report catalogue (the same builders, caching and disclosure as
    the pages, charts and exports). The filters are parsed by the catalogue (``catalogue.api_filters``: the
    pages' form and refusal); invalid filters, and a combination that is not published, are a 400
    ``{"detail": reason}``; a name the catalogue does not hold is a 404. Returns the report and its Filters."""
    try:
        filters = catalogue.api_filters(
            request.query_params, year_from=query.get("year_from"), year_to=query.get("year_to")
        )
        report = catalogue.build(slug, request.user, filters, report_query)
    except catalogue.ReportUnavailable as refused:  # invalid filters (InvalidFilters) or an unpublished table
        raise exceptions.ValidationError({"detail": str(refused)}) from None
    except catalogue.UnknownReport:
        raise exceptions.NotFound from None
    return report, filters


def _answer(request, slug: str, *, measure: str, query: dict, dims: list[str] | None = None) -> dict:
    report, filters = _build(request, slug, measure=measure, query=query, dims=dims)
    row_dims = list(dims[:-1] if dims and len(dims) > 1 else dims or ["year"])
    col_dim = dims[-1] if dims and len(dims) > 1 else None
    return _table(report, measure=measure, row_dims=row_dims, col_dim=col_dim, query=query, filters=filters)


def _table(report: reporting.Report, *, measure: str, row_dims, col_dim, query: dict, filters: dict) -> dict:
    table = report.table
    rows = [
        {**_row_head(report, key), "cells": [_cell(c) for c in cells], "total": _cell(total)}
        for key, cells, total in zip(table.row_keys, table.cells, table.row_totals, strict=True)
    ]
    if col_dim is None:
        # One column, the count (whatever key the report gives it).
        columns = [{"code": SERIES_COLUMN, "label": str(dimensions.MEASURES[measure].label)}]
    else:
        columns = [{"code": str(c), "label": report.col_label(c)} for c in table.col_keys]
    involved = [*row_dims, *([col_dim] if col_dim else []), *filters]
    return {
        "measure": _measure(measure),
        "row_dimensions": list(row_dims),
        "column_dimension": col_dim,
        "columns": columns,
        "rows": rows,
        "column_totals": [_cell(c) for c in table.col_totals],
        "grand_total": _cell(table.grand_total if col_dim else table.col_totals[0]),
        "additive": not any(d in dimensions.MULTI_VALUED for d in involved),
        **_about(table, query=query, filters=filters),
    }


def _validated(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class _IndicatorView(APIView):
    permission_classes = [CanViewReports]


class CatalogueView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("What the indicators count and how they can be broken down"),
        description=_lazy(
            "Measures with their definitions, dimensions, years with data, the date the data is from, and the "
            "disclosure threshold that applies to you."
        ),
        responses=serializers.CatalogueSerializer,
    )
    def get(self, request):
        exact, k = reporting.audience(request.user)
        data = {
            "data_as_of": selectors.data_as_of(),
            "years": selectors.years_available(),
            "disclosure_threshold": k,
            "exact": exact,
            "measures": [_measure(name) for name in dimensions.MEASURES],
            "dimensions": [
                {"name": d.name, "label": str(d.label), "kind": d.kind, "multi_valued": d.multi_valued}
                for d in dimensions.DIMENSIONS.values()
            ],
        }
        return Response(serializers.CatalogueSerializer(data).data)


class DimensionValuesView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("The codes of one dimension, with labels"),
        responses=serializers.DimensionValuesSerializer,
    )
    def get(self, request, name: str):
        dimension = dimensions.DIMENSIONS.get(name)
        if dimension is None:
            raise exceptions.NotFound
        data = {
            "name": dimension.name,
            "label": str(dimension.label),
            "kind": dimension.kind,
            "multi_valued": dimension.multi_valued,
            "values": [{"code": code, "label": label} for code, label in dimension.labels().items()],
        }
        return Response(serializers.DimensionValuesSerializer(data).data)


class ByYearView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("One measure per year"),
        description=_lazy(
            "The measure per year with its total over the years (none for the pending stock), for the cell the "
            "filters select (e.g. ?measure=accredited&sex=F&nationality=NI). The same report as the pages: "
            "unless you are a coordinator, figures are perturbed by the cell key method and values from 1 to k-1 "
            'are shown as "<k".'
        ),
        parameters=[*_COMMON_PARAMETERS, *_FILTER_PARAMETERS],
        responses=serializers.TableSerializer,
    )
    def get(self, request):
        query = _validated(serializers.ByYearQuerySerializer, request)
        return Response(_answer(request, "measure-by-year", measure=query["measure"], query=query))


class CrosstabView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("A measure broken down by one to three dimensions"),
        description=_lazy(
            "Summed over the years asked. With one dimension, a series; with two, rows by the first and columns "
            "by the second; with three, rows by pairs of the first two. Dimensions plus filters may number at "
            "most three, and must be a precomputed combination (400 otherwise, with the reason). The same report "
            "catalogue and disclosure control as the report pages apply to every cell and total."
        ),
        parameters=[
            OpenApiParameter("dims", OpenApiTypes.STR, required=True, description="sex,age_group,nationality"),
            *_COMMON_PARAMETERS,
            *_FILTER_PARAMETERS,
        ],
        responses=serializers.TableSerializer,
    )
    def get(self, request):
        query = _validated(serializers.CrosstabQuerySerializer, request)
        dims = query["dims"]
        if len(dims) > reporting.MAX_CROSSTAB_DIMENSIONS:
            try:
                reporting.check_dimension_count(dims)
            except reporting.TooManyDimensions as error:
                raise exceptions.ValidationError({"dims": [str(error)]}) from None
        return Response(_answer(request, "breakdown", measure=query["measure"], query=query, dims=dims))


def _change(change: reporting.Change) -> dict:
    return {"value": change.value, "display": change.display, "status": change.status}


def _trend(report: reporting.Report, *, measure: str | None, row_dims: list[str], query: dict, filters: dict) -> dict:
    """A trend report (indicators.trends) in the API's shape: one row per category (or measure), one cell and
    one change per year, as the page's table."""
    table = report.table
    changes = report.extra["changes"]
    totals = report.show_totals_row
    return {
        "title": report.title,
        "measure": _measure(measure) if measure else None,
        "row_dimensions": row_dims,
        "years": list(table.col_keys),
        "rows": [
            {
                **_row_head(report, key),
                "cells": [_cell(c) for c in cells],
                "changes": [_change(c) for c in row_changes],
                "total": _cell(total),
            }
            for key, cells, row_changes, total in zip(
                table.row_keys, table.cells, changes, table.row_totals, strict=True
            )
        ],
        "year_totals": [_cell(c) for c in table.col_totals] if totals else None,
        "year_total_changes": [_change(c) for c in report.extra["total_changes"]] if totals else None,
        "grand_total": _cell(table.grand_total) if totals else None,
        **_about(table, query=query, filters=filters),
    }


class TrendView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("A measure by year for one dimension or a pair, with the change from the previous year"),
        description=_lazy(
            "The trend page's table (indicators.trends through the report catalogue): one row per value (or pair "
            "of values) of the dimensions, one cell per year, the total over the years, the totals per year, and "
            "the change of each from the previous year. Changes are the differences of the published values, "
            "hidden where either value is hidden. Dimensions plus filters may number at most three."
        ),
        parameters=[
            OpenApiParameter("dims", OpenApiTypes.STR, required=False, description="sex, or sex,nationality"),
            OpenApiParameter("measure", OpenApiTypes.STR, enum=list(catalogue.COUNT_MEASURES), required=False),
            *_COMMON_PARAMETERS[1:],
            *_FILTER_PARAMETERS,
        ],
        responses=serializers.TrendSerializer,
    )
    def get(self, request):
        query = _validated(serializers.TrendQuerySerializer, request)
        dims = query.get("dims") or [trends.DEFAULT_DIMENSION]
        report, filters = _build(request, "trend", measure=query["measure"], query=query, dims=dims)
        return Response(_trend(report, measure=query["measure"], row_dims=dims, query=query, filters=filters))


class TrendHeadlineView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("The key figures by year, with the change from the previous year"),
        description=_lazy(
            "Applications received, applications accredited and accredited victims (persons) per year, with "
            "their totals over the years and their changes: the trend page's first table."
        ),
        parameters=[*_COMMON_PARAMETERS[1:], *_FILTER_PARAMETERS],
        responses=serializers.TrendSerializer,
    )
    def get(self, request):
        query = _validated(serializers.TrendHeadlineQuerySerializer, request)
        report, filters = _build(request, "trend-headline", measure=None, query=query)
        return Response(_trend(report, measure=None, row_dims=["measure"], query=query, filters=filters))


def _report(report: reporting.Report, *, slug: str, about: exports.About, query) -> dict:
    """Any report of the catalogue in one shape: the page's table as it is shown (its columns, rows, totals and
    derived columns such as shares and rates) and what its files say about it."""
    table = report.table
    totals = report.show_totals_row
    derived = [values for _label, values in report.derived]
    return {
        "slug": slug,
        "title": report.title,
        "measures": [_measure(name) for name in catalogue.report_measures(slug, query)],
        "row_dimensions": [str(d) for d in report.row_dimensions],
        "columns": [{"code": str(c), "label": report.col_label(c)} for c in table.col_keys],
        "derived_columns": [str(label) for label, _values in report.derived],
        "rows": [
            {
                **_row_head(report, key),
                "cells": [_cell(c) for c in cells],
                "total": _cell(total),
                "derived": [str(values[i]) for values in derived],
            }
            for i, (key, cells, total) in enumerate(zip(table.row_keys, table.cells, table.row_totals, strict=True))
        ],
        "column_totals": [_cell(c) for c in table.col_totals] if totals else None,
        "grand_total": _cell(table.grand_total) if totals else None,
        "derived_totals": [str(v) for v in report.derived_totals],
        "additive": report.additive,
        "chart": str(report.extra.get("chart", "series")),
        "about": {name: str(value) for name, value in vars(about).items()},
        "disclosure_threshold": table.k,
        "exact": table.exact,
    }


class ReportView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("Any report of the portal's pages, by its name"),
        description=_lazy(
            "The table of a report page as the page shows it, built by the same report catalogue and disclosure "
            "control as the pages, charts and files: the flows between places (flows), profiles (profiles), the "
            "maps (map-province, map-canton, map-recruitment-canton, ?zoom=<province>), data quality "
            "(quality-completeness, quality-timeliness), the international formats (glotip-forms, "
            "glotip-citizenship, sdg-16-2-2-sex-age, sdg-16-2-2-form), relations (relation-means, ...), countries, "
            "timeliness, the overview by year (by-year) and each disaggregation (dimension-<name>). Filters as "
            "in the other answers; a report that applies only some of them says which it left out (about)."
        ),
        parameters=[
            OpenApiParameter("measure", OpenApiTypes.STR, enum=list(catalogue.COUNT_MEASURES), required=False),
            OpenApiParameter("zoom", OpenApiTypes.STR, required=False),
            OpenApiParameter("order", OpenApiTypes.STR, enum=["value"], required=False),
            OpenApiParameter("top", OpenApiTypes.STR, enum=["5", "10", "20"], required=False),
            *_COMMON_PARAMETERS[1:],
            *_FILTER_PARAMETERS,
        ],
        responses=serializers.ReportSerializer,
    )
    def get(self, request, slug: str):
        query = _validated(serializers.ReportQuerySerializer, request)
        report_query = QueryDict(mutable=True)
        for name in ("measure", "zoom", *catalogue.RANKING_PARAMETERS):
            if name in query:
                report_query[name] = query[name]
        report, filters = _build_report(request, slug, report_query=report_query, query=query)
        about = exports.describe(report, slug=slug, filters=filters, query=report_query)
        return Response(_report(report, slug=slug, about=about, query=report_query))
