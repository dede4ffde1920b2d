"""The reporting layer: every figure it hands to a page, chart or export comes from protected values.

Disclosure control itself is property-tested in test_disclosure.py; these properties check what this layer
adds on top (the audience rule, percentages, shapes for CSV and charts)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import disclosure, reporting
from indicators.disclosure import KEY_MODULUS, SHOWN, Count

K = 5

counts_strategy = st.builds(Count, st.integers(min_value=0, max_value=40), st.integers(0, KEY_MODULUS - 1))


@st.composite
def tables(draw):
    rows = draw(st.integers(min_value=1, max_value=6))
    cols = draw(st.integers(min_value=1, max_value=5))
    counts = {(f"r{i}", f"c{j}"): draw(counts_strategy) for i in range(rows) for j in range(cols)}
    return [f"r{i}" for i in range(rows)], [f"c{j}" for j in range(cols)], counts


def small_numbers_in(values) -> list:
    found = []
    for value in values:
        text = str(value).strip()
        if text.isdigit() and 1 <= int(text) < K:
            found.append(value)
    return found


def build(user, rows, cols, counts):
    return reporting.protect_table_report(
        user,
        slug="t",
        title="t",
        definition="d",
        row_keys=rows,
        col_keys=cols,
        counts=counts,
        row_dimensions=["dim"],
        labels={},
        col_labels={},
    )


@pytest.fixture
def analyst(cast):
    return cast.analyst_a


@pytest.fixture
def coordinator(cast):
    return cast.coordinator_a


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_analyst_report_never_shows_a_small_count(analyst, table, settings_k5):
    rows, cols, counts = table
    report = build(analyst, rows, cols, counts)
    exported = [v for row in report.export_rows()[1:] for v in row[1:]]
    assert small_numbers_in(exported) == []
    chart = report.chart_series()
    for dataset in chart["datasets"]:
        assert small_numbers_in(v for v in dataset["data"] if v is not None) == []
        assert small_numbers_in(dataset["display"]) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_percentages_only_from_published_values(analyst, table, settings_k5):
    rows, cols, counts = table
    report = build(analyst, rows, cols, counts)
    for cells, total, shares in zip(report.table.cells, report.table.row_totals, report.row_percentages(), strict=True):
        for cell, share in zip(cells, shares, strict=True):
            if share != reporting.NOT_SHOWN:
                assert cell.status == SHOWN and total.status == SHOWN
                assert share == reporting.percentage(cell, total)
            if cell.hidden or total.hidden:
                assert share == reporting.NOT_SHOWN
    for total, share in zip(report.table.row_totals, report.share_of_total(), strict=True):
        if total.hidden or report.table.grand_total.hidden:
            assert share == reporting.NOT_SHOWN


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_coordinator_sees_exact_counts(coordinator, table, settings_k5):
    rows, cols, counts = table
    report = build(coordinator, rows, cols, counts)
    assert report.exact
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            assert report.table.cells[i][j].value == counts[(row, col)]
    assert report.table.grand_total.value == sum(counts.values())


def test_people_without_coordinator_role_are_protected(cast):
    for user in (cast.analyst_a, cast.officer_a, cast.admin_a, cast.nobody):
        exact, k = reporting.audience(user)
        assert exact is False
    assert reporting.audience(cast.coordinator_b)[0] is True


def test_measures_by_year_protect_each_measure(cast, settings_k5):
    report = reporting.protect_measures_by_year(
        cast.analyst_a,
        slug="m",
        title="m",
        definition="d",
        years=[2023, 2024, 2025],
        measures=[
            ("received", "Received", {2023: Count(30, 11), 2024: Count(3, 22), 2025: Count(12, 33)}),
            ("accredited", "Accredited", {2024: Count(2, 44)}),
        ],
        year_label="Year",
    )
    flat = [v for row in report.body() for v in row[1:]]
    assert small_numbers_in(flat) == []
    assert "<5" in flat
    # Each measure's total is a cell of its own: the perturbed 45 with the key of its 45 records, not the sum
    # of the perturbed years, so the published years do not give the 3 away by subtraction.
    total = Count(30, 11) + Count(3, 22) + Count(12, 33)
    assert report.table.col_totals[0] == disclosure.protect_count(total, k=K)
    assert report.header() == ["Year", "Received", "Accredited"]  # no row total: measures do not add up


def test_rate_and_median_hidden_with_their_count(cast, settings_k5):
    hidden = reporting.protect_headline(cast.analyst_a, Count(1, 5))
    shown = reporting.protect_headline(cast.analyst_a, Count(50, 5))
    assert hidden.display == "<5"
    assert reporting.rate_per_100k(hidden, 1_000_000) == reporting.NOT_SHOWN
    assert reporting.rate_per_100k(shown, 1_000_000) == f"{shown.value / 10:.2f}"
    histogram = {4: Count(50, 9)}
    assert reporting.median_from_histogram(cast.analyst_a, histogram, hidden) == reporting.NOT_SHOWN
    assert reporting.median_from_histogram(cast.analyst_a, histogram, shown) == "4.0"


def test_four_dimensions_are_refused_in_spanish(settings):
    from django.utils import translation

    reporting.check_dimension_count(["a", "b", "c"])
    with translation.override("en"), pytest.raises(reporting.TooManyDimensions) as refused:
        reporting.check_dimension_count(["a", "b", "c", "d"])
    assert "at most three dimensions" in str(refused.value)


@pytest.fixture
def settings_k5(settings):
    settings.DISCLOSURE_K = K
    return settings
