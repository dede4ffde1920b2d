"""The maps: provinces of residence, and cantons of residence or of recruitment, each canton map protected
against its province series (a province with a hidden canton is drawn whole, with its own figure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import cast

from django.templatetags.static import static
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import selectors
from ..dimensions import NOT_RECORDED
from ..disclosure import ProtectedCell
from ..forms import Filters
from ..reporting import Report, ReportUnavailable, protect_series_report
from .base import (
    DEFAULT_MEASURE,
    _call,
    _measure_definition,
    _measure_total,
    _one,
    _selector_filters,
    dimension_label,
    dimension_values,
    total_note,
)


@dataclass(frozen=True)
class _Geography:
    """Where a map places people: where they live or where they were recruited. ``canton`` is a one-way cell
    set only (see ``NOT_CROSSABLE``), so its map takes no profile or institution filter. The province series
    (``province_slug``) is what the canton map is protected against and rolls up to; only the one of residence
    is also a map of its own."""

    province: str
    canton: str
    province_slug: str
    canton_slug: str
    province_title: Promise
    canton_title: Promise
    place_note: Promise | None
    filters_refused: Promise


RESIDENCE = _Geography(
    province="residence_province",
    canton="residence_canton",
    province_slug="map-province",
    canton_slug="map-canton",
    province_title=gettext_lazy("Accredited victims by province of residence"),
    canton_title=gettext_lazy("Accredited victims by canton of residence"),
    place_note=None,
    filters_refused=gettext_lazy(
        "The canton map is drawn without profile or institution filters; the province map applies them."
    ),
)
RECRUITMENT = _Geography(
    province="recruitment_province",
    canton="recruitment_canton",
    province_slug="recruitment-province",
    canton_slug="map-recruitment-canton",
    province_title=gettext_lazy("Accredited victims by province of recruitment"),
    canton_title=gettext_lazy("Accredited victims by canton of recruitment"),
    place_note=gettext_lazy(
        "The place of recruitment is the canton of the district where the person was recruited; people "
        'recruited abroad, or whose district is not recorded, are not on this map (the page "Recruitment and '
        'exploitation" shows countries of recruitment).'
    ),
    filters_refused=gettext_lazy("The map of cantons of recruitment is drawn without profile or institution filters."),
)
# The canton maps, in the order the maps page shows them (after the province map of residence).
CANTON_MAPS = {geography.canton_slug: geography for geography in (RESIDENCE, RECRUITMENT)}


def _map_definition(geography: _Geography) -> str:
    definition = _measure_definition(DEFAULT_MEASURE)
    return f"{definition} {geography.place_note}" if geography.place_note else definition


def _province_series(user, filters: Filters, geography: _Geography = RESIDENCE) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=[geography.province],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values(geography.province)
    return protect_series_report(
        user,
        slug=geography.province_slug,
        title=str(geography.province_title),
        definition=_map_definition(geography),
        keys=[v for v, _l in values],
        counts={_one(k): n for k, n in counts.items()},
        labels=dict(values),
        dimension_label=dimension_label(geography.province),
        value_label=_("Accredited victims"),
        note=total_note(DEFAULT_MEASURE, [geography.province]),
        total=_measure_total(DEFAULT_MEASURE, filters),
    )


def province_map(user, filters: Filters, query: Mapping) -> Report:
    report = _province_series(user, filters)
    areas = {
        str(key): {"value": row[0].value, "display": row[0].display, "label": report.row_label(key)}
        for key, row in zip(report.table.row_keys, report.table.cells, strict=True)
        if key != NOT_RECORDED
    }
    geo = {
        "level": "province",
        "geojson_url": static("geo/cr_provinces.geojson"),
        "code_property": "cod_provin",
        "areas": areas,
    }
    return replace(report, extra={"chart": "choropleth", "geo": geo})


def _canton_provinces() -> dict[str, str]:
    from records.models import Canton

    return dict(Canton.objects.values_list("code", "province_id"))


# The address's province whose cantons a canton map shows alone (the drill-down from a province to its
# cantons): not a filter of the cells, only a choice of rows and areas already published.
ZOOM = "zoom"


def canton_map(user, filters: Filters, query: Mapping, *, geography: _Geography) -> Report:
    """Cantons of residence or of recruitment (``geography``), each a protected count of its own. On the map, a
    province whose total or any of whose cantons is hidden is "rolled up": drawn as one area, the province,
    with the province's own figure (never that figure painted on each of its cantons, nor a map of hidden
    cells), and the note names the provinces drawn so. The colour scale is the script's, from the areas drawn.

    With ``zoom`` (a province code) the table lists that province's cantons only and the map draws that
    province alone: a subset of the figures of the whole map, plus the province's own figure as its total."""
    if filters.values or filters.institution:
        raise ReportUnavailable(str(geography.filters_refused))
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=[geography.canton],
        year_from=filters.year_from,
        year_to=filters.year_to,
    )
    province_of = _canton_provinces()
    provinces = _province_series(user, filters, geography)
    province_cells = {
        key: row[0] for key, row in zip(provinces.table.row_keys, provinces.table.cells, strict=True) if key
    }
    zoom = query.get(ZOOM) or None
    if zoom is not None and zoom not in province_cells:
        raise ReportUnavailable(_("The province asked for is not one of the country's provinces."))
    cantons = [(c, label) for c, label in dimension_values(geography.canton) if c in province_of]
    report = protect_series_report(
        user,
        slug=geography.canton_slug,
        title=str(geography.canton_title),
        definition=_map_definition(geography),
        keys=[c for c, _l in cantons],
        counts={_one(k): n for k, n in counts.items() if _one(k) in province_of},
        labels=dict(cantons),
        dimension_label=dimension_label(geography.canton),
        value_label=_("Accredited victims"),
    )
    canton_cell = {key: row[0] for key, row in zip(report.table.row_keys, report.table.cells, strict=True)}
    rolled_up = [
        p
        for p, cell in province_cells.items()
        if cell.hidden or any(canton_cell[c].hidden for c, _l in cantons if province_of[c] == p)
    ]
    shown = [p for p in province_cells if zoom in (None, p)]
    areas = {
        canton: {"value": canton_cell[canton].value, "display": canton_cell[canton].display, "label": label}
        for canton, label in cantons
        if province_of[canton] in shown and province_of[canton] not in rolled_up
    }
    whole = {
        province: {
            "value": province_cells[province].value,
            "display": province_cells[province].display,
            "label": _("%(province)s (whole province)") % {"province": provinces.row_label(province)},
        }
        for province in rolled_up
        if province in shown
    }
    note = (
        _(
            "Drawn as one area with the province's own figure, because a canton's count is hidden: %(provinces)s. "
            "The colours are scaled to the areas drawn."
        )
        % {"provinces": ", ".join(provinces.row_label(p) for p in rolled_up if p in shown)}
        if whole
        else ""
    )
    report = replace(report, note=note, extra={"chart": "choropleth", "geo": _canton_geo(areas, whole)})
    if zoom is None:
        return report
    keep = [i for i, key in enumerate(report.table.row_keys) if province_of[cast(str, key)] == zoom]
    return _zoomed(report, keep, zoom, provinces.row_label(zoom), province_cells[zoom])


