"""Tests for indicators.disclosure: examples of each rule, then properties over random small tables.

The central property is a proof, not a heuristic: for every published table, exact rational Gaussian
elimination shows that no primary-suppressed value is determined by the published equations.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.disclosure import (
    PRIMARY,
    SECONDARY,
    SECONDARY_MARK,
    SERIES_COLUMN,
    SHOWN,
    ProtectedCell,
    ProtectedTable,
    protect_count,
    protect_series,
    protect_table,
)

# ---------------------------------------------------------------------------------------------------------
# Helpers


def table_from_grid(grid: list[list[int]], *, k: int = 5, exact: bool = False) -> ProtectedTable:
    rows = [f"r{i}" for i in range(len(grid))]
    cols = [f"c{j}" for j in range(len(grid[0]))] if grid else []
    counts = {(rows[i], cols[j]): value for i, line in enumerate(grid) for j, value in enumerate(line)}
    return protect_table(rows, cols, counts, k=k, exact=exact)


def all_entries(table: ProtectedTable) -> list[ProtectedCell]:
    entries = [cell for line in table.cells for cell in line]
    return entries + list(table.row_totals) + list(table.col_totals) + [table.grand_total]


def true_entries(grid: list[list[int]]) -> list[int]:
    """The true values in the same order as all_entries."""
    m, n = len(grid), len(grid[0])
    cells = [value for line in grid for value in line]
    row_totals = [sum(line) for line in grid]
    col_totals = [sum(grid[i][j] for i in range(m)) for j in range(n)]
    return cells + row_totals + col_totals + [sum(cells)]


def published_equations(m: int, n: int) -> list[dict[int, int]]:
    """The linear equations anyone can read off a table with totals, as {variable index: coefficient} = 0.

    Variables are numbered as in all_entries: cells row by row, then row totals, column totals, grand total.
    Hidden row and column totals (and a hidden grand total) are unknowns like hidden cells: an attacker who
    cannot see a total still knows that it is the sum of its line.
    """
    row_totals, col_totals, grand = m * n, m * n + m, m * n + m + n  # first index of each group
    equations: list[dict[int, int]] = []
    for i in range(m):
        equations.append({**{i * n + j: 1 for j in range(n)}, row_totals + i: -1})
    for j in range(n):
        equations.append({**{i * n + j: 1 for i in range(m)}, col_totals + j: -1})
    equations.append({**{row_totals + i: 1 for i in range(m)}, grand: -1})
    equations.append({**{col_totals + j: 1 for j in range(n)}, grand: -1})
    return equations


def reduced_row_echelon(matrix: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Exact Gauss-Jordan elimination; returns the non-zero rows as (pivot column, row)."""
    rows = [row[:] for row in matrix]
    width = len(rows[0]) if rows else 0
    basis: list[tuple[int, list[Fraction]]] = []
    for column in range(width):
        pivot = next((r for r in rows if r[column] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        scale = pivot[column]
        pivot = [value / scale for value in pivot]
        for other in rows + [row for _, row in basis]:
            factor = other[column]
            if factor != 0:
                for c in range(width):
                    other[c] -= factor * pivot[c]
        basis.append((column, pivot))
    return basis


def in_row_space(basis: list[tuple[int, list[Fraction]]], vector: list[Fraction]) -> bool:
    residual = vector[:]
    for column, row in basis:
        factor = residual[column]
        if factor != 0:
            residual = [a - factor * b for a, b in zip(residual, row, strict=True)]
    return all(value == 0 for value in residual)


def recoverable_primaries(table: ProtectedTable) -> list[int]:
    """Indices (as in all_entries) of primary-suppressed values that the published equations determine.

    Shown values are constants and move to the right-hand side, so only the columns of the hidden unknowns
    matter. A hidden value x_p is determined by the equations exactly when the unit vector e_p lies in the
    row space of the constraint matrix restricted to the hidden unknowns: then some linear combination of
    the equations reads x_p = (known constants).
    """
    m, n = len(table.row_keys), len(table.col_keys)
    entries = all_entries(table)
    unknowns = [index for index, entry in enumerate(entries) if entry.value is None]
    column_of = {variable: c for c, variable in enumerate(unknowns)}
    matrix = []
    for equation in published_equations(m, n):
        row = [Fraction(0)] * len(unknowns)
        for variable, coefficient in equation.items():
            if variable in column_of:
                row[column_of[variable]] = Fraction(coefficient)
        if any(row):
            matrix.append(row)
    basis = reduced_row_echelon(matrix)
    recovered = []
    for variable in unknowns:
        if entries[variable].status != PRIMARY:
            continue
        unit = [Fraction(0)] * len(unknowns)
        unit[column_of[variable]] = Fraction(1)
        if in_row_space(basis, unit):
            recovered.append(variable)
    return recovered


# Counts skewed toward the small values that make up most of the portal's cross-tabs.
small_skewed_counts = st.one_of(
    st.just(0), st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=30)
)


@st.composite
def grids(draw: st.DrawFn) -> list[list[int]]:
    m = draw(st.integers(min_value=1, max_value=8))
    n = draw(st.integers(min_value=1, max_value=8))
    return [[draw(small_skewed_counts) for _ in range(n)] for _ in range(m)]


thresholds = st.sampled_from([2, 3, 5, 10])
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


# ---------------------------------------------------------------------------------------------------------
# Examples


def test_small_count_is_shown_as_below_k_and_zero_as_zero():
    assert protect_count(3, k=5) == ProtectedCell(value=None, display="<5", status=PRIMARY)
    assert protect_count(0, k=5) == ProtectedCell(value=0, display="0", status=SHOWN)
    assert protect_count(5, k=5) == ProtectedCell(value=5, display="5", status=SHOWN)


def test_k_of_ten_for_public_outputs():
    assert protect_count(9, k=10).display == "<10"
    assert protect_count(10, k=10).display == "10"
    table = table_from_grid([[9, 30], [40, 50]], k=10)
    assert table.cells[0][0].display == "<10"
    assert table.k == 10
    assert recoverable_primaries(table) == []


def test_exact_mode_shows_every_value():
    assert protect_count(3, k=5, exact=True) == ProtectedCell(value=3, display="3", status=SHOWN)
    table = table_from_grid([[1, 2], [0, 3]], exact=True)
    assert [[cell.display for cell in line] for line in table.cells] == [["1", "2"], ["0", "3"]]
    assert [cell.value for cell in table.row_totals] == [3, 3]
    assert [cell.value for cell in table.col_totals] == [1, 5]
    assert table.grand_total.value == 6
    assert table.exact


def test_row_with_one_small_cell_gets_the_smallest_nonzero_complement():
    table = table_from_grid([[2, 20, 8], [30, 40, 50], [25, 35, 45]])
    assert table.cells[0][0].status == PRIMARY
    # The small cell's row alone would give it away (row total minus 20 minus 8), so the smallest other
    # non-zero cell of that row is hidden, and the column it sits in is balanced in the same way.
    assert table.cells[0][2].status == SECONDARY
    assert table.cells[0][2].display == SECONDARY_MARK
    assert table.cells[0][1].status == SHOWN
    hidden = {(i, j) for i, line in enumerate(table.cells) for j, cell in enumerate(line) if cell.hidden}
    assert len(hidden) == 4  # a rectangle: the cheapest cycle through the small cell
    assert all(not cell.hidden for cell in table.row_totals + table.col_totals + (table.grand_total,))
    assert recoverable_primaries(table) == []


def test_zero_is_never_used_as_a_complement():
    grid = [[3, 0, 0], [0, 12, 9], [7, 0, 15]]
    table = table_from_grid(grid)
    complements = [
        truth for truth, entry in zip(true_entries(grid), all_entries(table), strict=True) if entry.status == SECONDARY
    ]
    assert complements and 0 not in complements
    assert recoverable_primaries(table) == []


def test_row_whose_other_cells_cannot_serve_hides_its_total():
    # The 7 beside the small cell is alone in its column, so hiding it would leave the column total to give
    # it away; no cycle through cells alone exists, so the row total is hidden, and another row total with
    # it so that the column of totals does not give the first one away.
    table = table_from_grid([[3, 7], [20, 0], [30, 0]])
    assert table.cells[0][0].status == PRIMARY
    assert table.row_totals[0].status == SECONDARY
    assert table.row_totals[1].status == SECONDARY
    assert table.cells[1][0].status == SECONDARY
    assert not table.grand_total.hidden
    assert not any(cell.hidden for cell in table.col_totals)
    assert recoverable_primaries(table) == []


def test_small_total_is_suppressed_too():
    table = table_from_grid([[1, 2], [0, 0]])
    assert table.row_totals[0].display == "<5"
    assert table.col_totals[0].display == "<5"
    assert table.grand_total.display == "<5"
    assert table.row_totals[1].display == "0"
    assert recoverable_primaries(table) == []


def test_missing_pairs_count_as_zero():
    table = protect_table(["a", "b"], ["x", "y"], {("a", "x"): 12, ("b", "y"): 7}, k=5)
    assert table.cell("a", "y") == ProtectedCell(value=0, display="0", status=SHOWN)
    assert table.grand_total.value == 19


def test_series_hides_a_second_count_beside_a_small_one():
    table = protect_series(["ni", "cr", "co", "ve"], {"ni": 40, "cr": 2, "co": 9, "ve": 15}, k=5)
    assert table.col_keys == (SERIES_COLUMN,)
    assert table.cell("cr", SERIES_COLUMN).display == "<5"
    assert table.cell("co", SERIES_COLUMN).display == SECONDARY_MARK
    assert table.col_totals[0].display == "66"
    assert table.as_rows(total_label="Total") == [
        ["", SERIES_COLUMN],
        ["ni", "40"],
        ["cr", "<5"],
        ["co", "x"],
        ["ve", "15"],
        ["Total", "66"],
    ]
    assert recoverable_primaries(table) == []


def test_as_rows_gives_header_body_and_totals():
    table = table_from_grid([[10, 20], [30, 40]])
    assert table.as_rows(total_label="Total") == [
        ["", "c0", "c1", "Total"],
        ["r0", "10", "20", "30"],
        ["r1", "30", "40", "70"],
        ["Total", "40", "60", "100"],
    ]


def test_three_way_cross_tab_is_protected_as_the_table_shown():
    rows = [("F", "child"), ("F", "adult"), ("M", "child"), ("M", "adult")]
    counts = {(row, nationality): 6 for row in rows for nationality in ("CR", "NI")}
    counts[(("M", "child"), "NI")] = 1
    table = protect_table(rows, ["CR", "NI"], counts, k=5)
    assert table.cell(("M", "child"), "NI").display == "<5"
    assert recoverable_primaries(table) == []


def test_k_defaults_to_the_portal_setting(monkeypatch):
    import django.conf

    monkeypatch.setattr(django.conf, "settings", SimpleNamespace(DISCLOSURE_K=7))
    assert protect_count(6).display == "<7"
    assert table_from_grid([[1]], k=7).k == protect_table(["a"], ["b"], {("a", "b"): 1}).k == 7


@pytest.mark.parametrize("bad_k", [0, 1, -5, 2.5, True])
def test_a_threshold_that_would_suppress_nothing_is_refused(bad_k):
    with pytest.raises(ValueError):
        protect_count(3, k=bad_k)


@pytest.mark.parametrize(
    "counts",
    [
        {("a", "x"): -1},
        {("a", "x"): 1.5},
        {("a", "nowhere"): 3},
        {("elsewhere", "x"): 3},
        {"a": 3},
    ],
)
def test_counts_that_do_not_fit_the_table_are_refused(counts):
    with pytest.raises(ValueError):
        protect_table(["a"], ["x"], counts, k=5)


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError):
        protect_table(["a", "a"], ["x"], {}, k=5)


