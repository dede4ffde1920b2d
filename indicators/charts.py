"""Chart data as JSON, built on django-chartjs's views (only its views: its bundled, older Chart.js static files
are never served; the pages load Chart.js 4 from static/vendor).

Each view rebuilds the report named in the address through the report catalogue, for the user who asks, so a
chart shows exactly the protected figures of the table beside it. Hidden values are sent as ``null`` with
their display text ("<5") for the tooltip, never as numbers."""

from __future__ import annotations

from chartjs.views.lines import BaseLineChartView
from django.http import JsonResponse
from django.utils.decorators import method_decorator

from . import catalogue, drilldown, exports, trends
from .reporting import Report
from .views import can_view_reports


@method_decorator(can_view_reports, name="dispatch")
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
        # Where a click on each value leads: the same addresses as the table's links.
        self.links = drilldown.links(self.report, filters=filters, query=request.GET)
        self.filters = filters
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
            dataset["links"] = source["links"]
        return datasets

    def get_context_data(self, **kwargs):
        kind = self.report.extra.get("chart", "series")
        if kind == "matrix":
            return matrix_payload(self.report, self.links)
        if kind == "sankey":
            return sankey_payload(self.report)
        if kind == "choropleth":
            return map_payload(self.report, self.links, self.filters)
        if kind == "trend":
            return trends.chart_payload(self.report)
        columns = self.report.extra.get("chart_columns")
        self.chart = self.report.chart_series(columns=columns)
        chosen = [j for j, col in enumerate(self.report.table.col_keys) if columns is None or col in columns]
        for dataset, j in zip(self.chart["datasets"], chosen, strict=True):
            dataset["links"] = [row[j] for row in self.links]
        context = super().get_context_data(**kwargs)
        context.pop("view", None)
        context["title"] = self.report.title
        return context

    def render_to_response(self, context, **response_kwargs):
        context = {**context, "about": self.about.as_json()}
        response = super().render_to_response(context)
        response["Cache-Control"] = "private, no-store"
        return response


def matrix_payload(report: Report, links: drilldown.Links | None = None) -> dict:
    """A heat map of the table's cells (not its totals): x is the column, y the row; ``url`` where a click on the
    cell leads (``indicators.drilldown``)."""
    x_labels = [report.col_label(key) for key in report.table.col_keys]
    y_labels = [report.row_label(key) for key in report.table.row_keys]
    cells = [
        {
            "x": x_labels[j],
            "y": y_labels[i],
            "v": cell.value,
            "display": cell.display,
            "url": links[i][j] if links else None,
        }
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


def map_payload(report: Report, links: drilldown.Links, filters) -> dict:
    """A choropleth's areas (``extra["geo"]``, built by the catalogue) with the address each area leads to: a
    canton or a province to its report filtered to it, a province drawn whole (rolled up) to its cantons."""
    geo = report.extra["geo"]
    by_key = {str(key): row[0] if row else None for key, row in zip(report.table.row_keys, links, strict=True)}
    areas = {code: {**area, "url": by_key.get(code)} for code, area in geo["areas"].items()}
    payload = {"title": report.title, **geo, "areas": areas}
    if geo.get("rolled_up"):
        choices = drilldown.filter_choices()
        payload["rolled_up"] = {
            code: {
                **area,
                "url": None
                if geo.get("zoom")
                else drilldown.province_target(code, filters, choices=choices, canton_slug=report.slug),
            }
            for code, area in geo["rolled_up"].items()
        }
    return payload
