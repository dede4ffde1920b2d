"""The public statistics page (``/estadisticas/``): a fixed set of tables open without login, the same for
everyone who opens it, logged in or not.

Every figure comes from the report catalogue (``catalogue.build``) or from the selectors through
``indicators.reporting``, for the public audience (``reporting.PUBLIC``): the cell key perturbation of the
analysts' figures, unchanged, so the same cell publishes the same value here as on their pages, and values
from 1 to k-1 shown as "<k" with the public threshold (``settings.DISCLOSURE_K_PUBLIC``, read by
``disclosure.threshold``). Nothing here takes a filter from the address: the tables are fixed, so the
release an outsider can collect is this page and its CSV files, nothing more.

Two tables group the codes of a dimension (child/adult from the four GLOTIP victim groups, regions of
nationality from the countries): their cells are sums of the selectors' exact counts, which carry their cell
keys (``disclosure.Count``), so each group is protected as a cell of its own, never as a sum of perturbed
values.

The whole release is cached under the indicator version (``catalogue.data_as_of``) and the language: a
recompute changes the version, so the next request builds it again."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import QueryDict
from django.utils import formats
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from . import catalogue, selectors, trends
from .dimensions import DIMENSIONS, NOT_RECORDED
from .forms import Filters
from .reporting import NOT_SHOWN, PUBLIC, Report, ReportUnavailable, audience, protect_table_report, rate_per_100k

CACHE_SECONDS = 3600
SOURCE = "CONATT, portal de indicadores"
MEASURE = "accredited_persons"

# The four GLOTIP victim groups folded into child / adult (child: under 18 at recruitment).
CHILD_ADULT = {"GIRL": "CHILD", "BOY": "CHILD", "WOMAN": "ADULT", "MAN": "ADULT"}
CHILD_ADULT_LABELS = {"CHILD": gettext_lazy("Children (under 18)"), "ADULT": gettext_lazy("Adults (18 and over)")}

# Regions of nationality: the portal's own country, then UN M49 sub-regions for the Americas and continents
# elsewhere (country_converter's classification), in this order.
NATIONAL = "NATIONAL"
REGIONS = {
    "Central America": "CENTRAL_AMERICA",
    "Caribbean": "CARIBBEAN",
    "South America": "SOUTH_AMERICA",
    "Northern America": "NORTHERN_AMERICA",
    "Europe": "EUROPE",
    "Asia": "ASIA",
    "Africa": "AFRICA",
    "Oceania": "OCEANIA",
}
REGION_LABELS = {
    "CENTRAL_AMERICA": gettext_lazy("Central America"),
    "CARIBBEAN": gettext_lazy("Caribbean"),
    "SOUTH_AMERICA": gettext_lazy("South America"),
    "NORTHERN_AMERICA": gettext_lazy("North America"),
    "EUROPE": gettext_lazy("Europe"),
    "ASIA": gettext_lazy("Asia"),
    "AFRICA": gettext_lazy("Africa"),
    "OCEANIA": gettext_lazy("Oceania"),
    "OTHER": gettext_lazy("Other or stateless"),
}


@dataclass(frozen=True)
class PublicTable:
    """One table of the page: its report (protected for the public), how the page draws it, and its file."""

    slug: str
    report: Report
    chart: str = ""  # "" (table only), "bar" or "choropleth"

    @property
    def label_count(self) -> int:
        return max(len(self.report.row_dimensions), 1)


@dataclass(frozen=True)
class PublicRelease:
    tables: tuple[PublicTable, ...]
    years: tuple[int, ...]
    k: int
    data_as_of: str
    population_missing: tuple[int, ...] = ()

    def table(self, slug: str) -> PublicTable:
        for table in self.tables:
            if table.slug == slug:
                return table
        raise KeyError(slug)

    @property
    def years_text(self) -> str:
        return catalogue._year_span(self.years)


# --- The tables ----------------------------------------------------------------------------------------------


def _no_filters() -> Filters:
    return Filters()


def _without_changes(report: Report) -> Report:
    """A trend without its "change" columns: the page shows the figures; the changes are differences of them."""
    return replace(report, derived=(), derived_totals=())


def _headline() -> Report:
    report = catalogue.build("trend-headline", PUBLIC, _no_filters(), QueryDict())
    return replace(_without_changes(report), title=_("Key figures by year"))


def _trend(dimension: str, title: str) -> Report:
    query = QueryDict(mutable=True)
    query["measure"] = MEASURE
    query.setlist("dims", [dimension])
    report = catalogue.build("trend", PUBLIC, _no_filters(), query)
    # The trend's note speaks of its chart's lines too; this page draws no chart of it.
    note = (
        _("A case with several values of %(dims)s counts under each of them, so totals count pairs, not cases.")
        % {"dims": catalogue.dimension_label(dimension).lower()}
        if DIMENSIONS[dimension].multi_valued
        else ""
    )
    return replace(_without_changes(report), title=title, note=note)


def _grouped_by_year(dimension: str, group_of: Callable[[str], str], order: list[str], labels: Mapping, **texts):
    """The accredited victims by year and by groups of a dimension's codes: each group's count is the sum of
    its codes' exact counts with their keys, protected as one cell (rows: groups, columns: years)."""
    years = trends.year_span(_no_filters())
    try:
        counts = selectors.crosstab_by_year(measure=MEASURE, dims=[dimension])
    except ValueError as refused:
        raise ReportUnavailable(str(refused)) from None
    grouped: dict[tuple[Hashable, Hashable], int] = {}
    for (year, code), n in counts.items():
        if year in years:
            key = (group_of(code), year)
            grouped[key] = grouped.get(key, 0) + n
    present = {group for group, _year in grouped}
    rows: list[Hashable] = [g for g in order if g in present or g in labels]
    rows += sorted((present - set(rows)), key=str)
    report = protect_table_report(
        PUBLIC,
        row_keys=rows,
        col_keys=years,
        counts=grouped,
        labels={**{k: str(v) for k, v in labels.items()}, NOT_RECORDED: str(_("Not recorded"))},
        col_labels={y: str(y) for y in years},
        value_label=catalogue._measure_label(MEASURE),
        **texts,
    )
    return report


