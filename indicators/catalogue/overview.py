"""The overview page: the measures by year, the time to decision and the headline figures (KPIs) drawn from
those two reports, so a headline is always the total of the table below it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from django.core.cache import cache
from django.utils.translation import gettext as _

from .. import selectors
from ..disclosure import ProtectedCell
from ..forms import Filters
from ..reporting import (
    Report,
    ReportUnavailable,
    audience,
    median_from_histogram,
    protect_headline,
    protect_measures_by_year,
    ratio,
)
from .base import (
    STOCK_MEASURES,
    _call,
    _measure_definition,
    _measure_label,
    _selector_filters,
    _year_span,
    _years_shown,
)
from .caching import CACHE_SECONDS, _cache_key


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
    by_year: Report | None
    timeliness: Report | None
    unavailable: str = ""
    timeliness_unavailable: str = ""


DASHBOARD_MEASURES = ("received", "accredited", "accredited_persons", "not_accredited", "pending", "overdue")


def by_year_report(user, filters: Filters, query: Mapping) -> Report:
    sel = _selector_filters(filters)
    shown = _years_shown(filters)
    measures = [
        (
            key,
            _measure_label(key),
            _call(
                selectors.measure_by_year,
                measure=key,
                year_from=filters.year_from,
                year_to=filters.year_to,
                filters=sel,
            ),
        )
        for key in DASHBOARD_MEASURES
    ]
    definition = " ".join(f"{_measure_label(k)}: {_measure_definition(k)}" for k in DASHBOARD_MEASURES)
    report = protect_measures_by_year(
        user,
        slug="by-year",
        title=_("Applications and decisions by year"),
        definition=definition,
        years=shown,
        measures=measures,
        year_label=_("Year"),
        # "Pending at year end" is a stock: adding it over the years means nothing, so it has no total.
        without_total=STOCK_MEASURES,
    )
    return replace(report, extra={"chart": "series", "chart_columns": ["received", "accredited_persons"]})


def timeliness_report(user, filters: Filters, query: Mapping) -> Report:
    rows = _call(
        selectors.timeliness_by_year,
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    shown = _years_shown(filters)
    report = protect_measures_by_year(
        user,
        slug="timeliness",
        title=_("Time to decision"),
        definition=_(
            "Applications decided in the year (by the date of the ERI's resolution, with both dates known); how "
            "many were decided within 7 business days of receipt (Ley 9095; Costa Rican public holidays do not "
            "count); their share; and the median number of business days from receipt to decision."
        ),
        years=shown,
        measures=[
            ("decided", _("Decided"), {y: r["decided"] for y, r in rows.items()}),
            ("within_deadline", _("Within 7 business days"), {y: r["within_deadline"] for y, r in rows.items()}),
        ],
        year_label=_("Year"),
    )
    shares, medians = [], []
    for i, year in enumerate(shown):
        decided_cell, within_cell = report.table.cells[i]
        shares.append(ratio(within_cell, decided_cell))
        medians.append(median_from_histogram(user, rows.get(year, {}).get("histogram", {}), decided_cell))
    return replace(
        report,
        derived=((_("Share within 7 business days"), tuple(shares)), (_("Median business days"), tuple(medians))),
        extra={"chart": "series"},
    )


def dashboard(user, filters: Filters) -> Overview:
    exact, k = audience(user)
    key = _cache_key("dashboard", exact, k, filters.querystring())
    overview = cache.get(key)
    if overview is None:
        overview = _dashboard(user, filters)
        cache.set(key, overview, CACHE_SECONDS)
    return overview


def _dashboard(user, filters: Filters) -> Overview:
    try:
        by_year = by_year_report(user, filters, {})
    except ReportUnavailable as refused:
        return Overview(kpis=[], by_year=None, timeliness=None, unavailable=str(refused))
    try:
        timeliness = timeliness_report(user, filters, {})
        timeliness_unavailable = ""
    except ReportUnavailable as refused:
        timeliness, timeliness_unavailable = None, str(refused)

    col = {key: j for j, key in enumerate(by_year.table.col_keys)}
    last_year = by_year.table.row_keys[-1] if by_year.table.row_keys else None

    def total(measure_key: str) -> ProtectedCell:
        return by_year.table.col_totals[col[measure_key]]

    def in_last_year(measure_key: str) -> ProtectedCell:
        if last_year is None:
            return protect_headline(user, 0)
        return by_year.table.cells[-1][col[measure_key]]

    def kpi(key: str, cell: ProtectedCell, label: str, definition: str) -> Kpi:
        return Kpi(key=key, label=label, display=cell.display, definition=definition, hidden=cell.hidden)

    years_text = _year_span(by_year.table.row_keys)
    kpis = [
        kpi(
            "received",
            total("received"),
            _("Applications received, %(years)s") % {"years": years_text},
            _measure_definition("received"),
        ),
        kpi(
            "accredited_persons",
            total("accredited_persons"),
            _("Accredited victims, %(years)s") % {"years": years_text},
            _measure_definition("accredited_persons"),
        ),
        kpi(
            "pending",
            in_last_year("pending"),
            _("Pending at the end of %(year)s") % {"year": last_year or "—"},
            _measure_definition("pending"),
        ),
        kpi(
            "overdue",
            total("overdue"),
            _("Overdue now (received %(years)s)") % {"years": years_text},
            _measure_definition("overdue"),
        ),
    ]
    if timeliness is not None and timeliness.table.row_keys:
        kpis += _timeliness_kpis(timeliness, years_text, last_year)
    return Overview(kpis=kpis, by_year=by_year, timeliness=timeliness, timeliness_unavailable=timeliness_unavailable)


def _timeliness_kpis(timeliness: Report, years_text: str, last_year) -> list[Kpi]:
    """The headline figures of the time to decision: the share decided within the deadline over the years
    shown, and the median of the last year (the same cells as the timeliness table)."""
    decided_total, within_total = timeliness.table.col_totals
    medians = dict(timeliness.derived)[_("Median business days")]
    return [
        Kpi(
            key="within_deadline",
            label=_("Decided within 7 business days, %(years)s") % {"years": years_text},
            display=ratio(within_total, decided_total),
            definition=_(
                "Share of the applications decided in the years shown that were decided within the legal "
                "deadline of 7 business days (Ley 9095)."
            ),
        ),
        Kpi(
            key="median_days",
            label=_("Median business days to decision, %(year)s") % {"year": last_year},
            display=medians[-1],
            definition=_(
                "Half of the applications decided in the year took at most this many business days from "
                "receipt to the ERI's decision. Hidden when the number of decisions is."
            ),
        ),
    ]
