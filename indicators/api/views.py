"""The indicators API: aggregates only, read from the indicator tables through indicators.selectors and
published through indicators.reporting (which applies indicators.disclosure for the user who asks, the same
layer as the report pages): analysts see small counts as "<k", coordinators exact counts. No record, no
identity data and no per-application row is reachable here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import CanViewReports
from indicators import dimensions, reporting, selectors
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


def _measure(name: str) -> dict:
    measure = dimensions.MEASURES[name]
    return {"name": name, "label": str(measure.label), "definition": str(measure.definition)}


def _filters(request, query_serializer) -> dict[str, str]:
    return {name: request.query_params[name] for name in dimensions.DIMENSIONS if name in request.query_params}


def _keys_in_order(dimension: str, present: set[str]) -> list[str]:
    """The dimension's codes that hold a count, in the dimension's display order (unknown ones last)."""
    order = list(dimensions.DIMENSIONS[dimension].labels())
    known = [code for code in order if code in present]
    return known + sorted(present - set(known))


def _table(report: reporting.Report, *, measure: str, row_dims, col_dim, query: dict, filters: dict) -> dict:
    table = report.table
    # Each dimension's labels are read once per answer (a label lookup may query the code lists).
    labels = {d: dimensions.DIMENSIONS[d].labels() for d in {*row_dims, col_dim} if d in dimensions.DIMENSIONS}

    def label(dimension: str, code) -> str:
        return labels[dimension].get(code, str(code)) if dimension in labels else str(code)

    rows = []
    for key, cells, total in zip(table.row_keys, table.cells, table.row_totals, strict=True):
        parts = list(key) if isinstance(key, tuple) else [key]
        rows.append(
            {
                "key": [str(p) for p in parts],
                "labels": [label(d, p) for d, p in zip(row_dims, parts, strict=True)],
                "cells": [_cell(c) for c in cells],
                "total": _cell(total),
            }
        )
    if col_dim is None:
        columns = [{"code": SERIES_COLUMN, "label": str(dimensions.MEASURES[measure].label)}]
    else:
        columns = [{"code": str(c), "label": label(col_dim, c)} for c in table.col_keys]
    involved = [*row_dims, *([col_dim] if col_dim else []), *filters]
    return {
        "measure": _measure(measure),
        "row_dimensions": list(row_dims),
        "column_dimension": col_dim,
        "columns": columns,
        "rows": rows,
        "column_totals": [_cell(c) for c in table.col_totals],
        "grand_total": _cell(table.grand_total),
        "additive": not any(d in dimensions.MULTI_VALUED for d in involved),
        "year_from": query.get("year_from"),
        "year_to": query.get("year_to"),
        "filters": filters,
        "disclosure_threshold": table.k,
        "exact": table.exact,
        "data_as_of": selectors.data_as_of(),
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
            "The measure per year with its total over the years, for the cell the filters select (e.g. "
            '?measure=accredited&sex=F&nationality=NI). Counts from 1 to k-1 are shown as "<k" and further '
            'cells hidden ("x") so none can be recovered from the total, unless you are a coordinator.'
        ),
        parameters=[*_COMMON_PARAMETERS, *_FILTER_PARAMETERS],
        responses=serializers.TableSerializer,
    )
    def get(self, request):
        query = _validated(serializers.ByYearQuerySerializer, request)
        filters = _filters(request, query)
        try:
            counts = selectors.measure_by_year(
                measure=query["measure"],
                year_from=query.get("year_from"),
                year_to=query.get("year_to"),
                filters=filters,
            )
        except ValueError as error:
            raise exceptions.ValidationError({"detail": str(error)}) from None
        years = sorted(counts)
        report = reporting.protect_series_report(
            request.user,
            slug="api-by-year",
            title=str(dimensions.MEASURES[query["measure"]].label),
            definition=str(dimensions.MEASURES[query["measure"]].definition),
            keys=years,
            counts=counts,
            labels={y: str(y) for y in years},
            dimension_label=pgettext("api", "Year"),
            value_label=str(dimensions.MEASURES[query["measure"]].label),
        )
        return Response(
            _table(report, measure=query["measure"], row_dims=["year"], col_dim=None, query=query, filters=filters)
        )


class CrosstabView(_IndicatorView):
    @extend_schema(
        tags=[TAG],
        summary=_lazy("A measure broken down by one to three dimensions"),
        description=_lazy(
            "Summed over the years asked. With one dimension, a series; with two, rows by the first and columns "
            "by the second; with three, rows by pairs of the first two. Dimensions plus filters may number at "
            "most three, and must be a precomputed combination (400 otherwise, with the reason). The same "
            "disclosure control as the report pages applies to every cell and total."
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
        filters = _filters(request, query)
        if len(dims) > reporting.MAX_CROSSTAB_DIMENSIONS:
            try:
                reporting.check_dimension_count(dims)
            except reporting.TooManyDimensions as error:
                raise exceptions.ValidationError({"dims": [str(error)]}) from None
        try:
            counts = selectors.crosstab(
                measure=query["measure"],
                dims=dims,
                year_from=query.get("year_from"),
                year_to=query.get("year_to"),
                filters=filters,
            )
        except ValueError as error:
            raise exceptions.ValidationError({"detail": str(error)}) from None
        measure = dimensions.MEASURES[query["measure"]]
        title, definition = str(measure.label), str(measure.definition)
        if len(dims) == 1:
            keys = _keys_in_order(dims[0], {key[0] for key in counts})
            report = reporting.protect_series_report(
                request.user,
                slug="api-crosstab",
                title=title,
                definition=definition,
                keys=keys,
                counts={key[0]: n for key, n in counts.items()},
                labels={},
                dimension_label=str(dimensions.DIMENSIONS[dims[0]].label),
                value_label=title,
            )
            return Response(
                _table(report, measure=query["measure"], row_dims=dims, col_dim=None, query=query, filters=filters)
            )
        row_dims, col_dim = dims[:-1], dims[-1]
        col_keys = _keys_in_order(col_dim, {key[-1] for key in counts})
        if len(row_dims) == 1:
            row_keys = _keys_in_order(row_dims[0], {key[0] for key in counts})
            table_counts = {(key[0], key[-1]): n for key, n in counts.items()}
        else:
            firsts = _keys_in_order(row_dims[0], {key[0] for key in counts})
            seconds = _keys_in_order(row_dims[1], {key[1] for key in counts})
            present = {key[:2] for key in counts}
            row_keys = [(a, b) for a in firsts for b in seconds if (a, b) in present]
            table_counts = {(key[:2], key[-1]): n for key, n in counts.items()}
        report = reporting.protect_table_report(
            request.user,
            slug="api-crosstab",
            title=title,
            definition=definition,
            row_keys=row_keys,
            col_keys=col_keys,
            counts=table_counts,
            row_dimensions=[str(dimensions.DIMENSIONS[d].label) for d in row_dims],
            labels={},
            col_labels={},
        )
        return Response(
            _table(report, measure=query["measure"], row_dims=row_dims, col_dim=col_dim, query=query, filters=filters)
        )