def _child_adult() -> Report:
    return _grouped_by_year(
        "victim_group",
        lambda code: CHILD_ADULT.get(code, NOT_RECORDED),
        ["CHILD", "ADULT", NOT_RECORDED],
        CHILD_ADULT_LABELS,
        slug="public-child-adult",
        title=_("Accredited victims by year: children and adults"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision). A child is a person under "
            "18 at recruitment; where the age or the sex is not recorded, the person is counted as not recorded."
        ),
        row_dimensions=[_("Age")],
    )


@lru_cache(maxsize=1)
def _country_regions() -> dict[str, str]:
    import country_converter

    from .dimensions import _countries

    codes = list(_countries())
    converter = country_converter.CountryConverter()
    subregions = converter.convert(codes, src="ISO2", to="UNregion", not_found=None)
    continents = converter.convert(codes, src="ISO2", to="continent", not_found=None)
    regions = {}
    for code, subregion, continent in zip(codes, subregions, continents, strict=True):
        if subregion in REGIONS and continent == "America":
            regions[code] = REGIONS[subregion]
        elif continent == "Australia":
            regions[code] = "OCEANIA"
        else:
            regions[code] = REGIONS.get(continent, "OTHER")
    return regions


def _region_of(code: str) -> str:
    if code == NOT_RECORDED:
        return NOT_RECORDED
    if code == settings.PORTAL_COUNTRY:
        return NATIONAL
    return _country_regions().get(code, "OTHER")


def _regions() -> Report:
    from .dimensions import _countries

    national = _countries().get(settings.PORTAL_COUNTRY, settings.PORTAL_COUNTRY)
    labels = {NATIONAL: national, **REGION_LABELS}
    return _grouped_by_year(
        "nationality",
        _region_of,
        [NATIONAL, *REGIONS.values(), "OTHER", NOT_RECORDED],
        labels,
        slug="public-nationality-region",
        title=_("Accredited victims by year and region of nationality"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by the region of their "
            "first recorded nationality: the portal's own country apart, the other countries of the Americas by "
            "the United Nations' sub-regions (M49), the rest by continent."
        ),
        row_dimensions=[_("Region of nationality")],
    )


def _province_map() -> Report:
    report = catalogue.build("map-province", PUBLIC, _no_filters(), QueryDict())
    years = catalogue.years()
    return replace(
        report,
        title=_("Accredited victims by province of residence, %(years)s") % {"years": catalogue._year_span(years)},
    )


