"""The report catalogue: every published table by name (its slug), built from the indicator selectors for one
user through indicators.reporting.

Pages, chart-data views and exports call :func:`build` with the same slug and the same query string, so a
page, its chart and its CSV/XLSX always hold the same protected figures. The indicators API may call
:func:`build` too. Nothing here reads records: the selectors read the indicator tables."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404
from django.templatetags.static import static
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import dimensions as dims_module
from . import selectors
from .disclosure import ProtectedCell
from .forms import DimensionChoice, Filters, IntersectionForm
from .reporting import (
    NOT_SHOWN,
    Report,
    audience,
    median_if_enough,
    protect_headline,
    protect_measures_by_year,
    protect_series_report,
    protect_table_report,
    ratio,
    rate_per_100k,
)

__all__ = ["audience", "build", "dashboard"]

# --- What the selectors offer, in the shapes the reports need ------------------------------------------------

DEFAULT_MEASURE = "accredited_persons"


def _dimension(key: str):
    try:
        return dims_module.DIMENSIONS[key]
    except KeyError:
        raise Http404 from None


def dimension_label(key: str) -> str:
    return str(_dimension(key).label)


def dimension_values(key: str) -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in _dimension(key).values()]


def profile_dimensions() -> list[DimensionChoice]:
    return [
        DimensionChoice(key=d.key, label=str(d.label)) for d in dims_module.DIMENSIONS.values() if d.profile
    ]


def filter_dimensions() -> list[DimensionChoice]:
    return [DimensionChoice(key=d.key, label=str(d.label), values=dimension_values(d.key)) for d in profile_dimensions()]


def count_measures() -> list[dict]:
    return [{"key": m.key, "label": str(m.label)} for m in dims_module.MEASURES.values() if m.countable]


def measure(key: str):
    return dims_module.MEASURES[key]


def measure_from(query) -> str:
    key = query.get("measure") or DEFAULT_MEASURE
    return key if key in {m["key"] for m in count_measures()} else DEFAULT_MEASURE


def years() -> list[int]:
    return list(selectors.years_available())


def data_as_of_display() -> str:
    moment = selectors.data_as_of()
    if moment is None:
        return _("never computed")
    return formats.date_format(moment, "DATETIME_FORMAT" if hasattr(moment, "hour") else "DATE_FORMAT")


def _year_range(filters: Filters) -> tuple[int | None, int | None]:
    return filters.year_from, filters.year_to


def _selector_filters(filters: Filters) -> dict:
    values = dict(filters.values)
    if filters.institution:
        values["institution"] = filters.institution
    return values


def _years_shown(filters: Filters) -> list[int]:
    available = years()
    return [
        y
        for y in available
        if (filters.year_from is None or y >= filters.year_from) and (filters.year_to is None or y <= filters.year_to)
    ]


def _definition(measure_key: str) -> str:
    m = measure(measure_key)
    return str(m.definition)


# --- Dashboard -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    display: str
    definition: str
    hidden: bool = False


@dataclass(frozen=True)
class Overview:
    kpis: list[Kpi]
    by_year: Report
    timeliness: Report


DASHBOARD_MEASURES = ("received", "accredited_applications", "accredited_persons", "not_accredited", "pending")


def _by_year(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    shown = _years_shown(filters)
    measures = []
    for key in DASHBOARD_MEASURES:
        counts = selectors.measure_by_year(key, year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
        measures.append((key, str(measure(key).label), counts))
    definition = " ".join(f"{measure(k).label}: {measure(k).definition}" for k in DASHBOARD_MEASURES)
    return protect_measures_by_year(
        user,
        slug="by-year",
        title=_("Applications and decisions by year"),
        definition=definition,
        years=shown,
        measures=measures,
        year_label=_("Year"),
    )


def _timeliness(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    shown = _years_shown(filters)
    rows = selectors.timeliness_by_year(year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    decided = {y: rows[y]["decided"] for y in rows}
    within = {y: rows[y]["within_deadline"] for y in rows}
    report = protect_measures_by_year(
        user,
        slug="timeliness",
        title=_("Time to decision"),
        definition=_(
            "Applications decided in the year (by the date of the ERI's resolution); how many were decided within "
            "7 business days of receipt (Ley 9095; Costa Rican public holidays do not count); their share; and "
            "the median number of business days from receipt to decision."
        ),
        years=shown,
        measures=[
            ("decided", _("Decided"), decided),
            ("within_deadline", _("Within 7 business days"), within),
        ],
        year_label=_("Year"),
    )
    shares, medians = [], []
    for i, year in enumerate(shown):
        decided_cell, within_cell = report.table.cells[i]
        shares.append(ratio(within_cell, decided_cell))
        medians.append(median_if_enough(rows.get(year, {}).get("median_days"), decided_cell))
    return _with_derived(
        report,
        [(_("Share within 7 business days"), shares), (_("Median business days"), medians)],
        chart="series",
    )


def _with_derived(report: Report, derived: Sequence[tuple[str, Sequence[str]]], *, chart: str = "series") -> Report:
    return Report(
        slug=report.slug,
        title=report.title,
        definition=report.definition,
        table=report.table,
        row_dimensions=report.row_dimensions,
        row_labels=report.row_labels,
        col_labels=report.col_labels,
        value_label=report.value_label,
        additive=report.additive,
        note=report.note,
        extra={**report.extra, "chart": chart},
        derived=tuple((label, tuple(values)) for label, values in derived),
    )


def dashboard(user, filters: Filters) -> Overview:
    by_year = _by_year(user, filters)
    timeliness = _timeliness(user, filters)
    sel = _selector_filters(filters)
    year_from, year_to = _year_range(filters)
    headline = selectors.headline(year_from=year_from, year_to=year_to, filters=sel)

    def kpi(key: str, cell: ProtectedCell, label: str | None = None, definition: str | None = None) -> Kpi:
        return Kpi(
            key=key,
            label=label or str(measure(key).label),
            display=cell.display,
            definition=definition or str(measure(key).definition),
            hidden=cell.hidden,
        )

    col = {key: j for j, key in enumerate(by_year.table.col_keys)}
    decided_total = timeliness.table.col_totals[0]
    within_total = timeliness.table.col_totals[1]
    kpis = [
        kpi("received", by_year.table.col_totals[col["received"]]),
        kpi("accredited_persons", by_year.table.col_totals[col["accredited_persons"]]),
        kpi("open_now", protect_headline(user, headline["open_now"])),
        kpi("overdue_now", protect_headline(user, headline["overdue_now"])),
        Kpi(
            key="median_days",
            label=_("Median time to decision"),
            display=median_if_enough(headline.get("median_days"), decided_total),
            definition=_("Median business days from receipt to the ERI's decision, for the years shown."),
        ),
        Kpi(
            key="within_deadline",
            label=_("Decided within 7 business days"),
            display=ratio(within_total, decided_total),
            definition=_("Share of the applications decided in the years shown that were decided within the legal "
                         "deadline of 7 business days."),
        ),
    ]
    return Overview(kpis=kpis, by_year=by_year, timeliness=timeliness)


# --- One dimension, cross-tabs, profiles ---------------------------------------------------------------------


def _labels(*dimension_keys: str) -> dict:
    labels: dict = {}
    for key in dimension_keys:
        labels.update(dict(dimension_values(key)))
    return labels


def _dimension_report(user, key: str, filters: Filters, query) -> Report:
    measure_key = measure_from(query)
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(measure_key, [key], year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    values = dimension_values(key)
    keys = [v for v, _label in values]
    return protect_series_report(
        user,
        slug=f"dimension-{key}",
        title=_("%(measure)s by %(dimension)s") % {"measure": measure(measure_key).label, "dimension": dimension_label(key).lower()},
        definition=f"{_definition(measure_key)} {_dimension(key).definition}",
        keys=keys,
        counts={k[0] if isinstance(k, tuple) else k: n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=dimension_label(key),
        value_label=str(measure(measure_key).label),
    )


def _crosstab_report(user, filters: Filters, query) -> Report:
    form = IntersectionForm(query, dimensions=profile_dimensions())
    if not form.is_valid():
        raise Http404
    chosen = form.cleaned_data["dims"]
    measure_key = measure_from(query)
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(measure_key, chosen, year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    row_dims, col_dim = chosen[:-1], chosen[-1]
    value_lists = [[v for v, _l in dimension_values(d)] for d in row_dims]
    row_keys = [(a,) for a in value_lists[0]] if len(row_dims) == 1 else [(a, b) for a in value_lists[0] for b in value_lists[1]]
    col_keys = [v for v, _l in dimension_values(col_dim)]
    table_counts = {(tuple(key[:-1]), key[-1]): n for key, n in counts.items()}
    return protect_table_report(
        user,
        slug="crosstab",
        title=_("%(measure)s by %(dimensions)s")
        % {"measure": measure(measure_key).label, "dimensions": " × ".join(dimension_label(d).lower() for d in chosen)},
        definition=_definition(measure_key),
        row_keys=[k if len(k) > 1 else k[0] for k in row_keys],
        col_keys=col_keys,
        counts={(k[0] if len(k) == 1 else k, c): n for (k, c), n in table_counts.items()},
        row_dimensions=[dimension_label(d) for d in row_dims],
        labels=_labels(*row_dims),
        col_labels=dict(dimension_values(col_dim)),
    )


PROFILE_DIMENSIONS = ("sex", "age_group", "nationality", "exploitation_form")
PROFILES_LISTED = 20


def _profiles_report(user, filters: Filters, query) -> Report:
    year_from, year_to = _year_range(filters)
    counts = selectors.profiles(year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    full = protect_series_report(
        user,
        slug="profiles",
        title=_("Most frequent profiles of accredited victims"),
        definition=_(
            "Accredited victims (distinct persons, by the year of the ERI's decision) by their combination of sex, "
            "age group, nationality and form of exploitation. A person with two forms of exploitation or two "
            "nationalities is counted in each combination."
        ),
        keys=keys,
        counts=counts,
        labels=_labels(*PROFILE_DIMENSIONS),
        dimension_label=_("Profile"),
        value_label=_("Accredited victims"),
    )
    return _top_shown(full, PROFILES_LISTED)


def _top_shown(report: Report, limit: int) -> Report:
    """Keep the ``limit`` largest published rows of a protected series, and its protected total: dropping
    published rows publishes less, so the protection of the full series still holds."""
    from dataclasses import replace

    from .disclosure import ProtectedTable

    table = report.table
    listed = [i for i, row in enumerate(table.cells) if row[0].value][:limit]
    trimmed = ProtectedTable(
        row_keys=tuple(table.row_keys[i] for i in listed),
        col_keys=table.col_keys,
        cells=tuple(table.cells[i] for i in listed),
        row_totals=tuple(table.row_totals[i] for i in listed),
        col_totals=table.col_totals,
        grand_total=table.grand_total,
        k=table.k,
        exact=table.exact,
    )
    not_listed = len(table.row_keys) - len(listed)
    note = (
        _("%(n)s further combinations are not listed: they hold few people or are hidden to protect them.")
        % {"n": not_listed}
        if not_listed
        else ""
    )
    return replace(report, table=trimmed, note=note)


# --- Relations -----------------------------------------------------------------------------------------------

RELATION_SLUGS = ("relation-means", "relation-recruitment_method", "relation-control_method")


def _relation_report(user, other: str, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(
        DEFAULT_MEASURE, ["exploitation_form", other], year_from=year_from, year_to=year_to,
        filters=_selector_filters(filters),
    )
    rows = [v for v, _l in dimension_values("exploitation_form")]
    cols = [v for v, _l in dimension_values(other)]
    report = protect_table_report(
        user,
        slug=f"relation-{other}",
        title=_("Forms of exploitation by %(other)s") % {"other": dimension_label(other).lower()},
        definition=_(
            "Accredited victims (distinct persons, by the year of the ERI's decision) counted once for each "
            "pair of a form of exploitation and a %(other)s recorded in their case: a person can appear in "
            "several cells, so the totals count pairs, not people."
        )
        % {"other": dimension_label(other).lower()},
        row_keys=rows,
        col_keys=cols,
        counts={(a, b): n for (a, b), n in counts.items()},
        row_dimensions=[dimension_label("exploitation_form")],
        labels=dict(dimension_values("exploitation_form")),
        col_labels=dict(dimension_values(other)),
    )
    return _with_derived(report, [], chart="matrix")


def _flows_report(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    flows = selectors.flows(year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    origins = sorted({a for a, _b in flows.counts})
    destinations = sorted({b for _a, b in flows.counts})
    report = protect_table_report(
        user,
        slug="flows",
        title=_("From place of recruitment to place of exploitation"),
        definition=_(
            "Accredited victims by province (or country, abroad) where they were recruited and province or "
            "country where they were exploited. A person exploited in several places is counted in each flow."
        ),
        row_keys=origins,
        col_keys=destinations,
        counts=flows.counts,
        row_dimensions=[_("Place of recruitment")],
        labels=flows.labels,
        col_labels=flows.labels,
        note=_("Hidden flows are not drawn in the diagram; the table shows them as hidden."),
    )
    return _with_derived(report, [], chart="sankey")


def _countries_report(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(
        DEFAULT_MEASURE, ["exploitation_country"], year_from=year_from, year_to=year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values("exploitation_country")
    present = {k[0] if isinstance(k, tuple) else k for k in counts}
    keys = [v for v, _l in values if v in present]
    return protect_series_report(
        user,
        slug="countries",
        title=_("Countries of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, by the year of the ERI's decision) by each country where they "
            "were exploited; a person exploited in two countries is counted in both."
        ),
        keys=keys,
        counts={k[0] if isinstance(k, tuple) else k: n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=_("Country"),
        value_label=_("Accredited victims"),
    )


# --- Maps ----------------------------------------------------------------------------------------------------


def _province_map(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(
        DEFAULT_MEASURE, ["residence_province"], year_from=year_from, year_to=year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values("residence_province")
    report = protect_series_report(
        user,
        slug="map-province",
        title=_("Accredited victims by province of residence"),
        definition=_definition(DEFAULT_MEASURE),
        keys=[v for v, _l in values],
        counts={k[0] if isinstance(k, tuple) else k: n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=dimension_label("residence_province"),
        value_label=_("Accredited victims"),
    )
    areas = {
        str(key): {"value": row[0].value, "display": row[0].display, "label": report.row_label(key)}
        for key, row in zip(report.table.row_keys, report.table.cells, strict=True)
    }
    geo = {"level": "province", "geojson_url": static("geo/cr_provinces.geojson"), "code_property": "cod_provin", "areas": areas}
    return _with_derived(_with_extra(report, geo=geo), [], chart="choropleth")


def _canton_map(user, filters: Filters) -> Report:
    """Cantons of residence; a province any of whose cantons would be hidden is shown whole, with its province
    figure, on every one of its cantons ("rolled up"), instead of a map of hidden cells."""
    year_from, year_to = _year_range(filters)
    counts = selectors.crosstab(
        DEFAULT_MEASURE, ["residence_canton"], year_from=year_from, year_to=year_to,
        filters=_selector_filters(filters),
    )
    cantons = dimension_values("residence_canton")
    province_of = selectors.canton_provinces()
    canton_counts = {k[0] if isinstance(k, tuple) else k: n for k, n in counts.items()}
    province_report = _province_map(user, filters)
    provinces = [str(k) for k in province_report.table.row_keys]
    # Cantons as rows, their province as the one non-zero column: the column totals are the province figures,
    # so secondary suppression keeps hidden cantons from being worked out from the province totals.
    report = protect_table_report(
        user,
        slug="map-canton",
        title=_("Accredited victims by canton of residence"),
        definition=_definition(DEFAULT_MEASURE),
        row_keys=[c for c, _l in cantons],
        col_keys=provinces,
        counts={(c, province_of[c]): canton_counts.get(c, 0) for c, _l in cantons if c in province_of},
        row_dimensions=[dimension_label("residence_canton")],
        labels=dict(cantons),
        col_labels=dict(province_report.row_labels),
    )
    province_cells = {str(k): row[0] for k, row in zip(province_report.table.row_keys, province_report.table.cells, strict=True)}
    detailed = {
        p
        for p in provinces
        if province_cells[p].value is not None
        and all(
            report.table.row_totals[i].value is not None
            for i, c in enumerate(report.table.row_keys)
            if province_of.get(c) == p
        )
    }
    areas = {}
    series_counts = {}
    for i, canton in enumerate(report.table.row_keys):
        province = province_of.get(canton)
        cell = report.table.row_totals[i]
        if province in detailed:
            areas[str(canton)] = {"value": cell.value, "display": cell.display, "label": report.row_label(canton)}
            series_counts[canton] = cell
        else:
            whole = province_cells.get(province)
            label = _("%(canton)s (figure for the whole province of %(province)s)") % {
                "canton": report.row_label(canton),
                "province": province_report.row_label(province),
            }
            areas[str(canton)] = {
                "value": whole.value if whole else None,
                "display": whole.display if whole else NOT_SHOWN,
                "label": label,
            }
    geo = {"level": "canton", "geojson_url": static("geo/cr_cantons.geojson"), "code_property": "cod_canton", "areas": areas}
    series = protect_series_report(
        user,
        slug="map-canton",
        title=report.title,
        definition=report.definition,
        keys=[c for c, _l in cantons],
        counts={c: canton_counts.get(c, 0) for c, _l in cantons},
        labels=dict(cantons),
        dimension_label=dimension_label("residence_canton"),
        value_label=_("Accredited victims"),
    )
    # The table beside the map publishes the cantons' protected values from the canton x province table.
    table_report = _canton_table(report, series)
    return _with_derived(_with_extra(table_report, geo=geo), [], chart="choropleth")


def _canton_table(report: Report, series: Report) -> Report:
    from dataclasses import replace

    from .disclosure import ProtectedTable

    table = ProtectedTable(
        row_keys=report.table.row_keys,
        col_keys=series.table.col_keys,
        cells=tuple((cell,) for cell in report.table.row_totals),
        row_totals=report.table.row_totals,
        col_totals=(report.table.grand_total,),
        grand_total=report.table.grand_total,
        k=report.table.k,
        exact=report.table.exact,
    )
    return replace(series, table=table, note=_(
        "Where a province has a canton with a hidden count, the map shows the province's figure on all its "
        "cantons."
    ))


def _with_extra(report: Report, **extra) -> Report:
    from dataclasses import replace

    return replace(report, extra={**report.extra, **extra})


# --- Data quality --------------------------------------------------------------------------------------------


def _completeness_report(user, filters: Filters) -> Report:
    from dataclasses import replace

    year_from, year_to = _year_range(filters)
    rows = selectors.completeness(year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    # rows: {(institution, year): {"applications": n, "fields": {field: filled}}}
    keys = sorted(rows)
    fields = selectors.COMPLETENESS_FIELDS
    exact, _k = audience(user)
    applications = protect_series_report(
        user,
        slug="quality-completeness",
        title=_("Completeness of the records by institution and year"),
        definition=_(
            "Share of the applications received in the year (by date of receipt) in which each field is filled in. "
            "Shown only where the number of applications is itself shown."
        ),
        keys=keys,
        counts={key: rows[key]["applications"] for key in keys},
        labels={},
        dimension_label=_("Institution · year"),
        value_label=_("Applications"),
    )
    derived = []
    for field_key, field_label in fields:
        values = []
        for i, key in enumerate(keys):
            total = applications.table.cells[i][0]
            filled = rows[key]["fields"].get(field_key, 0)
            if total.value is None or not total.value:
                values.append(NOT_SHOWN)
            else:
                values.append(f"{100 * filled / total.value:.0f} %")
        derived.append((str(field_label), values))
    labelled = replace(
        applications,
        row_dimensions=(_("Institution"), _("Year")),
        row_labels={**{k[0]: k[0] for k in keys}, **{k[1]: str(k[1]) for k in keys}},
    )
    return _with_derived(labelled, derived, chart="none")


def _quality_timeliness_report(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    rows = selectors.timeliness_by_institution(year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    keys = sorted(rows)
    report = protect_measures_by_year(
        user,
        slug="quality-timeliness",
        title=_("Timeliness of decisions by institution"),
        definition=_(
            "Applications decided in the years shown, by referring institution: how many were decided within 7 "
            "business days of receipt, and the median business days to decision."
        ),
        years=keys,
        measures=[
            ("decided", _("Decided"), {k: rows[k]["decided"] for k in keys}),
            ("within_deadline", _("Within 7 business days"), {k: rows[k]["within_deadline"] for k in keys}),
        ],
        year_label=_("Institution"),
    )
    shares = [ratio(row[1], row[0]) for row in report.table.cells]
    medians = [median_if_enough(rows[k].get("median_days"), report.table.cells[i][0]) for i, k in enumerate(keys)]
    return _with_derived(report, [(_("Share within 7 business days"), shares), (_("Median business days"), medians)])


# --- International formats -----------------------------------------------------------------------------------

INTERNATIONAL_SLUGS = ("glotip-forms", "glotip-citizenship", "sdg-16-2-2")


def _glotip_forms(user, filters: Filters) -> Report:
    year_from, year_to = _year_range(filters)
    counts = selectors.glotip(["year", "sex", "child_adult", "exploitation_form"], year_from=year_from, year_to=year_to, filters=_selector_filters(filters))
    raise NotImplementedError


def _sdg(user, filters: Filters) -> Report:
    raise NotImplementedError


# --- The catalogue -------------------------------------------------------------------------------------------


CACHE_SECONDS = 600


def build(slug: str, user, filters: Filters, query: Mapping) -> Report:
    """The report ``slug`` for ``user``, filtered as asked; 404 for a name the catalogue does not hold.

    Reports are cached by what they depend on: the name, the audience (exact or protected at k, never the
    user), the filters and query, the language of the labels and the indicator version (data_as_of), so a
    recompute is seen at once and a coordinator's exact table is never served to an analyst."""
    exact, k = audience(user)
    key = _cache_key("report", slug, exact, k, filters.querystring(), _query_key(query))
    report = cache.get(key)
    if report is None:
        report = _build(slug, user, filters, query)
        cache.set(key, report, CACHE_SECONDS)
    return report


