"""Report pages. Thin: read the filters from the address, ask the report catalogue (indicators.reporting) for
protected reports, render. Chart data and exports (indicators.charts, indicators.exports) rebuild the same
reports from the same address, so a page, its charts and its files always agree."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access
from accounts.models import AccessEvent

from . import annual, catalogue, disclosure, drilldown, exports, saved_views, trends
from .forms import INSTITUTION, IntersectionForm, ReportFilterForm
from .models import SavedView
from .reporting import InvalidFilters, Report


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


@can_view_reports
@cached_page("dashboard", "indicators/dashboard.html", gettext_lazy("Applications and accredited victims"))
def dashboard(request):
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    overview = catalogue.dashboard(request.user, filters)
    return render(
        request,
        "indicators/dashboard.html",
        _context(
            request,
            page="dashboard",
            title=_("Applications and accredited victims"),
            intro=_(
                "Applications for accreditation of victim status received by the ERI, its decisions and how long "
                "they took. Pick years, an institution or a profile to narrow every figure on this page."
            ),
            form=form,
            overview=overview,
            annual_years=catalogue.years(),
            by_year=report_block(
                overview.by_year,
                export_query=query,
                chart_kind="bar",
                links=drilldown.links(overview.by_year, filters=filters, query=request.GET),
            )
            if overview.by_year
            else {"unavailable": overview.unavailable},
            timeliness=report_block(overview.timeliness, export_query=query, chart_kind="line")
            if overview.timeliness
            else {"unavailable": overview.timeliness_unavailable},
        ),
    )


@can_view_reports
def protection(request):
    """How analysts' figures are protected: the method and its published parameters (the record keys are the
    secret, not the method)."""
    exact, k = catalogue.audience(request.user)
    table = disclosure.current_table()
    return render(
        request,
        "indicators/protection.html",
        {
            "page_title": _("How the figures are protected"),
            "exact": exact,
            "k": k,
            "k_minus_1": k - 1,
            "k_public": settings.DISCLOSURE_K_PUBLIC,
            "max_deviation": table.max_deviation,
            "variance": table.variance,
            "probabilities": [
                {"noise": f"{e:+d}" if e else "0", "percent": f"{100 * p:.2f}"}
                for e, p in table.probabilities(1000).items()
            ],
        },
    )


@can_view_reports
@cached_page("dimensions", "indicators/dimensions.html", gettext_lazy("Disaggregations"))
def dimensions(request):
    form = _filter_form(request)
    return render(
        request,
        "indicators/dimensions.html",
        _context(
            request,
            page="dimensions",
            title=_("Disaggregations"),
            intro=_("Accredited victims and applications by one profile dimension at a time."),
            form=form,
            dimensions=catalogue.profile_dimensions(),
        ),
    )


@can_view_reports
@cached_page("dimensions", "indicators/dimension.html", lambda key: catalogue.dimension_label(key))
def dimension(request, key: str):
    if key not in {d.key for d in catalogue.profile_dimensions()}:
        raise Http404
    form = _filter_form(request)
    filters = form.filters()
    measure = catalogue.measure_from(request.GET)
    block = _block(
        f"dimension-{key}",
        request,
        filters,
        export_query=_join(filters.querystring(), f"measure={measure}", catalogue.ranking_query(request.GET)),
        chart_kind="bar",
        horizontal=True,
        show_shares=True,
        chart_size="lg",
    )
    return render(
        request,
        "indicators/dimension.html",
        _context(
            request,
            page="dimensions",
            title=catalogue.dimension_label(key),
            form=form,
            dimensions=catalogue.profile_dimensions(),
            current=key,
            measure=measure,
            measures=catalogue.count_measures(),
            rb=block,
        ),
    )


@can_view_reports
@cached_page("intersections", "indicators/intersections.html", gettext_lazy("Intersections"))
def intersections(request):
    form = _filter_form(request)
    filters = form.filters()
    picker = IntersectionForm(
        request.GET if "dims" in request.GET else None, dimensions=catalogue.crossable_dimensions()
    )
    measure = catalogue.measure_from(request.GET)
    block = percentages = None
    if picker.is_bound and picker.is_valid():
        dims_query = urlencode([("dims", d) for d in picker.cleaned_data["dims"]])
        block = _block(
            "crosstab",
            request,
            filters,
            export_query=_join(filters.querystring(), dims_query, f"measure={measure}"),
            chart_kind="bar",
            stacked=True,
            chart_size="lg",
        )
        if "report" in block:
            percentages = [
                {"label": row["cells"][: row["label_count"]], "values": values}
                for row, values in zip(block["rows"], block["report"].row_percentages(), strict=True)
            ]
    return render(
        request,
        "indicators/intersections.html",
        _context(
            request,
            page="intersections",
            title=_("Intersections"),
            intro=_(
                "Cross two or three dimensions, for example sex, age group and nationality. Filters count as "
                "dimensions: together, at most three. Row percentages are computed from the published counts only."
            ),
            form=form,
            picker=picker,
            measure=measure,
            measures=catalogue.count_measures(),
            rb=block,
            percentages=percentages,
        ),
    )


@can_view_reports
@cached_page("trends", "indicators/trends.html", gettext_lazy("Trends"))
def trends_page(request):
    """The headline figures by year, and a measure by year for one dimension or a pair, with the change from
    the previous year (indicators.trends)."""
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    measure = catalogue.measure_from(request.GET)
    try:
        dims = trends.dims_from(request.GET)
        refused = ""
    except catalogue.ReportUnavailable as error:
        dims, refused = [trends.DEFAULT_DIMENSION], str(error)
    dims_query = urlencode([("dims", d) for d in dims])
    chart = {"chart_kind": "line", "chart_size": "lg"}
    headline = _block("trend-headline", request, filters, export_query=query, **chart)
    block = (
        {"unavailable": refused}
        if refused
        else _block("trend", request, filters, export_query=_join(query, dims_query, f"measure={measure}"), **chart)
    )
    return render(
        request,
        "indicators/trends.html",
        _context(
            request,
            page="trends",
            title=_("Trends"),
            intro=_(
                "Each figure year by year, with the change from the previous year: the key figures, and any "
                "dimension or pair of dimensions of the intersections page. Changes are computed from the "
                "published figures, so a hidden value gives a hidden change."
            ),
            form=form,
            dimensions=trends.trend_dimensions(),
            dims=dims + [""] * (trends.MAX_DIMENSIONS - len(dims)),
            measure=measure,
            measures=catalogue.count_measures(),
            headline=headline,
            rb=block,
        ),
    )


@can_view_reports
@cached_page("profiles", "indicators/profiles.html", gettext_lazy("Profiles of accredited victims"))
def profiles(request):
    form = _filter_form(request)
    filters = form.filters()
    return render(
        request,
        "indicators/profiles.html",
        _context(
            request,
            page="profiles",
            title=_("Profiles of accredited victims"),
            intro=_(
                "The most frequent combinations of sex, age group, nationality and form of exploitation among "
                "accredited victims."
            ),
            form=form,
            report_slug="profiles",
            rb=_block("profiles", request, filters, export_query=filters.querystring(), show_shares=True),
        ),
    )


@can_view_reports
@cached_page("relations", "indicators/relations.html", gettext_lazy("Recruitment and exploitation"))
def relations(request):
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    return render(
        request,
        "indicators/relations.html",
        _context(
            request,
            page="relations",
            title=_("Recruitment and exploitation"),
            intro=_(
                "How people were exploited, by which means and methods they were recruited and controlled, and "
                "where they were recruited and exploited."
            ),
            form=form,
            blocks=[
                *(
                    _block(slug, request, filters, export_query=query, chart_kind="matrix", chart_size="lg")
                    for slug in catalogue.RELATION_SLUGS
                ),
                _block("flows", request, filters, export_query=query, chart_kind="sankey", chart_size="lg"),
                _block(
                    "countries",
                    request,
                    filters,
                    export_query=query,
                    chart_kind="bar",
                    horizontal=True,
                    show_shares=True,
                ),
            ],
        ),
    )


@can_view_reports
@cached_page("maps", "indicators/maps.html", gettext_lazy("Maps"))
def maps(request):
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    # From a province to its cantons (indicators.drilldown): the canton maps, their charts and files show the
    # province asked for.
    zoom = request.GET.get(catalogue.ZOOM)
    canton_query = _join(query, urlencode([(catalogue.ZOOM, zoom)])) if zoom else query
    credit = "Fuente: IGN – SNIT"
    return render(
        request,
        "indicators/maps.html",
        _context(
            request,
            page="maps",
            title=_("Maps"),
            intro=_(
                "Accredited victims by province and canton of residence, and by canton of recruitment. Where a "
                "canton's count is small, its province's figure is shown instead of a map of hidden values."
            ),
            form=form,
            blocks=[
                _block(
                    slug,
                    request,
                    filters,
                    export_query=query if slug == "map-province" else canton_query,
                    chart_kind="choropleth",
                    chart_size="map",
                    credit=credit,
                )
                for slug in ("map-province", *catalogue.CANTON_MAPS)
            ],
        ),
    )


@can_view_reports
@cached_page("quality", "indicators/quality.html", gettext_lazy("Data quality"))
def quality(request):
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    return render(
        request,
        "indicators/quality.html",
        _context(
            request,
            page="quality",
            title=_("Data quality"),
            intro=_("How complete the records are, and how quickly applications are decided, by institution."),
            form=form,
            blocks=[
                _block(slug, request, filters, export_query=query)
                for slug in ("quality-completeness", "quality-timeliness")
            ],
        ),
    )


@can_view_reports
@cached_page("international", "indicators/international.html", gettext_lazy("International formats"))
def international(request):
    form = _filter_form(request)
    filters = form.filters()
    query = filters.querystring()
    return render(
        request,
        "indicators/international.html",
        _context(
            request,
            page="international",
            title=_("International formats"),
            intro=_(
                "Tables shaped for UNODC's Global Report on Trafficking in Persons (GLOTIP) questionnaire and for "
                "SDG indicator 16.2.2."
            ),
            form=form,
            report_slug=catalogue.INTERNATIONAL_SLUGS[0],
            blocks=[_block(slug, request, filters, export_query=query) for slug in catalogue.INTERNATIONAL_SLUGS],
        ),
    )


@can_view_reports
def export(request, slug: str, fmt: str):
    if fmt not in exports.FORMATS:
        raise Http404
    try:
        filters = _filter_form(request).filters()
        report = catalogue.build(slug, request.user, filters, request.GET)
    except catalogue.ReportUnavailable as refused:  # invalid filters (InvalidFilters) or an unpublished table
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    access.log_access(request, AccessEvent.Action.EXPORT, object_type="report", object_id=slug, detail=fmt)
    about = exports.describe(report, slug=slug, filters=filters, query=request.GET)
    return exports.respond(report, fmt, about=about)


@can_view_reports
def annual_pdf(request, year: int):
    """The annual statistical report of ``year`` as a PDF (indicators.annual): the same protected figures as
    the pages, for this user; logged as an export. A year without indicators is 404."""
    if year not in catalogue.years():
        raise Http404(_("There are no indicators for that year."))
    report = annual.annual_report_build(year=year, user=request.user)
    pdf = annual.annual_report_pdf(report)
    access.log_access(
        request, AccessEvent.Action.EXPORT, object_type="report", object_id="annual", detail=f"pdf {year}"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{annual.filename(year)}"'
    return response


def _join(*parts: str) -> str:
    return "&".join(p for p in parts if p)


# --- Saved views (indicators.saved_views): a named link to a report page with its filters ----------------------


@can_view_reports
def saved_view_list(request):
    """The user's own saved views: name, report, filters, date, and links to open, copy or delete each."""
    mine = list(saved_views.saved_views_of(user=request.user))
    return render(
        request,
        "indicators/saved_views.html",
        {
            "page_title": _("My saved views"),
            "rows": _saved_view_rows(request, mine),
            "report_nav": _report_nav(""),
        },
    )


