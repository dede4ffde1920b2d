"""Hostile query strings into every report page, chart and export (tests/test_security_hostile_input.py has the
values and the checks). The two tests share one recomputed data set (tests/conftest.py::report_data_module),
so they are a module of their own, and one xdist group."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import resolve, reverse

from .test_security_hostile_input import (
    _assert_safe,
    _assert_well_formed,
    _get,
    _hostile_queries,
    _QueryReader,
    _refused_or_ignored,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("report_data_hostile")]

_REPORT_ROLES = ("analyst_a", "coordinator_a", "officer_a")


def _report_filter_fields() -> set[str]:
    """The fields of the report pages' filter form, as the pages build it."""
    from indicators import catalogue
    from indicators.forms import ReportFilterForm

    return set(ReportFilterForm(years=catalogue.years(), dimensions=catalogue.filter_dimensions()).fields)


def _view_name(path: str) -> str | None:
    from django.urls import Resolver404

    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _report_pages(client) -> dict[str, tuple[str, str]]:
    """One address for each report view, found by following the report pages' own links from the overview
    (so a new report page is attacked too): view name -> (path, base query). The cross-tab needs two
    dimensions in its base query to build a table."""
    reports = reverse("indicators:dashboard")
    pages: dict[str, tuple[str, str]] = {}
    queue = [reports]
    while queue:
        path = queue.pop(0)
        name = _view_name(path).removeprefix("indicators:")
        if name in pages:
            continue
        pages[name] = (path, "dims=sex&dims=nationality" if name == "intersections" else "")
        if name == "annual_pdf":  # a PDF, not a page with links (tests/test_reports_annual.py)
            continue
        links = _QueryReader(client.get(path).content.decode()).links
        queue += [urlsplit(link).path for link in links if urlsplit(link).path.startswith(reports)]
    # The protection page explains the method: it has no filter form and reads no parameter; nor does the annual
    # report's PDF, whose only input is the year in its path, nor the saved views' list and delete pages (their
    # hostile input: tests/test_reports_saved_views.py).
    not_reports = ("chart", "export", "protection", "annual_pdf", "saved_views", "saved_view_delete")
    return {name: page for name, page in pages.items() if name not in not_reports}


def test_hostile_query_strings_into_every_field_of_every_report_page(report_data):
    """Every report page (overview, disaggregations, one dimension, intersections, profiles, relations, maps,
    quality, international formats), every field of its filter forms and every parameter of its links to
    itself (read from the rendered page), each hostile value (see ``_hostile_queries``); the three roles that
    may read reports take turns. No 500, nothing unescaped, the page is shown (a NUL byte is refused with 400
    before any view), and a hostile filter is refused (400: the refusal and the filter form with its error
    beside it, no figure) or ignored."""
    cast = report_data
    clients = [cast.client_for(getattr(cast, role)) for role in _REPORT_ROLES]
    together = _report_filter_fields()
    pages = _report_pages(clients[0])
    assert {"dashboard", "dimension", "intersections", "maps", "relations"} <= set(pages)
    sent = 0
    for index, (view, (path, base)) in enumerate(sorted(pages.items())):
        baseline = _QueryReader(clients[0].get(f"{path}?{base}").content.decode())
        names = sorted(baseline.query_names(path))
        assert together <= set(names), f"{view}: the filter form is missing"
        for kind, hostile in _hostile_queries(names, together, index):
            response = _get(clients[sent % len(clients)], path, base, hostile)
            label = f"{view} {kind} in {sorted(hostile)[0][:30]}{'...' if len(hostile) > 1 else ''}"
            _assert_safe(response, label)
            assert response.status_code in ((400,) if kind == "nul" else (200, 400)), f"{label}: {response.status_code}"
            if kind != "nul":
                if response.status_code == 400:  # refused filters: the reason, the form, no table
                    body = response.content.decode()
                    assert 'data-testid="filters-refused"' in body and 'data-testid="table-' not in body, label
                page = _QueryReader(response.content.decode())
                for name in hostile:
                    assert _refused_or_ignored(baseline, page, name), f"{label}: {name} neither refused nor ignored"
            sent += 1
    assert sent > 50


def test_hostile_query_strings_into_every_chart_and_export(report_data):
    """Every chart-data address and every CSV and XLSX export the report pages link to (read from the rendered
    pages, with the query strings they carry), attacked as the pages are (``_hostile_queries``), by the roles
    that may read reports in turn: no 500, no HTML, the chart data is valid JSON and the export a file that
    parses, or a 400 with the reason."""
    cast = report_data
    clients = [cast.client_for(getattr(cast, role)) for role in _REPORT_ROLES]
    together = _report_filter_fields()
    outputs: dict[str, str] = {}  # path -> the query string a page gives it
    for path, base in _report_pages(clients[0]).values():
        for link in _QueryReader(clients[0].get(f"{path}?{base}").content.decode()).links:
            target = urlsplit(link)
            if target.path and _view_name(target.path) in ("indicators:chart", "indicators:export"):
                outputs.setdefault(target.path, target.query)
    assert len([p for p in outputs if p.endswith(".xlsx")]) >= 15 and len(outputs) >= 40, sorted(outputs)
    sent = 0
    for index, (path, base) in enumerate(sorted(outputs.items())):
        names = sorted(together | {name for name, _ in parse_qsl(base)})
        for kind, hostile in _hostile_queries(names, together, index):
            response = _get(clients[sent % len(clients)], path, base, hostile)
            label = f"{path} {kind} in {sorted(hostile)[0][:30]}"
            _assert_well_formed(response, label)
            assert kind != "nul" or response.status_code == 400, f"{label}: {response.status_code}"
            sent += 1
    assert sent > 400
