"""The catalogue itself: each report's slug and its builder, ``build`` (which caches and protects what they
return), and what each report applies and counts, for its page's filter panel and its files' metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.utils.translation import gettext as _

from ..dimensions import PROFILE_SET
from ..forms import ORDER, TOP, Filters
from ..reporting import Report, ReportUnavailable, audience
from . import breakdowns, international, maps, overview, profiles, quality
from .base import DEFAULT_MEASURE, UnknownReport, _any_measure, measure_from, profile_dimensions
from .caching import CACHE_SECONDS, _cache_key
from .international import INTERNATIONAL_SLUGS
from .maps import CANTON_MAPS, ZOOM
from .overview import DASHBOARD_MEASURES
from .profiles import RELATION_SLUGS

# --- The builders, by slug -----------------------------------------------------------------------------------

# Every builder has one signature, ``builder(user, filters, query) -> Report``; those that serve several slugs
# (a canton map per geography, a relation per case fact, a disaggregation per dimension) get their parameter
# bound by name here, so the table says which slug builds what.
Builder = Callable[[Any, Filters, Mapping], Report]


def _trend(user, filters: Filters, query: Mapping) -> Report:
    return _trends().trend_report(user, filters, query)


def _trend_headline(user, filters: Filters, query: Mapping) -> Report:
    return _trends().headline_report(user, filters, query)


BUILDERS: dict[str, Builder] = {
    "by-year": overview.by_year_report,
    "timeliness": overview.timeliness_report,
    "measure-by-year": breakdowns.measure_by_year_report,
    "breakdown": breakdowns.breakdown_report,
    "crosstab": breakdowns.crosstab_report,
    "profiles": profiles.profiles_report,
    "flows": profiles.flows_report,
    "countries": profiles.countries_report,
    **{slug: partial(profiles.relation_report, other=slug.removeprefix("relation-")) for slug in RELATION_SLUGS},
    "map-province": maps.province_map,
    **{slug: partial(maps.canton_map, geography=geography) for slug, geography in CANTON_MAPS.items()},
    "quality-completeness": quality.completeness_report,
    "quality-timeliness": quality.quality_timeliness_report,
    "glotip-forms": international.glotip_forms_report,
    "glotip-citizenship": international.glotip_citizenship_report,
    "sdg-16-2-2-sex-age": international.sdg_sex_age_report,
    "sdg-16-2-2-form": international.sdg_form_report,
    "trend": _trend,
    "trend-headline": _trend_headline,
}


def _trends():
    # indicators.trends builds on the catalogue's helpers, so it is imported when first asked for.
    from .. import trends

    return trends


# --- What each report applies and counts (its pages' filter panel, its files' and charts' metadata) ---------


def applied_filters(slug: str) -> frozenset[str] | None:
    """The filters the report ``slug`` applies besides the years (which every report applies): ``None`` for
    all of them. ``build`` hands a report only these, so what the page, its files and its chart say about the
    filters is what the figures are. The canton maps are not named: they refuse any other filter instead."""
    if slug == "profiles":
        # The profiles are the cells of sex x age group x nationality x form: a value of one of the four
        # selects some of those very cells; any other dimension is not in them.
        return frozenset(PROFILE_SET)
    if slug in INTERNATIONAL_SLUGS or slug == "flows":
        # The international formats count every victim detected in the country, as the questionnaires ask;
        # the flows are a cell set of the two places alone.
        return frozenset()
    return None


def filters_not_applied_reason(slug: str) -> str:
    """Why the report ``slug`` leaves some filters out, in the user's language ("" when it applies all)."""
    if slug == "profiles":
        return _(
            "Profiles are counted from the table of sex, age group, nationality and form of exploitation "
            "together, which holds no other dimension: only the years and those four filters apply here."
        )
    if slug in INTERNATIONAL_SLUGS:
        return _(
            "The international formats count every victim detected in the country, as the UNODC and SDG "
            "questionnaires ask: only the years apply here."
        )
    if slug == "flows":
        return _("Filters other than the years do not apply here.")
    return ""


def report_measures(slug: str, query) -> tuple[str, ...]:
    """What the report ``slug`` counts (keys of ``MEASURES``), for the metadata of its files and charts."""
    if slug == "by-year":
        return DASHBOARD_MEASURES
    if slug == "trend-headline":
        return _trends().HEADLINE_MEASURES
    if slug in ("timeliness", "quality-timeliness"):
        return ("decided", "decided_within_deadline")
    if slug == "quality-completeness":
        return ("received",)
    if slug in ("measure-by-year", "breakdown"):
        return (_any_measure(query),)
    if slug in ("crosstab", "trend") or slug.startswith("dimension-"):
        return (measure_from(query),)
    return (DEFAULT_MEASURE,)


def _builder(slug: str) -> Builder:
    if slug.startswith("dimension-"):
        key = slug.removeprefix("dimension-")
        if key not in {d.key for d in profile_dimensions()}:
            raise UnknownReport(slug)
        return partial(breakdowns.dimension_report, key=key)
    try:
        return BUILDERS[slug]
    except KeyError:
        raise UnknownReport(slug) from None


def build(slug: str, user, filters: Filters, query: Mapping) -> Report:
    """The report ``slug`` for ``user``, filtered as asked; UnknownReport for a name the catalogue does not hold;
    ReportUnavailable (with the reason) for a combination that is not published.

    Reports are cached by what they depend on: the name, the audience (exact, or protected at k; never the
    user), the filters and query, the language of the labels and the indicator version (data_as_of), so a
    recompute is seen at once and a coordinator's exact table is never served to an analyst."""
    builder = _builder(slug)
    filters = filters.restricted_to(applied_filters(slug))
    exact, k = audience(user)
    key = _cache_key("report", slug, exact, k, filters.querystring(), _query_key(query))
    cached = cache.get(key)
    if cached is None:
        try:
            cached = builder(user, filters, query)
        except ReportUnavailable as refused:
            cached = refused
        cache.set(key, cached, CACHE_SECONDS)
    if isinstance(cached, ReportUnavailable):
        raise cached
    return cached


def _query_key(query: Mapping) -> str:
    pairs: list[tuple[str, str]] = []
    for name in ("measure", "dims", ZOOM, ORDER, TOP):
        values = query.getlist(name) if hasattr(query, "getlist") else ([query[name]] if name in query else [])
        pairs.extend((name, v) for v in values)
    return urlencode(pairs)
