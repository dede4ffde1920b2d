"""Statistical disclosure control: the one module every aggregate output passes through (a package: this
``__init__`` is its only entry point; the perturbation table is in ``perturbation.py``, re-exported here).

Report pages, chart data, CSV/XLSX exports and the indicators API hand their counts to :func:`protect_table`,
:func:`protect_series`, :func:`protect_columns` or :func:`protect_count` and publish only what comes back.
Nothing else builds a :class:`ProtectedTable`.

The method is the cell key method of statistical offices' flexible table builders (Australian Bureau of
Statistics TableBuilder; UK ONS, 2021 Census custom tables; Destatis and Statistics Austria, packages
``cellKey`` and ``ptable``), chosen because suppression decided table by table did not survive an analyst who
combines pages: one page's total minus another's gave back what each page hid.

* Every counted record (an application; a person for the persons measures) carries a secret random record
  key, an integer in ``[0, KEY_MODULUS)`` drawn once by the recompute and never shown
  (``indicators.models.RecordKey`` / ``PersonKey``).
* A cell's key is the sum of its records' keys modulo ``KEY_MODULUS``. Keys add up like counts, so the
  recompute stores each cell's key beside its count, and every figure derived by adding or subtracting
  cells (a year range, a total, the pending stock, the filled fields) gets its key by the same arithmetic:
  :class:`Count` carries it.
* The perturbation table turns (count, cell key) into a small noise: the same records always give the same
  published value, on every page, chart, export and API answer, whichever way the figure was assembled.
  The difference of two published figures is no longer a true count.
* A true zero stays zero and a non-zero count never becomes zero. A perturbed value from 1 to k-1 is shown as
  ``"<k"``. Totals are cells of their own (their true count and their own key), never sums of perturbed cells.
* Coordinators (exact mode) get the true values through the same functions, so callers have one code path.

The perturbation table. For a count n >= 1 the noise is drawn from ``-h..h`` with ``h = min(D, n - 1)`` (so the
published value is at least 1), with probabilities proportional to ``a ** (e * e)`` (the maximum-entropy shape
for a given variance), ``a`` solved so that the variance over ``-D..D`` is V, and every noise keeps at least one
key (so the published range is the range used). The distribution is symmetric
and the key ranges of +e and -e are exactly as wide, so the noise is unbiased over the keys. The parameters D
(``DISCLOSURE_MAX_DEVIATION``), V (``DISCLOSURE_VARIANCE``) and the key modulus are published in
``docs/SECURITY.md``: the protection rests on the secrecy of the record keys, not of the method.

Why no secondary suppression any more: see docs/SECURITY.md ("Disclosure control"). In short, the equations
an attacker writes (totals, year ranges, filters, measure identities) hold between true counts, and every
published figure is off by an unknown noise, so a hidden count is only bounded, never pinned, unless every
other figure of the equation sits at the extreme deviation in the right direction; the table makes those
extremes rare (``tests/test_disclosure_attack.py`` solves every published identity with a linear program).

The module reads its settings at call time only, so it imports (and is tested) without Django configured.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import (
    Any,
    Literal,
)  # Mapping[Any, ...]: Mapping is invariant in its key, and keys are codes, tuples or years

# The perturbation table is a module of its own (perturbation.py); this package is the one entry point, so it
# is re-exported here with the key arithmetic it defines.
from .perturbation import KEY_BITS as KEY_BITS
from .perturbation import KEY_MODULUS, current_table
from .perturbation import PerturbationTable as PerturbationTable
from .perturbation import perturbation_table as perturbation_table

Status = Literal["shown", "primary", "blank"]

# Who a protected figure is published for. The perturbation is the same for both (the same cell publishes the
# same value everywhere); only the threshold below which a value is shown as "<k" differs.
Audience = Literal["analysts", "public"]
ANALYSTS: Audience = "analysts"
PUBLIC: Audience = "public"

SHOWN: Status = "shown"
# Perturbed (or, for coordinators, true) value from 1 to k-1: shown as "<k".
PRIMARY: Status = "primary"
# A figure that means nothing here (the total of a stock over the years, row totals across measures).
BLANK: Status = "blank"

# The column key of the one-column table built by protect_series; callers label it as they wish.
SERIES_COLUMN = "count"


class Count(int):
    """An exact count that carries the key of its cell (the sum of its records' keys, modulo KEY_MODULUS).

    It behaves as the int it is; adding or subtracting two Counts adds or subtracts their keys too, since the
    records of a sum of disjoint cells are the union of their records. Adding a plain int other than zero
    gives a plain int: its key is unknown, and publishing it to a protected audience is refused."""

    key: int

    def __new__(cls, n: int, key: int = 0):
        self = super().__new__(cls, n)
        self.key = int(key) % KEY_MODULUS
        return self

    def __add__(self, other):
        if isinstance(other, Count):
            return Count(int(self) + int(other), self.key + other.key)
        if type(other) is int and other == 0:
            return self
        return int(self) + other

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, Count):
            return Count(int(self) - int(other), self.key - other.key)
        if type(other) is int and other == 0:
            return self
        return int(self) - other

    def __rsub__(self, other):
        return other - int(self)

    def __reduce__(self):
        return (Count, (int(self), self.key))

    def __repr__(self) -> str:
        return f"Count({int(self)}, key={self.key})"


@dataclass(frozen=True)
class ProtectedCell:
    """One published number: its value (None when not shown), the text to show, and its status."""

    value: int | None
    display: str
    status: Status

    @property
    def hidden(self) -> bool:
        return self.status != SHOWN


@dataclass(frozen=True)
class ProtectedTable:
    """A table of counts with its totals, every entry already protected for the audience it was made for.

    ``cells[i][j]`` belongs to ``row_keys[i]`` and ``col_keys[j]``. Each total is the protected value of the
    total's own true count (the sum of the cells of the table as given, with its own key), so totals are only
    meaningful for additive tables (each unit counted in exactly one cell)."""

    row_keys: tuple[Hashable, ...]
    col_keys: tuple[Hashable, ...]
    cells: tuple[tuple[ProtectedCell, ...], ...]
    row_totals: tuple[ProtectedCell, ...]
    col_totals: tuple[ProtectedCell, ...]
    grand_total: ProtectedCell
    k: int
    exact: bool

    def cell(self, row_key: Hashable, col_key: Hashable) -> ProtectedCell:
        """The protected cell at ``(row_key, col_key)``; KeyError for a key the table does not have."""
        try:
            i = self.row_keys.index(row_key)
            j = self.col_keys.index(col_key)
        except ValueError:
            raise KeyError((row_key, col_key)) from None
        return self.cells[i][j]

    def rows(self, indices: Iterable[int]) -> ProtectedTable:
        """The same table with only the rows at ``indices`` (totals unchanged: dropping published rows
        publishes less, and every figure keeps its value)."""
        keep = list(indices)
        return ProtectedTable(
            row_keys=tuple(self.row_keys[i] for i in keep),
            col_keys=self.col_keys,
            cells=tuple(self.cells[i] for i in keep),
            row_totals=tuple(self.row_totals[i] for i in keep),
            col_totals=self.col_totals,
            grand_total=self.grand_total,
            k=self.k,
            exact=self.exact,
        )

    def columns(self, indices: Iterable[int]) -> ProtectedTable:
        """The same table with only the columns at ``indices`` (row totals and the grand total unchanged:
        dropping published columns publishes less, and every figure keeps its value)."""
        keep = list(indices)
        return ProtectedTable(
            row_keys=self.row_keys,
            col_keys=tuple(self.col_keys[j] for j in keep),
            cells=tuple(tuple(row[j] for j in keep) for row in self.cells),
            row_totals=self.row_totals,
            col_totals=tuple(self.col_totals[j] for j in keep),
            grand_total=self.grand_total,
            k=self.k,
            exact=self.exact,
        )

    def transposed(self) -> ProtectedTable:
        """Rows become columns: the same published cells and totals, laid out the other way (a trend shows
        measures as rows and years as columns; the figures were protected as years by measures)."""
        return ProtectedTable(
            row_keys=self.col_keys,
            col_keys=self.row_keys,
            cells=tuple(tuple(row[j] for row in self.cells) for j in range(len(self.col_keys))),
            row_totals=self.col_totals,
            col_totals=self.row_totals,
            grand_total=self.grand_total,
            k=self.k,
            exact=self.exact,
        )

    def without_row_totals(self) -> ProtectedTable:
        """Row totals and the grand total left blank: for a stock (pending at year end), a sum over the years
        means nothing. Publishes less, never more."""
        blank = ProtectedCell(value=None, display="", status=BLANK)
        return ProtectedTable(
            row_keys=self.row_keys,
            col_keys=self.col_keys,
            cells=self.cells,
            row_totals=tuple(blank for _ in self.row_keys),
            col_totals=self.col_totals,
            grand_total=blank,
            k=self.k,
            exact=self.exact,
        )

    def without_empty_rows(self) -> ProtectedTable:
        """Leave out rows whose total is a shown zero. Since a non-zero count is never published as zero, this
        drops only rows with no case at all, and reveals nothing."""
        return self.rows(i for i, total in enumerate(self.row_totals) if not (total.value == 0 and not total.hidden))

    def as_rows(self, *, total_label: str = "Total") -> list[list[object]]:
        """The table as plain rows for a CSV writer or a template loop: a header, one row per row key and a
        totals row. Keys are returned as given; counts as their display text ("12", "0", "<5").

        A one-column table (a series) leaves out the row totals column, which would only repeat its cells.
        """
        with_row_totals = len(self.col_keys) != 1
        header: list[object] = ["", *self.col_keys]
        if with_row_totals:
            header.append(total_label)
        rows: list[list[object]] = [header]
        for key, cells, row_total in zip(self.row_keys, self.cells, self.row_totals, strict=True):
            row: list[object] = [key, *(cell.display for cell in cells)]
            if with_row_totals:
                row.append(row_total.display)
            rows.append(row)
        totals: list[object] = [total_label, *(cell.display for cell in self.col_totals)]
        if with_row_totals:
            totals.append(self.grand_total.display)
        rows.append(totals)
        return rows


# --- Publishing ----------------------------------------------------------------------------------------------


def protect_count(n: int, *, k: int | None = None, exact: bool = False) -> ProtectedCell:
    """Publish one count: its true value in exact mode; otherwise the value the perturbation table gives for
    its count and cell key, shown as "<k" from 1 to k-1. Zero is always shown as 0.

    A non-zero count published to a protected audience must be a :class:`Count` (it carries its key); a plain
    int is refused rather than published unperturbed."""
    k = _resolve_k(k)
    _check_count(n, "count")
    if exact:
        return ProtectedCell(value=int(n), display=str(int(n)), status=SHOWN)
    if n == 0:
        return _shown(0, k)
    if not isinstance(n, Count):
        raise TypeError("a count published to a protected audience must carry its cell key (disclosure.Count)")
    return _shown(int(n) + current_table().noise(int(n), n.key), k)


def protect_series(
    keys: Iterable[Hashable],
    counts: Mapping[Any, int],
    *,
    k: int | None = None,
    exact: bool = False,
    total: int | None = None,
) -> ProtectedTable:
    """A one-way disaggregation with its total, as a one-column table keyed ``SERIES_COLUMN``. Missing keys
    count as 0. ``total``, when given, is the total's own count (see :func:`protect_table`)."""
    return protect_table(
        keys,
        [SERIES_COLUMN],
        {(key, SERIES_COLUMN): n for key, n in counts.items()},
        k=k,
        exact=exact,
        col_totals={SERIES_COLUMN: total} if total is not None else None,
        grand_total=total,
    )


def protect_table(
    row_keys: Iterable[Hashable],
    col_keys: Iterable[Hashable],
    counts: Mapping[tuple[Hashable, Hashable], int],
    *,
    k: int | None = None,
    exact: bool = False,
    row_totals: Mapping[Any, int] | None = None,
    col_totals: Mapping[Any, int] | None = None,
    grand_total: int | None = None,
) -> ProtectedTable:
    """A two-way table of counts with its row totals, column totals and grand total, each entry published by
    :func:`protect_count` (totals as cells of their own: their true count, their own key).

    A three-way cross-tab is passed with pairs of the first two dimensions as row keys. ``counts`` maps
    ``(row_key, col_key)`` to a count; missing pairs count as 0, and a key outside the table is an error
    rather than a silently wrong total.

    By default a total is the sum of its cells. Where a unit can sit in several cells (a case with two forms
    of exploitation; a person with two accredited applications recorded differently), the sum counts it more
    than once: ``row_totals``, ``col_totals`` (by key; a missing key counts 0) and ``grand_total`` then give
    the totals' own counts (the cells of the units counted once), so that the same total is the same figure on
    every page."""
    rows = _unique_keys(row_keys, "row")
    cols = _unique_keys(col_keys, "column")
    k = _resolve_k(k)
    grid = _grid(rows, cols, counts)
    m, n = len(rows), len(cols)
    for i, key in enumerate(rows):
        if row_totals is not None:
            grid[i][n] = _own_total(row_totals.get(key, 0), repr(key))
    for j, key in enumerate(cols):
        if col_totals is not None:
            grid[m][j] = _own_total(col_totals.get(key, 0), repr(key))
    if grand_total is not None:
        grid[m][n] = _own_total(grand_total, "the grand total")

    def publish(i: int, j: int) -> ProtectedCell:
        return protect_count(grid[i][j], k=k, exact=exact)

    return ProtectedTable(
        row_keys=rows,
        col_keys=cols,
        cells=tuple(tuple(publish(i, j) for j in range(n)) for i in range(m)),
        row_totals=tuple(publish(i, n) for i in range(m)),
        col_totals=tuple(publish(m, j) for j in range(n)),
        grand_total=publish(m, n),
        k=k,
        exact=exact,
    )


def protect_columns(
    row_keys: Iterable[Hashable],
    columns: Sequence[tuple[Hashable, Mapping[Any, int]]],
    *,
    k: int | None = None,
    exact: bool = False,
    without_total: Iterable[Hashable] = (),
) -> ProtectedTable:
    """Several measures side by side (received, accredited, pending per year): the columns count different
    things, so each has its own total over the rows (none for the columns named in ``without_total``, such as
    a stock, whose sum over the years means nothing) and the table has no row totals."""
    rows = _unique_keys(row_keys, "row")
    k = _resolve_k(k)
    skip = set(without_total)
    series = [(key, protect_series(rows, counts, k=k, exact=exact)) for key, counts in columns]
    blank = ProtectedCell(value=None, display="", status=BLANK)
    return ProtectedTable(
        row_keys=rows,
        col_keys=_unique_keys((key for key, _ in series), "column"),
        cells=tuple(tuple(table.cells[i][0] for _key, table in series) for i in range(len(rows))),
        row_totals=tuple(blank for _ in rows),
        col_totals=tuple(blank if key in skip else table.grand_total for key, table in series),
        grand_total=blank,
        k=k,
        exact=exact,
    )


def protect_median(histogram: Mapping[int, int], *, base: ProtectedCell, exact: bool = False) -> float | None:
    """The median of a histogram ``{value: count}`` (business days to decision), computed from each count as
    published (its perturbed value; the true one in exact mode), so it carries no more than the histogram's
    protected cells. None when the number of cases it summarises (``base``, as published) is hidden or zero:
    the median of one or two decisions would be those decisions' own durations."""
    if base.value is None or base.value == 0:
        return None
    table = None if exact else current_table()
    counts = {}
    for value, n in histogram.items():
        _check_count(n, repr(value))
        if table is not None and n:
            if not isinstance(n, Count):
                raise TypeError("a count published to a protected audience must carry its cell key")
            n = int(n) + table.noise(int(n), n.key)
        counts[value] = int(n)
    return histogram_median(counts)


def histogram_median(histogram: Mapping[int, int]) -> float | None:
    """The median of ``{value: how many}``; None when it counts nothing."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(i: int) -> int:  # the i-th smallest value, 0-based
        seen = 0
        for value, n in ordered:
            seen += n
            if i < seen:
                return value
        raise AssertionError("unreachable")

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def _grid(
    rows: Sequence[Hashable], cols: Sequence[Hashable], counts: Mapping[tuple[Hashable, Hashable], int]
) -> list[list[int]]:
    """The counts as an (m+1) x (n+1) grid with row totals in the last column and column totals in the last
    row, the grand total in the corner. Counts are added as they are, so Counts add their keys."""
    row_index = {key: i for i, key in enumerate(rows)}
    col_index = {key: j for j, key in enumerate(cols)}
    m, n = len(rows), len(cols)
    grid: list[list[int]] = [[0] * (n + 1) for _ in range(m + 1)]
    for pair, count in counts.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"counts must be keyed by (row, column) pairs, got {pair!r}")
        row_key, col_key = pair
        if row_key not in row_index or col_key not in col_index:
            raise ValueError(f"count for {pair!r} is outside the table's rows and columns")
        _check_count(count, repr(pair))
        i, j = row_index[row_key], col_index[col_key]
        grid[i][j] += count
        grid[i][n] += count
        grid[m][j] += count
        grid[m][n] += count
    return grid


def _own_total(count: int, where: str) -> int:
    _check_count(count, where)
    return count


def threshold(audience: Audience = ANALYSTS) -> int:
    """The threshold k of an audience, read from the settings at call time: ``DISCLOSURE_K`` for analysts (and
    every logged-in role that does not see exact counts), ``DISCLOSURE_K_PUBLIC`` for the public statistics page
    and every other output open without login. Never lower than the analysts' threshold: a public figure must
    not show a value an analyst sees hidden."""
    from django.conf import settings

    analysts = _resolve_k(settings.DISCLOSURE_K)
    if audience == ANALYSTS:
        return analysts
    if audience == PUBLIC:
        return max(_resolve_k(settings.DISCLOSURE_K_PUBLIC), analysts)
    raise ValueError(f"unknown audience {audience!r}")


def _resolve_k(k: int | None) -> int:
    """The threshold to use: the caller's, or the portal's DISCLOSURE_K setting (read here, at call time)."""
    if k is None:
        from django.conf import settings

        k = settings.DISCLOSURE_K
    # A threshold below 2 would hide nothing; exact mode is the one way to show every value.
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ValueError(f"disclosure threshold k must be an integer of at least 2, got {k!r}")
    return k


def _unique_keys(keys: Iterable[Hashable], what: str) -> tuple[Hashable, ...]:
    result = tuple(keys)
    if len(set(result)) != len(result):
        raise ValueError(f"{what} keys must be unique")
    return result


def _check_count(count: object, where: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count for {where} must be a non-negative integer, got {count!r}")


def _shown(value: int, k: int) -> ProtectedCell:
    if 0 < value < k:
        return ProtectedCell(value=None, display=f"<{k}", status=PRIMARY)
    return ProtectedCell(value=value, display=str(value), status=SHOWN)
