"""Report pages. Thin: read the filters from the address, ask the report catalogue (indicators.reporting) for
protected reports, render. Chart data and exports (indicators.charts, indicators.exports) rebuild the same
reports from the same address, so a page, its charts and its files always agree."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import catalogue, disclosure, drilldown, trends
from ..forms import IntersectionForm
from .base import _block, _context, _filter_form, _join, cached_page, can_view_reports, report_block


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
