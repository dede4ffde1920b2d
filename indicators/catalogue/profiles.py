"""Who the victims are and how they were exploited: the most frequent profiles, the relations between forms
of exploitation and the case facts, the flows from place of recruitment to place of exploitation, and the
countries of exploitation."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import replace

from django.utils.translation import gettext as _

from .. import disclosure, selectors
from ..dimensions import PROFILE_SET
from ..forms import Filters
from ..reporting import Report, audience, protect_series_report, protect_table_report
from .base import DEFAULT_MEASURE, _call, _one, _selector_filters, dimension_label, dimension_values

PROFILES_LISTED = 20


def profiles_report(user, filters: Filters, query) -> Report:
    """The most frequent combinations, ranked by their published values (never by exact counts, whose order
    would tell more than the figures shown); combinations shown as "<k" are not listed, and the list's total
    is a figure of its own: the protected count of the combinations listed."""
    exact, k = audience(user)
    rows = _call(
        selectors.profiles,
        year_from=filters.year_from,
        year_to=filters.year_to,
        limit=None,
        measure="accredited_persons",
    )
    # A filter on one of the four dimensions keeps the combinations with that value: the same cells, so the
    # same published values as without it (``applied_filters``: no other filter reaches this report).
    wanted = [(i, filters.values[dim]) for i, dim in enumerate(PROFILE_SET) if dim in filters.values]
    counts: dict[Hashable, int] = {
        tuple(row[:-1]): row[-1] for row in rows if all(row[i] == code for i, code in wanted)
    }
    every = disclosure.protect_series(list(counts), counts, k=k, exact=exact)
    ranked = sorted(
        (
            (row[0].value, key)
            for key, row in zip(every.row_keys, every.cells, strict=True)
            if not row[0].hidden and row[0].value is not None
        ),
        key=lambda item: (-item[0], item[1]),
    )
    keys = [key for _value, key in ranked[:PROFILES_LISTED]]
    # Each part of a profile by its own dimension's labels: two code lists may share a code.
    labels = tuple(dict(dimension_values(dim)) for dim in PROFILE_SET)
    report = protect_series_report(
        user,
        slug="profiles",
        title=_("Most frequent profiles of accredited victims"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by their combination of sex, "
            "age group, nationality and form of exploitation. A person with two forms of exploitation counts in "
            "both combinations; combinations with a value not recorded are left out."
        ),
        keys=keys,
        counts={key: counts[key] for key in keys},
        labels=labels,
        dimension_label=_("Profile"),
        value_label=_("Accredited victims"),
        note=""
        if exact
        else _("Combinations shown as fewer than %(k)s people are not listed; the total counts those listed.")
        % {"k": k},
    )
    return replace(report, row_dimensions=tuple(dimension_label(d) for d in PROFILE_SET))


# --- Relations -----------------------------------------------------------------------------------------------

RELATION_SLUGS = ("relation-means", "relation-recruitment_method", "relation-control_method")


def relation_report(user, filters: Filters, query: Mapping, *, other: str) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=["exploitation_form", other],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    forms_ = dimension_values("exploitation_form")
    others = dimension_values(other)
    report = protect_table_report(
        user,
        slug=f"relation-{other}",
        title=_("Forms of exploitation by %(other)s") % {"other": dimension_label(other).lower()},
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) counted once for each pair "
            "of a form of exploitation and a value of %(other)s recorded in their case: a person can appear in "
            "several cells, so the totals count pairs, not people."
        )
        % {"other": dimension_label(other).lower()},
        row_keys=[v for v, _l in forms_],
        col_keys=[v for v, _l in others],
        counts={(a, b): n for (a, b), n in counts.items()},
        row_dimensions=[dimension_label("exploitation_form")],
        labels=dict(forms_),
        col_labels=dict(others),
    )
    return replace(report, extra={"chart": "matrix"})


def flows_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _call(selectors.flows, year_from=filters.year_from, year_to=filters.year_to, measure=DEFAULT_MEASURE)
    places = dimension_values("recruitment_place")
    order = {code: i for i, (code, _l) in enumerate(places)}
    origins = sorted({a for a, _b in counts}, key=lambda c: order.get(c, len(order)))
    destinations = sorted({b for _a, b in counts}, key=lambda c: order.get(c, len(order)))
    report = protect_table_report(
        user,
        slug="flows",
        title=_("From place of recruitment to place of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by the province (or country, "
            "abroad) where they were recruited and the province or country where they were exploited. A person "
            "exploited in several places counts in each flow. Filters other than the years do not apply here."
        ),
        row_keys=origins,
        col_keys=destinations,
        counts=counts,
        row_dimensions=[_("Place of recruitment")],
        labels=dict(places),
        col_labels=dict(places),
        note=_("Hidden flows are not drawn in the diagram; the table shows them as hidden."),
    )
    return replace(report, extra={"chart": "sankey"})


def countries_report(user, filters: Filters, query: Mapping) -> Report:
    counts = _call(
        selectors.crosstab,
        measure=DEFAULT_MEASURE,
        dims=["exploitation_country"],
        year_from=filters.year_from,
        year_to=filters.year_to,
        filters=_selector_filters(filters),
    )
    values = dimension_values("exploitation_country")
    present = {_one(k) for k in counts}
    counts_by_code = {_one(k): n for k, n in counts.items()}
    keys = sorted((v for v, _l in values if v in present), key=lambda c: (-counts_by_code[c], c))
    return protect_series_report(
        user,
        slug="countries",
        title=_("Countries of exploitation"),
        definition=_(
            "Accredited victims (distinct persons, in the year of the ERI's decision) by each country where they "
            "were exploited; a person exploited in two countries counts in both."
        ),
        keys=keys,
        counts=counts_by_code,
        labels=dict(values),
        dimension_label=_("Country"),
        value_label=_("Accredited victims"),
    )