@can_view_reports
@require_POST
def saved_view_create(request):
    """Save the report the form was on (``templates/indicators/_save_view.html``) and go back to it, with the
    success or the refusal as a message: the report is never lost, and never left for another address."""
    path, query = request.POST.get("path", ""), request.POST.get("query", "")
    try:
        saved = saved_views.saved_view_create(
            owner=request.user, name=request.POST.get("name", ""), path=path, query=query
        )
    except ValidationError as refused:
        for refusal in refused.messages:
            messages.error(request, refusal)
        return redirect(_back_to_report(path, query))
    messages.success(request, _('The view "%(name)s" was saved. Find it in "My saved views".') % {"name": saved.name})
    return redirect(saved.url)


@can_view_reports
@require_http_methods(["GET", "POST"])
def saved_view_delete(request, pk: int):
    """Delete one of the user's saved views: GET asks for confirmation, POST deletes. Another user's saved view
    answers 404, like one that does not exist."""
    try:
        saved = saved_views.saved_view_of(user=request.user, saved_view_id=pk)
    except SavedView.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        try:
            saved_views.saved_view_delete(owner=request.user, saved_view_id=pk)
        except SavedView.DoesNotExist:  # deleted meanwhile (another tab)
            raise Http404 from None
        messages.success(request, _('The saved view "%(name)s" was deleted.') % {"name": saved.name})
        return redirect("indicators:saved_views")
    return render(
        request,
        "indicators/saved_view_delete.html",
        {"page_title": _("Delete a saved view"), "saved": saved, "report": _saved_view_title(saved)},
    )


