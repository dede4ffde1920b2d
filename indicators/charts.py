"""Chart data as JSON, built on django-chartjs's views (only its views: its bundled, older Chart.js static files
are never served; the pages load Chart.js 4 from static/vendor).

Each view rebuilds the report named in the address through the report catalogue, for the user who asks, so a
chart shows exactly the protected figures of the table beside it. Hidden values are sent as ``null`` with
their display text ("<5") for the tooltip, never as numbers."""

from __future__ import annotations

from chartjs.views.lines import BaseLineChartView
from django.http import JsonResponse
from django.utils.decorators import method_decorator

from accounts import access

from . import catalogue, exports, trends
from .reporting import Report


@method_decorator(access.require(access.can_view_reports), name="dispatch")
class ReportChartView(BaseLineChartView):
    """Labels and datasets for a bar or line chart of one report (django-chartjs's line/bar JSON shape:
    ``{"labels": [...], "datasets": [{"label", "data"}]}``), plus each value's display text. Reports drawn
    as a heat map, a Sankey diagram or a choropleth get their own shapes (see ``get_context_data``)."""

    def get(self, request, *args, **kwargs):
        try:
            filters = catalogue.filter_form(request.GET).filters()
            self.report: Report = catalogue.build(kwargs["slug"], request.user, filters, request.GET)
        except catalogue.ReportUnavailable as refused:  # invalid filters (InvalidFilters) or an unpublished table
            return JsonResponse({"error": str(refused)}, status=400)
        # What the chart is, drawn into its PNG image (static/js/reports-charts.js) as the files state it.
        self.about = exports.describe(self.report, slug=kwargs["slug"], filters=filters, query=request.GET)
        return super().get(request, *args, **kwargs)

    def get_labels(self):
        return self.chart["labels"]

    def get_providers(self):
        return [dataset["label"] for dataset in self.chart["datasets"]]

    def get_data(self):
        return [dataset["data"] for dataset in self.chart["datasets"]]

    def get_datasets(self):
        datasets = super().get_datasets()
        for dataset, source in zip(datasets, self.chart["datasets"], strict=True):
            dataset["display"] = source["display"]
        return datasets

    def get_context_data(self, **kwargs):
        kind = self.report.extra.get("chart", "series")
        if kind == "matrix":
            return matrix_payload(self.report)
        if kind == "sankey":
            return sankey_payload(self.report)
        if kind == "choropleth":
            return {"title": self.report.title, **self.report.extra["geo"]}
        if kind == "trend":
            return trends.chart_payload(self.report)
        self.chart = self.report.chart_series(columns=self.report.extra.get("chart_columns"))
        context = super().get_context_data(**kwargs)
        context.pop("view", None)
        context["title"] = self.report.title
        return context

    def render_to_response(self, context, **response_kwargs):
        context = {**context, "about": self.about.as_json()}
        response = super().render_to_response(context)
        response["Cache-Control"] = "private, no-store"
        return response


def matrix_payload(report: Report) -> dict:
    """A heat map of the table's cells (not its totals): x is the column, y the row."""
    x_labels = [report.col_label(key) for key in report.table.col_keys]
    y_labels = [report.row_label(key) for key in report.table.row_keys]
    cells = [
        {"x": x_labels[j], "y": y_labels[i], "v": cell.value, "display": cell.display}
        for i, row in enumerate(report.table.cells)
        for j, cell in enumerate(row)
    ]
    return {"title": report.title, "x_labels": x_labels, "y_labels": y_labels, "cells": cells}


def sankey_payload(report: Report) -> dict:
    """Flows from a row (place of recruitment) to a column (place or country of exploitation). Hidden and zero
    flows are not drawn (a band's width would show its value); the table lists them as "<k".
    Node ids carry a side prefix so that a place that is both origin and destination does not loop."""
    flows, labels = [], {}
    for i, row_key in enumerate(report.table.row_keys):
        for j, col_key in enumerate(report.table.col_keys):
            cell = report.table.cells[i][j]
            if cell.value:
                source, target = f"from:{row_key}", f"to:{col_key}"
                labels[source] = report.row_label(row_key)
                labels[target] = report.col_label(col_key)
                flows.append({"from": source, "to": target, "flow": cell.value, "display": cell.display})
    return {"title": report.title, "flows": flows, "labels": labels}
