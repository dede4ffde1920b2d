"""The international formats: UNODC's GLOTIP tables and SDG indicator 16.2.2 (victims per 100,000
population), yearly, over every victim detected in the country."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _

from .. import selectors
from ..forms import Filters
from ..reporting import NOT_SHOWN, Report, protect_series_report, protect_table_report, rate_per_100k, whole_number
from .base import DEFAULT_MEASURE, _call, _drop_empty_rows, _years_shown, dimension_label, dimension_values

INTERNATIONAL_SLUGS = ("glotip-forms", "glotip-citizenship", "sdg-16-2-2-sex-age", "sdg-16-2-2-form")


def _per_year(dims: list[str], filters: Filters, *, measure: str = DEFAULT_MEASURE) -> dict[tuple, int]:
    """crosstab per year, keyed (year, *codes): the international tables are yearly."""
    counts: dict[tuple, int] = {}
    for year in _years_shown(filters):
        for key, n in _call(selectors.crosstab, measure=measure, dims=dims, year_from=year, year_to=year).items():
            counts[(year, *key)] = n
    return counts


def glotip_forms_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _per_year(["victim_group", "exploitation_form"], filters)
    groups = dimension_values("victim_group")
    forms_ = dimension_values("exploitation_form")
    row_keys = [(y, g) for y in _years_shown(filters) for g, _l in groups]
    report = protect_table_report(
        user,
        slug="glotip-forms",
        title=_("GLOTIP: detected victims by sex, age and form of exploitation"),
        definition=_(
            "Shaped like UNODC's GLOTIP questionnaire: accredited victims (distinct persons, in the year of the "
            "ERI's decision) by girls, boys, women and men (child: under 18 at recruitment) and form of "
            "exploitation. A person with two forms of exploitation counts under each."
        ),
        row_keys=row_keys,
        col_keys=[f for f, _l in forms_],
        counts={((y, g), f): n for (y, g, f), n in counts.items()},
        row_dimensions=[_("Year"), dimension_label("victim_group")],
        labels=({y: str(y) for y in _years_shown(filters)}, dict(groups)),
        col_labels=dict(forms_),
    )
    return replace(_drop_empty_rows(report), extra={"chart": "none"})


def glotip_citizenship_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _per_year(["nationality", "victim_group"], filters)
    groups = dimension_values("victim_group")
    countries = dict(dimension_values("nationality"))
    years_shown = _years_shown(filters)
    present = sorted({c for (_y, c, _g) in counts}, key=lambda c: countries.get(c, c))
    report = protect_table_report(
        user,
        slug="glotip-citizenship",
        title=_("GLOTIP: detected victims by citizenship"),
        definition=_(
            "Shaped like UNODC's GLOTIP questionnaire: accredited victims (distinct persons, in the year of the "
            "ERI's decision) by citizenship (nationality; a person with two nationalities counts under each) "
            "and by girls, boys, women and men."
        ),
        row_keys=[(y, c) for y in years_shown for c in present],
        col_keys=[g for g, _l in groups],
        counts={((y, c), g): n for (y, c, g), n in counts.items()},
        row_dimensions=[_("Year"), _("Citizenship")],
        labels=({y: str(y) for y in years_shown}, countries),
        col_labels=dict(groups),
    )
    return replace(_drop_empty_rows(report), extra={"chart": "none"})


def _population() -> dict[tuple[int, str, str], int]:
    from records.models import Population

    return {
        (year, sex, age): n
        for year, sex, age, n in Population.objects.values_list("year", "sex__code", "age_group__code", "population")
    }


def sdg_sex_age_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _per_year(["sex", "age_group"], filters)
    years_shown = _years_shown(filters)
    sexes = dimension_values("sex")
    ages = dimension_values("age_group")
    keys = [(y, s, a) for y in years_shown for s, _l in sexes for a, _l2 in ages]
    series = protect_series_report(
        user,
        slug="sdg-16-2-2-sex-age",
        title=_("SDG 16.2.2: victims per 100,000 population, by sex and age"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) per 100,000 residents of the "
            "same sex and age group in that year. The population is entered by an administrator from the national "
            "statistics office's estimates; without it the rate is not shown."
        ),
        keys=keys,
        counts=counts,
        labels=({y: str(y) for y in years_shown}, dict(sexes), dict(ages)),
        dimension_label="",
        value_label=_("Accredited victims"),
    )
    population: Mapping[Any, int] = _population()  # looked up by the table's row keys
    trimmed = series.table.without_empty_rows()
    populations = [population.get(key) for key in trimmed.row_keys]
    rates = [rate_per_100k(row[0], pop) for row, pop in zip(trimmed.cells, populations, strict=True)]
    return replace(
        series,
        table=trimmed,
        row_dimensions=(_("Year"), dimension_label("sex"), dimension_label("age_group")),
        derived=(
            (
                _("Population"),
                tuple(whole_number(p) if p else NOT_SHOWN for p in populations),
            ),
            (_("Victims per 100,000"), tuple(rates)),
        ),
        extra={"chart": "none"},
    )


def sdg_form_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _per_year(["exploitation_form"], filters)
    years_shown = _years_shown(filters)
    forms_ = dimension_values("exploitation_form")
    report = protect_table_report(
        user,
        slug="sdg-16-2-2-form",
        title=_("SDG 16.2.2: victims per 100,000 population, by form of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) per 100,000 residents in "
            "that year, by form of exploitation (a person with two forms counts under each)."
        ),
        row_keys=years_shown,
        col_keys=[f for f, _l in forms_],
        counts={(y, f): n for (y, f), n in counts.items()},
        row_dimensions=[_("Year")],
        labels={y: str(y) for y in years_shown},
        col_labels=dict(forms_),
    )
    population: Mapping[Any, int] = _population()  # looked up by the table's row keys
    totals: dict[Hashable, int] = {y: sum(n for (yy, _s, _a), n in population.items() if yy == y) for y in years_shown}
    # Rates replace the counts here: one rate per published count, hidden where the count is.
    rates = tuple(
        tuple(rate_per_100k(cell, totals.get(year)) for cell in row)
        for year, row in zip(report.table.row_keys, report.table.cells, strict=True)
    )
    derived = tuple(
        (_("%(form)s per 100,000") % {"form": report.col_label(col)}, tuple(r[j] for r in rates))
        for j, col in enumerate(report.table.col_keys)
        if any(r[j] != NOT_SHOWN for r in rates)
    )
    return replace(
        report,
        derived=(
            (
                _("Population"),
                tuple(whole_number(totals[y]) if totals.get(y) else NOT_SHOWN for y in years_shown),
            ),
            *derived,
        ),
        extra={"chart": "none"},
    )
