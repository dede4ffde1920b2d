"""The one layer between the indicator selectors and every output a person sees.

Selectors (``indicators.selectors``) return exact counts with their cell keys. Pages, chart-data views, CSV/XLSX
exports and the indicators API never publish those counts themselves: they pass them, with the user who asked,
to a function here, which decides the audience (coordinators see exact counts, everyone else sees the cell key
perturbation with small values shown as "<k", ``settings.DISCLOSURE_K``, per
``accounts.access.sees_exact_counts``) and returns a :class:`Report` whose numbers all come from
``indicators.disclosure``. Derived figures (percentages, rates, medians) are computed here from the protected
values only, so a hidden value never leaks through a percentage.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import (
    Any,
)  # keys of Mapping[Any, ...]: Mapping is invariant in its key, and keys are codes, tuples or years

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts import access

from . import disclosure
from .disclosure import ProtectedCell, ProtectedTable

# Shown where a derived figure (a percentage, a rate) cannot be computed without a hidden value.
NOT_SHOWN = "—"
MAX_CROSSTAB_DIMENSIONS = 3


class ReportUnavailable(Exception):
    """The combination asked for is not published (too many dimensions with the filters, or not precomputed).
    The message, in the user's language, says why; pages show it in place of the table."""


class InvalidFilters(ReportUnavailable):
    """The filters themselves are invalid (a code, year or measure that is not one of the choices): no figure
    is published for them, on any output. The message (``forms.ReportFilterForm.refusal``) names the filters
    without quoting the values sent."""


class PublicAudience:
    """Who the public statistics page is built for: everyone, logged in or not, the same page for all. Passed
    to the catalogue in place of a user (``PUBLIC``); it holds no role, so nothing reads it as a person."""

    is_authenticated = False
    is_anonymous = True
    pk = None

    def __repr__(self) -> str:
        return "PUBLIC"


PUBLIC = PublicAudience()


def audience(user) -> tuple[bool, int]:
    """(exact, k) for ``user``: coordinators see exact counts; every other role sees counts protected at k
    (``disclosure.threshold``); the public audience (``PUBLIC``) at the public threshold, never exact.

    Fails closed: an anonymous user or one without a role is protected like an analyst (views refuse them
    before this point anyway)."""
    if user is PUBLIC:
        return False, disclosure.threshold(disclosure.PUBLIC)
    return access.sees_exact_counts(user), disclosure.threshold(disclosure.ANALYSTS)


