"""The data-quality page: how complete the records are, and how timely the decisions, by institution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from django.utils.translation import gettext as _

from .. import selectors
from ..dimensions import COMPLETENESS_FIELDS
from ..disclosure import ProtectedCell
from ..forms import Filters
from ..reporting import (
    NOT_SHOWN,
    Figure,
    Report,
    protect_measures_by_year,
    protect_series_report,
    protect_table_report,
    ratio,
)
from .base import _call, dimension_values


def completeness_report(user, filters: Filters, query: Mapping) -> Report:
    rows = _call(selectors.completeness, year_from=filters.year_from, year_to=filters.year_to)
    if filters.institution:
        rows = {key: value for key, value in rows.items() if key[0] == filters.institution}
    keys = sorted(rows)
    applications = protect_series_report(
        user,
        slug="quality-completeness",
        title=_("Completeness of the records by institution and year"),
        definition=_(
            "Share of the applications received in the year (by date of receipt) in which each field is filled "
            "in. Shown only where the number of applications is itself shown."
        ),
        keys=keys,
        counts={key: rows[key]["total"] for key in keys},
        labels={},
        dimension_label="",
        value_label=_("Applications"),
    )
    filled = protect_table_report(
        user,
        slug="quality-completeness-filled",
        title="",
        definition="",
        row_keys=keys,
        col_keys=list(COMPLETENESS_FIELDS),
        counts={(key, f): rows[key]["fields"].get(f, 0) for key in keys for f in COMPLETENESS_FIELDS},
        row_dimensions=[],
        labels={},
        col_labels={},
    ).table
    derived = []
    for j, (_field_key, field_label) in enumerate(COMPLETENESS_FIELDS.items()):
        # Shares of protected counts only, shown with their denominator.
        values = [_whole_percentage(filled.cells[i][j], applications.table.cells[i][0]) for i in range(len(keys))]
        derived.append((str(field_label), tuple(values)))
    # Institutions by their code (INAMU, PANI...): the table has a column per field and needs the width.
    return replace(
        applications,
        row_dimensions=(_("Institution"), _("Year")),
        row_labels=({k[0]: k[0] for k in keys}, {k[1]: str(k[1]) for k in keys}),
        derived=tuple(derived),
        extra={"chart": "none"},
    )


def _whole_percentage(part: ProtectedCell, whole: ProtectedCell) -> str:
    """A share in whole percent, capped at 100 (two perturbed counts of nearly the same records may cross)."""
    if part.value is None or whole.value is None or whole.value == 0:
        return NOT_SHOWN
    share = min(100, round(100 * part.value / whole.value))
    return Figure(f"{share:.0f} %", share / 100, "0%")


def quality_timeliness_report(user, filters: Filters, query: Mapping) -> Report:
    institutions = [(code, label) for code, label in dimension_values("institution", with_not_recorded=False)]
    if filters.institution:
        institutions = [(c, label) for c, label in institutions if c == filters.institution]
    decided, within = {}, {}
    for code, _label in institutions:
        rows = _call(
            selectors.timeliness_by_year,
            year_from=filters.year_from,
            year_to=filters.year_to,
            filters={"institution": code},
        )
        if not rows:
            continue
        decided[code] = sum(r["decided"] for r in rows.values())
        within[code] = sum(r["within_deadline"] for r in rows.values())
    keys = [code for code, _l in institutions if decided.get(code)]
    report = protect_measures_by_year(
        user,
        slug="quality-timeliness",
        title=_("Timeliness of decisions by institution"),
        definition=_(
            "Applications decided in the years shown, by the institution that referred them: how many were "
            "decided within 7 business days of receipt, and their share."
        ),
        years=keys,
        measures=[
            ("decided", _("Decided"), decided),
            ("within_deadline", _("Within 7 business days"), within),
        ],
        year_label=_("Institution"),
    )
    shares = tuple(ratio(row[1], row[0]) for row in report.table.cells)
    return replace(
        report,
        row_labels=dict(institutions),
        derived=((_("Share within 7 business days"), shares),),
        extra={"chart": "none"},
    )