def _sdg(persons: Report) -> tuple[Report, tuple[int, ...]]:
    """SDG 16.2.2 by year: the accredited victims of each year (the very cells of the key figures) per 100,000
    residents. Where the population of a year has not been entered, the page says so instead of a rate."""
    from records.models import Population

    row = persons.table.row_keys.index(MEASURE)
    years = tuple(int(y) for y in persons.table.col_keys)  # type: ignore[call-overload]  # the key figures' columns are years
    population: dict[int, int] = {}
    for year, n in Population.objects.filter(year__in=years).values_list("year", "population"):
        population[year] = population.get(year, 0) + n
    missing = tuple(y for y in years if not population.get(y))
    no_population = _("no population data")
    cells = persons.table.cells[row]
    rates = tuple(
        rate_per_100k(cell, population.get(year)) if population.get(year) else no_population
        for year, cell in zip(years, cells, strict=True)
    )
    populations = tuple(
        formats.number_format(population[y], force_grouping=True) if population.get(y) else no_population for y in years
    )
    # One row per year: the published count, the population and the rate (derived from the published count).
    table = persons.table.transposed().columns([row])
    report = Report(
        slug="public-sdg-16-2-2",
        title=_("SDG 16.2.2: accredited victims per 100,000 population"),
        definition=_(
            "Indicator 16.2.2 of the Sustainable Development Goals: victims of trafficking in persons per 100,000 "
            "population. Here: accredited victims (distinct persons, in the year of the ERI's decision), as "
            "published in the key figures, per 100,000 residents in that year. The population is entered by an "
            "administrator from the national statistics office's estimates."
        ),
        table=table,
        row_dimensions=(_("Year"),),
        row_labels={y: str(y) for y in years},
        col_labels={MEASURE: catalogue._measure_label(MEASURE)},
        value_label=catalogue._measure_label(MEASURE),
        derived=((_("Population"), populations), (_("Victims per 100,000"), rates)),
        additive=False,
        show_totals_row=False,
        note=_("The population of %(years)s has not been entered: no rate is computed for those years.")
        % {"years": ", ".join(str(y) for y in missing)}
        if missing
        else "",
    )
    return report, missing


def _build() -> PublicRelease:
    _exact, k = audience(PUBLIC)
    headline = _headline()
    tables = [PublicTable("public-headline", headline)]
    sdg, missing = _sdg(headline)
    builders = [
        ("public-sex", lambda: _trend("sex", _("Accredited victims by year and sex")), ""),
        ("public-child-adult", _child_adult, ""),
        (
            "public-exploitation-form",
            lambda: _trend("exploitation_form", _("Accredited victims by year and form of exploitation")),
            "",
        ),
        ("public-nationality-region", _regions, ""),
        ("public-province-map", _province_map, "choropleth"),
    ]
    for slug, builder, chart in builders:
        try:
            tables.append(PublicTable(slug, replace(builder(), slug=slug), chart))
        except ReportUnavailable:  # not published (no indicators yet): the page and its files leave it out
            continue
    tables.append(PublicTable("public-sdg-16-2-2", sdg))
    return PublicRelease(
        tables=tuple(tables),
        years=tuple(catalogue.years()),
        k=k,
        data_as_of=catalogue.data_as_of_display(),
        population_missing=missing,
    )


def cache_key(*parts) -> str:
    """The key of anything of the public page: the language and the indicator version, nothing about who asks."""
    raw = "|".join(str(p) for p in ("public", *parts, get_language() or "", catalogue._version()))
    return "public:" + hashlib.sha256(raw.encode()).hexdigest()


def release() -> PublicRelease:
    """Every table of the public page, protected for the public, cached until the next recompute."""
    key = cache_key("release")
    found = cache.get(key)
    if found is None:
        found = _build()
        cache.set(key, found, CACHE_SECONDS)
    return found


SLUGS = (
    "public-headline",
    "public-sex",
    "public-child-adult",
    "public-exploitation-form",
    "public-nationality-region",
    "public-province-map",
    "public-sdg-16-2-2",
)


def csv_content(table: PublicTable, release_: PublicRelease) -> str:
    """A table as CSV: its title, the years, the protection and the source, then exactly the page's rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    report = table.report
    writer.writerow([report.title])
    writer.writerow([_("Years"), release_.years_text])
    writer.writerow(
        [
            _("Protection"),
            _(
                "Every figure is changed by a small amount (cell key method), the same in every table; values "
                'from 1 to %(km1)s are shown as "<%(k)s".'
            )
            % {"k": release_.k, "km1": release_.k - 1},
        ]
    )
    writer.writerow([_("Source"), SOURCE])
    writer.writerow([_("Data as of"), release_.data_as_of])
    writer.writerow([_("Definition"), report.definition])
    if report.note:
        writer.writerow([_("Note"), report.note])
    writer.writerow([])
    for row in report.export_rows():
        writer.writerow([_spreadsheet_safe(v) for v in row])
    return out.getvalue()


def _spreadsheet_safe(value) -> str:
    text = str(value)
    # "<10" and "-2" are figures, not formulas; a label starting with "=", "+" or "@" is quoted.
    return "'" + text if text[:1] in ("=", "+", "@") else text


__all__ = ["NOT_SHOWN", "PublicRelease", "PublicTable", "SLUGS", "SOURCE", "csv_content", "release"]