def _query_key(query: Mapping) -> str:
    pairs = []
    for name in ("measure", "dims"):
        values = query.getlist(name) if hasattr(query, "getlist") else ([query[name]] if name in query else [])
        pairs.extend((name, v) for v in values)
    return urlencode(pairs)


def _cache_key(*parts) -> str:
    raw = "|".join(str(p) for p in (*parts, get_language() or "", _version()))
    return "reports:" + hashlib.sha256(raw.encode()).hexdigest()


def _version() -> str:
    moment = selectors.data_as_of()
    return moment.isoformat() if moment else "none"


def _build(slug: str, user, filters: Filters, query: Mapping) -> Report:
    if slug == "by-year":
        return _by_year(user, filters)
    if slug == "timeliness":
        return _timeliness(user, filters)
    if slug.startswith("dimension-"):
        key = slug.removeprefix("dimension-")
        if key not in {d.key for d in profile_dimensions()}:
            raise Http404
        return _dimension_report(user, key, filters, query)
    if slug == "crosstab":
        return _crosstab_report(user, filters, query)
    if slug == "profiles":
        return _profiles_report(user, filters, query)
    if slug in RELATION_SLUGS:
        return _relation_report(user, slug.removeprefix("relation-"), filters)
    if slug == "flows":
        return _flows_report(user, filters)
    if slug == "countries":
        return _countries_report(user, filters)
    if slug == "map-province":
        return _province_map(user, filters)
    if slug == "map-canton":
        return _canton_map(user, filters)
    if slug == "quality-completeness":
        return _completeness_report(user, filters)
    if slug == "quality-timeliness":
        return _quality_timeliness_report(user, filters)
    raise Http404
