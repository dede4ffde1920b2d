"""What every report page shares: the role check that maps an unknown report to 404, the page cache, the
filters parsed once per request, the page's context and one report's block (templates/indicators/_report.html).
The pages themselves are in indicators.views.pages, the files in indicators.views.files."""

from __future__ import annotations

from functools import wraps

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access

from .. import catalogue, drilldown
from ..forms import INSTITUTION, ReportFilterForm
from ..reporting import InvalidFilters, Report


def can_view_reports(view):
    """Decorate a report view (page, chart data, file): the reports' role check, then a report or dimension
    the catalogue does not hold (``catalogue.UnknownReport``, from a slug or a name in the address) is 404,
    as any address that names nothing. The one place the report views map it."""

    @wraps(view)
    def known_reports_only(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except catalogue.UnknownReport:
            raise Http404 from None

    return access.require(access.can_view_reports)(known_reports_only)


_PAGES = [
    ("dashboard", gettext_lazy("Overview")),
    ("dimensions", gettext_lazy("Disaggregations")),
    ("intersections", gettext_lazy("Intersections")),
    ("trends", gettext_lazy("Trends")),
    ("profiles", gettext_lazy("Profiles")),
    ("relations", gettext_lazy("Recruitment and exploitation")),
    ("maps", gettext_lazy("Maps")),
    ("quality", gettext_lazy("Data quality")),
    ("international", gettext_lazy("International formats")),
]


def cached_page(page: str, template: str, title):
    """Serve a page whose report content is already rendered (see page_cache_key) without rebuilding its
    context: only the title is needed around the cached content. ``title`` is the page title or a function of
    the view's keyword arguments.

    The one layer of the page cache: the content is read here once and handed to the template
    (``{% page_content %}``, indicators/templatetags/report_pages.py), or the view renders it from its full
    context and it is stored here once the page has answered 200. Nothing looks the content up twice, so an
    entry evicted in between cannot give (or store) a page without its figures."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            page_title = title(**kwargs) if callable(title) else title
            # Invalid filters are refused before anything cached is looked at: no figure for them, ever.
            try:
                _filter_form(request).filters()
            except InvalidFilters as refused:
                return refused_page(request, page_title, str(refused))
            key = catalogue.page_cache_key(request, page)
            content = cache.get(key)
            if content is not None:
                return render(request, template, {"page_title": page_title, "page_content": content})
            response = view(request, *args, **kwargs)
            rendered = getattr(request, "rendered_page_content", None)
            if response.status_code == 200 and rendered is not None:
                cache.set(key, rendered, catalogue.CACHE_SECONDS)
            return response

        return wrapped

    return decorator


def _filter_form(request) -> ReportFilterForm:
    """The request's filters, parsed once by the catalogue (``catalogue.filter_form``) for the whole request."""
    form = getattr(request, "_report_filter_form", None)
    if form is None:
        form = request._report_filter_form = catalogue.filter_form(request.GET)
    return form


def refused_page(request, title, message: str):
    """A report page asked for with invalid filters: 400, the refusal and the filter form with its errors, so
    that the person can correct them; no table, and nothing of it is cached."""
    response = render(
        request,
        "indicators/refused.html",
        {
            "page_title": title,
            "refusal": message,
            "filter_form": _filter_form(request),
            "filters_active": 0,
        },
        status=400,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _context(
    request,
    *,
    page: str,
    title: str,
    intro: str = "",
    form: ReportFilterForm | None = None,
    report_slug: str | None = None,
    **extra,
):
    """The page's context. ``report_slug`` names the report whose filters the panel shows: where it applies
    only some of them (``catalogue.applied_filters``), the others are disabled with the reason, left out of
    the panel's count and listed as not applied (their values stay in the address for the other pages)."""
    exact, k = catalogue.audience(request.user)
    filters = form.filters() if form is not None else None
    applies = catalogue.applied_filters(report_slug) if report_slug else None
    not_applied = []
    if form is not None and filters is not None and applies is not None and report_slug:
        reason = catalogue.filters_not_applied_reason(report_slug)
        for name in form.dimension_keys + [INSTITUTION]:
            if name not in applies:
                # Disabled in the page only (a disabled form field would show its initial value, not the
                # address's); the panel carries the value on in a hidden input.
                form.fields[name].widget.attrs["disabled"] = True
                form.fields[name].help_text = _("Does not apply here.")
        left_out = dict(filters.left_out(applies))
        not_applied = [
            f"{form.fields[name].label}: {dict(getattr(form.fields[name], 'choices', ())).get(value, value)}"
            for name, value in left_out.items()
        ]
        extra.setdefault("filters_reason", reason)
    context = {
        "page_title": title,
        "page_intro": intro,
        "data_as_of": catalogue.data_as_of_display(),
        "exact": exact,
        "k": k,
        "k_minus_1": k - 1,
        "filter_form": form,
        "filters_active": filters.restricted_to(applies).active_count if filters else 0,
        "filters_not_applied": not_applied,
        "query_string": filters.querystring() if filters else "",
        "report_nav": _report_nav(page),
    }
    context.update(extra)
    return context


def _report_nav(page: str) -> list[dict]:
    """The tabs of the report pages (templates/indicators/_report_nav.html), ``page`` marked as the current one."""
    return [{"url": reverse(f"indicators:{name}"), "label": label, "active": name == page} for name, label in _PAGES]


def _block(slug: str, request, filters, *, export_query: str, chart_kind: str | None = None, **options) -> dict:
    """One report for a page, or the reason it is not published (shown in its place)."""
    try:
        report = catalogue.build(slug, request.user, filters, request.GET)
    except catalogue.ReportUnavailable as refused:
        return {"unavailable": str(refused)}
    links = drilldown.links(report, filters=filters, query=request.GET)
    return report_block(report, export_query=export_query, chart_kind=chart_kind, links=links, **options)


def report_block(
    report: Report,
    *,
    export_query: str,
    chart_kind: str | None = None,
    links: drilldown.Links | None = None,
    **options,
) -> dict:
    """What templates/indicators/_report.html needs to show one report: rows with labels first, shares when
    asked, the totals row and the query string that rebuilds it as a chart or a file. ``links`` (from
    ``indicators.drilldown``) turn the body's cells into links to the report filtered to each cell."""
    label_count = max(len(report.row_dimensions), 1)
    shares: list[str | None] = (
        list(report.share_of_total()) if options.get("show_shares") else [None] * len(report.table.row_keys)
    )
    body = report.body()
    links = links or tuple(() for _ in body)
    rows = [
        {
            "cells": cells,
            "label_count": label_count,
            "share": share,
            # (text, address or None) for every cell of the row: labels, counts, totals and derived columns.
            "pairs": [
                (text, row_links[j - label_count] if 0 <= j - label_count < len(row_links) else None)
                for j, text in enumerate(cells)
            ],
        }
        for cells, share, row_links in zip(body, shares, links, strict=True)
    ]
    return {
        "report": report,
        "label_count": label_count,
        "rows": rows,
        "totals_row": report.totals_row() if report.show_totals_row else None,
        "export_query": export_query,
        "chart_kind": chart_kind,
        "has_links": any(link for row in links for link in row),
        **options,
    }


def _join(*parts: str) -> str:
    return "&".join(p for p in parts if p)