def _back_to_report(path: str, query: str) -> str:
    """Where a refused save returns: the report, with as much of its address as passes the saved views' own
    checks (so a refusal cannot be turned into a redirect elsewhere); the overview when even the path fails."""
    try:
        path = saved_views.report_path_clean(path)
    except ValidationError:
        return reverse("indicators:dashboard")
    try:
        query = saved_views.report_query_clean(query)
    except ValidationError:
        query = ""
    return f"{path}?{query}" if query else path


def _saved_view_title(saved: SavedView) -> str:
    """The report's title as its page names it, or the path for a page that is no longer a report."""
    try:
        match = resolve(saved.path)
    except Resolver404:
        return saved.path
    if match.url_name == "dimension":
        try:
            return f"{_('Disaggregations')}: {catalogue.dimension_label(match.kwargs['key'])}"
        except catalogue.UnknownReport:
            return saved.path
    return str(dict(_PAGES).get(match.url_name or "", saved.path))


def _saved_view_rows(request, views: list[SavedView]) -> list[dict]:
    """Each saved view with its report's title, its filters in words (the labels of the filter panel) and its
    full address for the copy-link box."""
    if not views:
        return []
    fields = catalogue.filter_form(None).fields
    measures = {m["key"]: m["label"] for m in catalogue.count_measures()}

    def dimension(key: str) -> str:
        try:
            return catalogue.dimension_label(key)
        except KeyError:
            return key

    # In the filter panel's order (years first), then what is counted and crossed, then anything else.
    order = {name: i for i, name in enumerate([*fields, "measure", "dims"])}

    def summary(query: str) -> list[str]:
        parts = []
        for name, values in sorted(QueryDict(query).lists(), key=lambda item: order.get(item[0], len(order))):
            if name in fields:
                choices = dict(getattr(fields[name], "choices", ()))
                parts.append(f"{fields[name].label}: {', '.join(str(choices.get(v, v)) for v in values)}")
            elif name == "measure":
                parts.append(f"{_('What to count')}: {', '.join(str(measures.get(v, v)) for v in values)}")
            elif name == "dims":
                parts.append(f"{_('Dimensions')}: {', '.join(dimension(v) for v in values)}")
            else:
                parts.append(f"{name}: {', '.join(values)}")
        return parts

    return [
        {
            "saved": saved,
            "title": _saved_view_title(saved),
            "filters": summary(saved.query),
            "link": request.build_absolute_uri(saved.url),
        }
        for saved in views
    ]