@dataclass(frozen=True)
class Report:
    """One table ready to publish: protected counts plus the labels and words that explain them.

    ``row_keys`` of a multi-dimension table are tuples (one key per row dimension); ``row_dimensions`` name
    those dimensions, ``row_labels`` map every key part to its label (or, as a tuple with one mapping per row
    dimension, each part by its own dimension's labels: two dimensions may share a code such as "UNKNOWN").
    ``col_keys`` come from one dimension
    or from a list of measures (``series`` tables have the single column ``disclosure.SERIES_COLUMN``)."""

    slug: str
    title: str
    definition: str
    table: ProtectedTable
    row_dimensions: tuple[str, ...]
    row_labels: Mapping[Any, str] | tuple[Mapping[Any, str], ...]
    col_labels: Mapping[Any, str]
    value_label: str = ""
    additive: bool = True
    note: str = ""
    extra: dict = field(default_factory=dict)
    # Columns computed from the protected values (shares, medians, rates): (label, one text per row).
    derived: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The same derived columns for the totals row, where they mean something (a trend's change of the total).
    derived_totals: tuple[str, ...] = ()
    # False where the columns have no meaningful total (a trend of different measures by year).
    show_totals_row: bool = True

    @property
    def exact(self) -> bool:
        return self.table.exact

    @property
    def k(self) -> int:
        return self.table.k

    @property
    def is_series(self) -> bool:
        """A one-way table (its one column is the count); a cross-tab with a single column present is not."""
        return self.table.col_keys == (disclosure.SERIES_COLUMN,)

    @property
    def has_hidden(self) -> bool:
        cells = [c for row in self.table.cells for c in row]
        totals = [*self.table.row_totals, *self.table.col_totals, self.table.grand_total]
        return any(c.hidden for c in (*cells, *totals))

    def row_label_parts(self, key: Hashable) -> list[str]:
        parts = key if isinstance(key, tuple) else (key,)
        if isinstance(self.row_labels, tuple):
            return [labels.get(part, str(part)) for labels, part in zip(self.row_labels, parts, strict=True)]
        return [self.row_labels.get(part, str(part)) for part in parts]

    def row_label(self, key: Hashable) -> str:
        return " · ".join(self.row_label_parts(key))

    def col_label(self, key: Hashable) -> str:
        return self.col_labels.get(key, str(key))

    # --- Derived figures, from protected values only --------------------------------------------------------

    def row_percentages(self) -> list[list[str]]:
        """Each cell as a percentage of its row total, where both are shown; NOT_SHOWN otherwise."""
        return [
            [percentage(cell, total) for cell in cells]
            for cells, total in zip(self.table.cells, self.table.row_totals, strict=True)
        ]

    def share_of_total(self) -> list[str]:
        """Each row total as a percentage of the grand total (for a series: each cell's share)."""
        totals = self.table.row_totals if not self.is_series else tuple(row[0] for row in self.table.cells)
        return [percentage(total, self.table.grand_total) for total in totals]

    def column_shares(self) -> list[str]:
        return [percentage(total, self.table.grand_total) for total in self.table.col_totals]

    # --- Shapes for the outputs ----------------------------------------------------------------------------

    def header(self, *, total_label: str | None = None) -> list[str]:
        total_label = total_label or _("Total")
        dims = list(self.row_dimensions) or [""]
        columns = (
            [self.value_label or pgettext("table header", "Count")]
            if self.is_series
            else [self.col_label(k) for k in self.table.col_keys]
        )
        row = [*dims, *columns]
        if not self.is_series and self.additive:
            row.append(total_label)
        row.extend(label for label, _values in self.derived)
        return row

    def body(self) -> list[list[str]]:
        """Rows of display text: row labels (one column per row dimension), cells, and the row total."""
        rows = []
        for i, (key, cells, total) in enumerate(
            zip(self.table.row_keys, self.table.cells, self.table.row_totals, strict=True)
        ):
            row = [*self.row_label_parts(key), *(c.display for c in cells)]
            if not self.is_series and self.additive:
                row.append(total.display)
            row.extend(values[i] for _label, values in self.derived)
            rows.append(row)
        return rows

    def totals_row(self, *, total_label: str | None = None) -> list[str]:
        """Column totals (for a measures-by-year table: each measure's own protected total); the grand total
        only where the table is additive."""
        total_label = total_label or _("Total")
        pad = [""] * (max(len(self.row_dimensions), 1) - 1)
        row = [total_label, *pad, *(c.display for c in self.table.col_totals)]
        if not self.is_series and self.additive:
            row.append(self.table.grand_total.display)
        row.extend(self.derived_totals or ["" for _ in self.derived])
        return row

    def export_rows(self) -> list[list[str]]:
        """Header, body and totals: exactly what the page's table shows, for CSV and XLSX."""
        return [self.header(), *self.body(), *([self.totals_row()] if self.show_totals_row else [])]

    def chart_series(self, columns: Sequence[Hashable] | None = None) -> dict:
        """Chart.js labels and datasets: one dataset per column (or per column named in ``columns``), hidden
        values as null with their display text."""
        labels = [self.row_label(key) for key in self.table.row_keys]
        datasets = []
        for j, col in enumerate(self.table.col_keys):
            if columns is not None and col not in columns:
                continue
            cells = [row[j] for row in self.table.cells]
            datasets.append(
                {
                    "label": self.value_label if self.is_series else self.col_label(col),
                    "data": [c.value for c in cells],
                    "display": [c.display for c in cells],
                }
            )
        return {"labels": labels, "datasets": datasets}


@dataclass(frozen=True)
class Change:
    """The change of a published figure from the previous year: the difference of the two published values,
    never of the true counts, so it tells nothing the two figures do not. Hidden when either is hidden;
    blank for the first year, which has no previous one."""

    value: int | None
    display: str
    status: str  # disclosure.SHOWN, or "hidden", or disclosure.BLANK

    @property
    def hidden(self) -> bool:
        return self.status == CHANGE_HIDDEN


CHANGE_HIDDEN = "hidden"


def change(current: ProtectedCell, previous: ProtectedCell | None) -> Change:
    """``current`` minus ``previous``, both as published; signed ("+3", "-2", "0")."""
    if previous is None:
        return Change(value=None, display="", status=disclosure.BLANK)
    if current.value is None or previous.value is None:
        return Change(value=None, display=NOT_SHOWN, status=CHANGE_HIDDEN)
    difference = current.value - previous.value
    return Change(value=difference, display=f"{difference:+d}" if difference else "0", status=disclosure.SHOWN)


def changes_along(cells: Sequence[ProtectedCell]) -> tuple[Change, ...]:
    """The change of each cell of a row of consecutive years from the one before it."""
    return tuple(change(cell, cells[i - 1] if i else None) for i, cell in enumerate(cells))


class Figure(str):
    """The text of a derived figure (a rate, a share, a median, a population) that also carries its number, so
    that a spreadsheet export stores a number where the page shows text such as "380 000" or "12.5 %".
    It is the text everywhere else (templates, CSV, JSON)."""

    number: int | float
    number_format: str

    def __new__(cls, text: str, number: int | float, number_format: str = "General"):
        self = super().__new__(cls, text)
        self.number = number
        self.number_format = number_format
        return self

    def __reduce__(self):
        return (Figure, (str(self), self.number, self.number_format))

    @property
    def plain(self) -> str:
        """The figure as a machine reads it in CSV: a whole number without grouping, a decimal with a point,
        a percentage as shown ("12.5 %")."""
        if isinstance(self.number, int):
            return str(self.number)
        return str(self)


def percentage(part: ProtectedCell, whole: ProtectedCell, *, places: int = 1) -> str:
    """``part`` as a percentage of ``whole``, or NOT_SHOWN when either is hidden or the whole is zero."""
    if part.value is None or whole.value is None or whole.value == 0:
        return NOT_SHOWN
    shown = format_decimal(Decimal(100 * part.value) / Decimal(whole.value), places=places)
    return Figure(f"{shown} %", float(Decimal(shown) / 100), "0." + "0" * places + "%" if places else "0%")


def format_decimal(value: Decimal, *, places: int = 1) -> str:
    quantum = Decimal(1).scaleb(-places)
    text = str(value.quantize(quantum, rounding=ROUND_HALF_UP))
    return Figure(text, float(text), "0." + "0" * places if places else "0")


def whole_number(n: int) -> str:
    """A whole number as the page shows it (grouped in the user's language), carrying the number itself."""
    return Figure(formats.number_format(n, force_grouping=True), int(n), "#,##0")


# --- Building reports from exact counts -----------------------------------------------------------------------


def protect_series_report(
    user,
    *,
    slug: str,
    title: str,
    definition: str,
    keys: Sequence[Hashable],
    counts: Mapping[Any, int],
    labels: Mapping[Any, str] | tuple[Mapping[Any, str], ...],
    dimension_label: str,
    value_label: str,
    note: str = "",
    total: int | None = None,
) -> Report:
    """A one-way disaggregation with its total, protected for ``user``. ``total`` is the total's own count
    where the rows may count a unit more than once (see ``disclosure.protect_table``)."""
    exact, k = audience(user)
    table = disclosure.protect_series(keys, {key: counts.get(key, 0) for key in keys}, k=k, exact=exact, total=total)
    return Report(
        slug=slug,
        title=title,
        definition=definition,
        table=table,
        row_dimensions=(dimension_label,),
        row_labels=labels,
        col_labels={disclosure.SERIES_COLUMN: value_label},
        value_label=value_label,
        note=note,
    )


def protect_table_report(
    user,
    *,
    slug: str,
    title: str,
    definition: str,
    row_keys: Sequence[Hashable],
    col_keys: Sequence[Hashable],
    counts: Mapping[tuple[Hashable, Hashable], int],
    row_dimensions: Sequence[str],
    labels: Mapping[Any, str] | tuple[Mapping[Any, str], ...],
    col_labels: Mapping[Any, str],
    value_label: str = "",
    note: str = "",
    totals: Mapping | None = None,
) -> Report:
    """A two-way table (rows may be tuples of up to two dimensions), protected with its totals for ``user``.
    ``totals``, where the cells may count a unit more than once, holds the totals' own counts:
    ``{"rows": {key: n}, "columns": {key: n}, "grand": n}`` (any of them; see ``disclosure.protect_table``)."""
    exact, k = audience(user)
    totals = totals or {}
    table = disclosure.protect_table(
        row_keys,
        col_keys,
        counts,
        k=k,
        exact=exact,
        row_totals=totals.get("rows"),
        col_totals=totals.get("columns"),
        grand_total=totals.get("grand"),
    )
    return Report(
        slug=slug,
        title=title,
        definition=definition,
        table=table,
        row_dimensions=tuple(row_dimensions),
        row_labels=labels,
        col_labels=col_labels,
        value_label=value_label,
        note=note,
    )


def protect_measures_by_year(
    user,
    *,
    slug: str,
    title: str,
    definition: str,
    years: Sequence[Hashable],
    measures: Sequence[tuple[str, str, Mapping[Any, int]]],
    year_label: str,
    without_total: Sequence[str] = (),
) -> Report:
    """Several measures per year side by side (received, accredited, ...). The measures count different things,
    so the table is not additive across columns: each measure is its own series with its own total (none for
    the measures in ``without_total``, such as a stock) and the report shows no row totals. ``measures`` holds
    (key, label, counts by year)."""
    exact, k = audience(user)
    table = disclosure.protect_columns(
        years,
        [(key, {y: counts.get(y, 0) for y in years}) for key, _label, counts in measures],
        k=k,
        exact=exact,
        without_total=without_total,
    )
    return Report(
        slug=slug,
        title=title,
        definition=definition,
        table=table,
        row_dimensions=(year_label,),
        row_labels={y: str(y) for y in years},
        col_labels={key: label for key, label, _counts in measures},
        additive=False,
    )


def protect_headline(user, n: int) -> ProtectedCell:
    """A lone figure (pending, overdue) protected for ``user``."""
    exact, k = audience(user)
    return disclosure.protect_count(n, k=k, exact=exact)


def ratio(part: ProtectedCell, whole: ProtectedCell) -> str:
    """A share computed from two published figures only."""
    return percentage(part, whole)


def rate_per_100k(count: ProtectedCell, population: int | None, *, places: int = 2) -> str:
    """Victims per 100,000 population from the protected count: hidden count, hidden rate."""
    if count.value is None or not population:
        return NOT_SHOWN
    return format_decimal(Decimal(count.value) * Decimal(100_000) / Decimal(population), places=places)


def median_from_histogram(user, histogram: Mapping[int, int], decided: ProtectedCell) -> str:
    """The median number of business days, from the protected histogram (see disclosure.protect_median)."""
    exact, _k = audience(user)
    median = disclosure.protect_median(histogram, base=decided, exact=exact)
    return NOT_SHOWN if median is None else format_decimal(Decimal(str(median)), places=1)


def check_dimension_count(dimensions: Iterable[str]) -> None:
    """Cross-tabs combine at most three dimensions (DOMAIN.md): refuse more with a reason in the user's
    language."""
    dims = list(dimensions)
    if len(dims) > MAX_CROSSTAB_DIMENSIONS:
        raise TooManyDimensions(
            _(
                "A cross-tab combines at most three dimensions. With four or more, most cells hold one to four "
                "people, and a small count next to a place or a nationality can identify a person. "
                "Remove %(extra)s of the dimensions you chose."
            )
            % {"extra": len(dims) - MAX_CROSSTAB_DIMENSIONS}
        )


class TooManyDimensions(ValueError):
    pass
