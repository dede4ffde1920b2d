"""Tests for indicators.disclosure (the cell key method): examples of each rule, then properties of the
perturbation over random counts and keys. The attack on a whole release is tests/test_disclosure_attack.py."""

from __future__ import annotations

import random
import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.disclosure import (
    BLANK,
    KEY_MODULUS,
    PRIMARY,
    SERIES_COLUMN,
    SHOWN,
    Count,
    perturbation_table,
    protect_columns,
    protect_count,
    protect_median,
    protect_series,
    protect_table,
)

D, V = 6, 1.0
TABLE = perturbation_table(D, V)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)

counts = st.integers(min_value=0, max_value=2_000_000)
keys = st.integers(min_value=0, max_value=KEY_MODULUS - 1)
thresholds = st.sampled_from([2, 3, 5, 10])


@pytest.fixture(autouse=True)
def _published_parameters(settings):
    settings.DISCLOSURE_MAX_DEVIATION, settings.DISCLOSURE_VARIANCE = D, V


def keyed(n: int, seed: int = 0) -> Count:
    return Count(n, random.Random(seed * 1_000_003 + n).randrange(KEY_MODULUS))


# --- Examples -----------------------------------------------------------------------------------------------


def test_zero_is_shown_as_zero_and_small_perturbed_values_as_below_k():
    assert protect_count(Count(0, 12345), k=5).display == "0"
    cell = protect_count(Count(1, 999), k=5)
    assert (cell.display, cell.value, cell.status) == ("<5", None, PRIMARY)
    assert protect_count(Count(1, 999), k=10).display == "<10"


def test_the_same_records_give_the_same_value_whatever_way_they_are_added():
    parts = [keyed(n, seed) for seed, n in enumerate((40, 7, 1, 300))]
    forward, backward = sum(parts), sum(reversed(parts))
    assert isinstance(forward, Count) and forward.key == backward.key
    assert protect_count(forward, k=5) == protect_count(backward, k=5) == protect_count(Count(348, forward.key), k=5)


def test_differences_and_sums_of_counts_carry_their_keys():
    a, b = Count(10, KEY_MODULUS - 3), Count(4, 5)
    assert (a + b, (a + b).key) == (14, 2)
    assert (a - b, (a - b).key) == (6, KEY_MODULUS - 8)
    assert (a + 0) is a and (0 + a) is a
    # A plain number of unknown records has no key: the sum is a plain int, which publishing refuses.
    assert type(a + 3) is int


def test_a_count_without_its_key_is_refused_for_a_protected_audience_but_not_for_exact_counts():
    with pytest.raises(TypeError):
        protect_count(12, k=5)
    assert protect_count(12, k=5, exact=True).display == "12"


def test_exact_mode_shows_every_true_value():
    table = protect_table(["a", "b"], ["x"], {("a", "x"): Count(2, 7), ("b", "x"): Count(300, 9)}, k=5, exact=True)
    assert [row[0].display for row in table.cells] == ["2", "300"]
    assert table.grand_total.display == "302" and table.exact


def test_totals_are_cells_of_their_own_not_sums_of_perturbed_cells():
    cells = {(r, c): keyed(n, i) for i, (r, c, n) in enumerate((("a", "x", 120), ("a", "y", 80), ("b", "x", 3)))}
    table = protect_table(["a", "b"], ["x", "y"], cells, k=5)
    assert table.grand_total == protect_count(sum(cells.values()), k=5)
    assert table.row_totals[0] == protect_count(cells[("a", "x")] + cells[("a", "y")], k=5)
    assert table.col_totals[1] == protect_count(cells[("a", "y")], k=5)


def test_series_is_a_one_column_table_with_its_total():
    series = protect_series(["a", "b", "c"], {"a": keyed(50), "c": keyed(7)}, k=5)
    assert series.col_keys == (SERIES_COLUMN,)
    assert series.cells[1][0].display == "0"  # a missing key counts as zero
    assert series.grand_total == protect_count(keyed(50) + keyed(7), k=5)


def test_measures_side_by_side_have_their_own_totals_and_a_stock_has_none():
    table = protect_columns(
        [2023, 2024],
        [("received", {2023: keyed(40, 1), 2024: keyed(60, 2)}), ("pending", {2023: keyed(9, 3)})],
        k=5,
        without_total=["pending"],
    )
    assert table.col_totals[0] == protect_count(keyed(40, 1) + keyed(60, 2), k=5)
    assert table.col_totals[1].status == BLANK and table.col_totals[1].display == ""
    assert {cell.status for cell in table.row_totals} == {BLANK}


def test_rows_without_any_case_can_be_dropped_and_nothing_else_is():
    table = protect_table(
        ["none", "small", "big"], ["x"], {("small", "x"): keyed(1), ("big", "x"): keyed(90)}, k=5
    ).without_empty_rows()
    assert table.row_keys == ("small", "big")


def test_median_comes_from_the_protected_histogram_and_only_with_its_base_shown():
    histogram = {3: Count(40, 1), 5: Count(60, 2)}
    shown = protect_count(Count(100, 3), k=5)
    assert protect_median(histogram, base=shown, exact=True) == 5.0
    assert protect_median(histogram, base=shown) in {3.0, 4.0, 5.0}
    hidden = protect_count(Count(2, 3), k=5)
    assert protect_median({3: Count(2, 1)}, base=hidden) is None