def _canton_geo(areas: dict, whole: dict) -> dict:
    """What the choropleth script draws: the cantons' areas, and the rolled-up provinces drawn from the
    province boundaries in place of their cantons."""
    return {
        "level": "canton",
        "geojson_url": static("geo/cr_cantons.geojson"),
        "code_property": "cod_canton",
        "areas": areas,
        "parent_property": "cod_provin",
        "rolled_up": whole,
        "rolled_up_geojson_url": static("geo/cr_provinces.geojson"),
        "rolled_up_code_property": "cod_provin",
        "rolled_up_legend": _("Whole province: a canton's figure is hidden") if whole else "",
    }


def _zoomed(report: Report, keep: list[int], zoom: str, province_name: str, province_cell: ProtectedCell) -> Report:
    """The canton map of one province: its rows (``keep``) of the whole map's table, with the province's own
    figure as the total."""
    return replace(
        report,
        title=_("%(title)s: province of %(province)s") % {"title": report.title, "province": province_name},
        table=report.table.rows(keep),
        # The table's own total is the whole country's: the province's figure (the same cell as on the province
        # map) is given instead.
        show_totals_row=False,
        note=" ".join(
            part
            for part in (
                _("Total of the province of %(province)s: %(total)s.")
                % {"province": province_name, "total": province_cell.display},
                report.note,
            )
            if part
        ),
        extra={"chart": "choropleth", "geo": {**report.extra["geo"], "zoom": zoom}, "zoom": zoom},
    )