def test_empty_table_has_zero_totals():
    table = protect_table([], ["x"], {}, k=5)
    assert table.col_totals[0].display == "0"
    assert table.grand_total.display == "0"


# ---------------------------------------------------------------------------------------------------------
# Properties


@PROPERTY_SETTINGS
@given(grid=grids(), k=thresholds)
def test_no_published_value_is_between_one_and_k_minus_one(grid, k):
    table = table_from_grid(grid, k=k)
    for truth, entry in zip(true_entries(grid), all_entries(table), strict=True):
        if entry.status == SHOWN:
            assert entry.value == truth and entry.display == str(truth)
            assert not 0 < truth < k
        elif entry.status == PRIMARY:
            assert entry.value is None and entry.display == f"<{k}" and 0 < truth < k
        else:
            # Complements are non-zero: a hidden zero protects nothing when zeros are known to be shown.
            assert entry.value is None and entry.display == SECONDARY_MARK and truth > 0


@PROPERTY_SETTINGS
@given(grid=grids(), k=thresholds)
def test_no_primary_value_can_be_recovered_from_the_published_equations(grid, k):
    table = table_from_grid(grid, k=k)
    assert recoverable_primaries(table) == []


@PROPERTY_SETTINGS
@given(grid=grids(), k=thresholds)
def test_same_input_gives_same_output_and_exact_mode_gives_the_input(grid, k):
    assert table_from_grid(grid, k=k) == table_from_grid(grid, k=k)
    exact = table_from_grid(grid, k=k, exact=True)
    assert [entry.value for entry in all_entries(exact)] == true_entries(grid)
    assert all(entry.status == SHOWN for entry in all_entries(exact))


@PROPERTY_SETTINGS
@given(values=st.lists(small_skewed_counts, min_size=1, max_size=12), k=thresholds)
def test_series_never_lets_a_small_count_be_recovered(values, k):
    keys = [f"k{i}" for i in range(len(values))]
    table = protect_series(keys, dict(zip(keys, values, strict=True)), k=k)
    assert recoverable_primaries(table) == []
    for value, cell in zip(values, (line[0] for line in table.cells), strict=True):
        assert cell.value in (None, value)
        assert cell.value is None or not 0 < value < k