def test_k_defaults_to_the_portal_setting(monkeypatch):
    import django.conf

    monkeypatch.setattr(
        django.conf, "settings", SimpleNamespace(DISCLOSURE_K=7, DISCLOSURE_MAX_DEVIATION=D, DISCLOSURE_VARIANCE=V)
    )
    assert protect_count(Count(1, 0)).display == "<7"


@pytest.mark.parametrize("bad_k", [0, 1, -3, True, 2.5, "5"])
def test_a_threshold_that_would_hide_nothing_is_refused(bad_k):
    with pytest.raises(ValueError):
        protect_count(Count(3, 1), k=bad_k)


@pytest.mark.parametrize(
    "counts",
    [{("zz", "x"): Count(1, 0)}, {("a", "zz"): Count(1, 0)}, {"a": Count(1, 0)}, {("a", "x"): -1}],
)
def test_counts_that_do_not_fit_the_table_are_refused(counts):
    with pytest.raises(ValueError):
        protect_table(["a"], ["x"], counts, k=5)


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError):
        protect_table(["a", "a"], ["x"], {}, k=5)


@pytest.mark.parametrize("max_deviation, variance", [(0, 0.5), (3, 0), (3, 4.0), (True, 0.5)])
def test_parameters_the_table_cannot_honour_are_refused(max_deviation, variance):
    with pytest.raises(ValueError):
        perturbation_table(max_deviation, variance)


def test_the_published_table_has_the_published_variance():
    probabilities = TABLE.probabilities(1000)
    assert set(probabilities) == set(range(-D, D + 1))
    assert sum(e * e * p for e, p in probabilities.items()) == pytest.approx(V, abs=1e-3)
    assert probabilities[D] < 0.001  # extreme deviations are rare: see docs/SECURITY.md


# --- Properties ---------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(n=counts, key=keys)
def test_noise_is_bounded_by_the_maximum_deviation_and_never_reaches_zero(n, key):
    published = n + TABLE.noise(n, key)
    if n == 0:
        assert published == 0
    else:
        assert abs(published - n) <= D and published >= 1


def test_every_noise_of_the_published_range_can_occur():
    # An attacker must then allow every figure the whole deviation D: a tail the rounding left without keys
    # would narrow the range the table really uses (with D = 6 and V = 1, +-6 rounded to no key at all).
    for n in (2, 5, D + 1, 1000):
        h = min(D, n - 1)
        probabilities = TABLE.probabilities(n)
        assert sorted(probabilities) == list(range(-h, h + 1))
        assert all(p > 0 for p in probabilities.values())
    assert probabilities[D] == probabilities[-D] == 1 / KEY_MODULUS


@PROPERTY_SETTINGS
@given(n=counts, key=keys, k=thresholds)
def test_nothing_from_one_to_k_minus_one_is_ever_visible(n, key, k):
    cell = protect_count(Count(n, key), k=k)
    if cell.value is None:
        assert cell.display == f"<{k}" and cell.status == PRIMARY
    else:
        assert cell.status == SHOWN and not 0 < cell.value < k
        assert (cell.value == 0) == (n == 0)


@pytest.mark.parametrize("n", [*range(1, 12), 100, 10_000])
def test_noise_is_unbiased_over_the_keys(n):
    """Exact, over every key: the key ranges of +e and -e are equally wide."""
    probabilities = TABLE.probabilities(n)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(e * p for e, p in probabilities.items()) == 0
    assert all(probabilities[e] == probabilities[-e] for e in probabilities)


@PROPERTY_SETTINGS
@given(n=st.integers(min_value=1, max_value=10_000))
def test_noise_over_random_keys_averages_to_zero(n):
    rng = random.Random(n)
    sample = [TABLE.noise(n, rng.randrange(KEY_MODULUS)) for _ in range(4000)]
    assert abs(sum(sample) / len(sample)) < 0.1


@PROPERTY_SETTINGS
@given(
    values=st.lists(st.tuples(st.integers(min_value=0, max_value=500), keys), min_size=1, max_size=12),
    k=thresholds,
)
def test_same_input_same_output_and_exact_mode_gives_the_input(values, k):
    rows = [f"r{i}" for i in range(len(values))]
    cells = {(row, "c"): Count(n, key) for row, (n, key) in zip(rows, values, strict=True)}
    first, again = protect_table(rows, ["c"], cells, k=k), protect_table(rows, ["c"], dict(cells), k=k)
    assert first == again
    exact = protect_table(rows, ["c"], cells, k=k, exact=True)
    assert [row[0].value for row in exact.cells] == [n for n, _key in values]


def test_the_package_is_the_only_entry_point_of_disclosure_control():
    """indicators.disclosure is a package whose __init__ is its one entry point (docs/SECURITY.md): no module of
    the project outside it imports its parts, so every aggregate output still passes through one module."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    package = root / "indicators" / "disclosure"
    part = re.compile(r"disclosure\.perturbation\b|from\s+indicators\.disclosure\s+import\s+perturbation\b")
    parts_imported = [
        str(path.relative_to(root))
        for folder in ("accounts", "records", "indicators", "estimation", "operations", "conatt_portal", "bench")
        for path in (root / folder).rglob("*.py")
        if not path.is_relative_to(package) and part.search(path.read_text(encoding="utf-8"))
    ]
    assert (package / "__init__.py").exists() and (package / "perturbation.py").exists()
    assert parts_imported == []
