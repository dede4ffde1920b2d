"""A disaggregation by value, and its largest N rows with the rest as "Otros" (issue 15, point 10), over the
report data set (tests/report_data.py): the rows are ranked by published value, "Otros" is the rest's exact sum
protected as a cell of its own, coordinators see it exact, the CSV and the chart show the same rows, invalid
values are refused, and differencing the total, the rows shown and "Otros" determines no hidden count."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from indicators import catalogue, disclosure, selectors
from indicators.catalogue.base import _measure_total, dimension_values
from indicators.catalogue.breakdowns import dimension_report
from indicators.forms import Filters
from tests.api_support import token_client
from tests.export_support import csv_table
from tests.report_data import K, seed_more_nationalities

pytestmark = pytest.mark.xdist_group("report_data_topn")

LONG_DIMENSIONS = ("nationality", "occupation", "residence_canton")


@pytest.fixture
def long_data(report_data):
    """The report data set with more nationalities (inside the test's savepoint), recomputed."""
    seed_more_nationalities(report_data)
    return report_data


def _build(user, key: str, query: str, filters: Filters | None = None):
    return catalogue.build(f"dimension-{key}", user, filters or Filters(), QueryDict(query))


def _true_counts(key: str, measure: str, filters: Filters) -> dict:
    values = dict(filters.values)
    counts = selectors.crosstab(
        measure=measure, dims=[key], year_from=filters.year_from, year_to=filters.year_to, filters=values
    )
    return {code[0]: n for code, n in counts.items()}


def _series(report) -> list[tuple[object, str]]:
    return [(key, cells[0].display) for key, cells in zip(report.table.row_keys, report.table.cells, strict=True)]


def _bounds(display: str, deviation: int) -> tuple[int, int]:
    """What a published figure says of its true count, knowing the perturbation table (as in
    tests/test_disclosure_attack.py): a true zero alone is shown 0; "<k" is 1..k-1 perturbed."""
    if display == "0":
        return 0, 0
    if display.startswith("<"):
        return 1, K - 1 + deviation
    value = int(display)
    return max(value - deviation, (value + 2) // 2), value + deviation


@pytest.mark.django_db
def test_order_by_value_ranks_published_values_with_hidden_rows_after_shown_counts(long_data):
    listed = _build(long_data.analyst_a, "nationality", "measure=received")
    ranked = _build(long_data.analyst_a, "nationality", "measure=received&order=value")
    assert sorted(_series(ranked), key=str) == sorted(_series(listed), key=str), "the same rows, reordered"
    assert ranked.table.grand_total == listed.table.grand_total

    def rank(display: str) -> float:
        return -int(display) if display != "0" and not display.startswith("<") else (0.5 if display != "0" else 1)

    ranks = [rank(display) for _key, display in _series(ranked)]
    assert ranks == sorted(ranks)
    assert any(d.startswith("<") for _k, d in _series(ranked)), "the data set has hidden rows to place"
    # The default stays the code list's order.
    order = [code for code, _label in dimension_values("nationality")]
    assert [key for key, _d in _series(listed)] == sorted(
        listed.table.row_keys, key=lambda c: order.index(c) if c in order else len(order)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("measure", ["received", "accredited_persons"])
def test_top_five_shows_the_largest_rows_and_others_protected_as_its_own_cell(long_data, measure):
    user = long_data.analyst_a
    full = _build(user, "nationality", f"measure={measure}&order=value")
    top = _build(user, "nationality", f"measure={measure}&top=5")
    kept = [key for key, _d in _series(full)[:5]]
    assert list(top.table.row_keys) == [*kept, catalogue.OTHERS]
    assert _series(top)[:5] == _series(full)[:5], "a row kept shows what it shows in the full table"
    assert top.table.grand_total == full.table.grand_total

    counts = _true_counts("nationality", measure, Filters())
    rest = [key for key in full.table.row_keys if key not in kept]
    remainder = sum((counts.get(key, 0) for key in rest), 0)
    assert isinstance(remainder, disclosure.Count)
    assert top.table.cells[-1][0] == disclosure.protect_count(remainder, k=K)
    assert top.row_label(catalogue.OTHERS) == f"Otros ({len(rest)} categorías)"
    if measure == "received":
        # Each application has one nationality: the rest is the total cell less the rows shown, key and all.
        total = _measure_total(measure, Filters())
        difference = total - sum((counts.get(key, 0) for key in kept), 0)
        assert (int(difference), difference.key) == (int(remainder), remainder.key)


@pytest.mark.django_db
def test_coordinators_get_the_exact_others(long_data):
    top = _build(long_data.coordinator_a, "nationality", "measure=received&top=5")
    counts = _true_counts("nationality", "received", Filters())
    kept = top.table.row_keys[:5]
    assert [int(cells[0].value) for cells in top.table.cells[:5]] == [counts.get(k, 0) for k in kept]
    others = sum(int(n) for key, n in counts.items() if key not in kept)
    assert top.table.cells[-1][0] == disclosure.ProtectedCell(value=others, display=str(others), status="shown")


@pytest.mark.django_db
def test_the_page_the_csv_and_the_chart_show_the_same_rows(long_data):
    client = long_data.client_for(long_data.analyst_a)
    query = "?measure=received&top=5"
    report = _build(long_data.analyst_a, "nationality", "measure=received&top=5")
    labels = [report.row_label(key) for key in report.table.row_keys]
    shown = [cells[0].display for cells in report.table.cells]

    html = client.get("/reports/disaggregations/nationality/" + query).content.decode()
    assert "Otros (" in html and 'name="top"' in html and "order=value&amp;top=5" in html
    assert "<script>" not in html and " style=" not in html

    table = csv_table(client.get(reverse("indicators:export", args=["dimension-nationality", "csv"]) + query).content)
    body = table[1:-1]
    assert [row[0] for row in body] == labels
    assert [row[1] for row in body] == shown

    chart = client.get(reverse("indicators:chart", args=["dimension-nationality"]) + query).json()
    assert chart["labels"] == labels


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "label"), [("top=7", "Mostrar"), ("order=x", "Ordenar"), ("top=", None)])
def test_invalid_ranking_values_are_refused_in_spanish(report_data, query, label):
    client = report_data.client_for(report_data.analyst_a)
    outputs = [
        "/reports/disaggregations/nationality/?" + query,
        reverse("indicators:export", args=["dimension-nationality", "csv"]) + "?" + query,
        reverse("indicators:chart", args=["dimension-nationality"]) + "?" + query,
    ]
    for url in outputs:
        response = client.get(url)
        if label is None:  # an empty choice is the default ("all"), as the control sends it
            assert response.status_code == 200, url
            continue
        assert response.status_code == 400, url
        text = response.json()["error"] if response["Content-Type"] == "application/json" else response.content.decode()
        assert f"Filtros no válidos: {label}." in text, url


@pytest.mark.django_db
def test_top_is_refused_on_a_multi_valued_dimension(report_data):
    with pytest.raises(catalogue.ReportUnavailable, match="varios valores"):
        dimension_report(report_data.analyst_a, Filters(), QueryDict("top=5"), key="exploitation_form")
    # Ordering alone reorders published rows and stays available.
    ranked = dimension_report(report_data.analyst_a, Filters(), QueryDict("order=value"), key="exploitation_form")
    assert ranked.table.row_keys


@pytest.mark.django_db
def test_the_cache_keeps_each_ranking_apart(long_data):
    user = long_data.analyst_a
    first = _build(user, "nationality", "measure=received&top=5")
    assert len(_build(user, "nationality", "measure=received&top=10").table.row_keys) != len(first.table.row_keys)
    assert _build(user, "nationality", "measure=received").table.row_keys != first.table.row_keys


def _filters_of_the_test_data() -> list[Filters]:
    years = catalogue.years()
    return [
        Filters(),
        *(Filters(year_from=y, year_to=y) for y in years),
        *(Filters(values={"sex": code}) for code in ("F", "M")),
        *(Filters(year_from=y, year_to=y, values={"sex": "F"}) for y in years),
    ]


@pytest.mark.django_db
def test_total_less_shown_less_others_determines_no_hidden_count(long_data):
    """The attacker takes the total, the rows shown and "Otros" of every top N and filter, and solves for what
    "Otros" holds: the sum of the rows left out, which is a hidden count when it is 1..k-1 or when one hidden row
    is all it holds. Knowing the perturbation table, each published figure only bounds its true count; the
    target is determined when the bounds leave one integer. The control: the same figures exact (what a
    coordinator sees) pin every target, so the attack has teeth."""
    deviation = settings.DISCLOSURE_MAX_DEVIATION
    targets = 0
    for key in LONG_DIMENSIONS:
        for measure in ("received", "accredited"):
            for filters in _filters_of_the_test_data():
                query = f"measure={measure}"
                try:
                    full = _build(long_data.analyst_a, key, query, filters)
                except catalogue.ReportUnavailable:
                    continue  # a combination the portal does not publish (canton by sex)
                counts = _true_counts(key, measure, filters)
                for top in (5, 10, 20):
                    shown = _build(long_data.analyst_a, key, f"{query}&top={top}", filters)
                    if catalogue.OTHERS not in shown.table.row_keys:
                        continue
                    kept = shown.table.row_keys[:-1]
                    rest = [k for k in full.table.row_keys if k not in kept]
                    others_true = sum(int(counts.get(k, 0)) for k in rest)
                    hidden_rows = [k for k in rest if full.table.cell(k, disclosure.SERIES_COLUMN).hidden]
                    nonzero = [k for k in rest if counts.get(k, 0)]
                    if not (0 < others_true < K or (len(nonzero) == 1 and nonzero == hidden_rows)):
                        continue
                    targets += 1
                    total_lo, total_hi = _bounds(shown.table.grand_total.display, deviation)
                    kept_bounds = [_bounds(cells[0].display, deviation) for cells in shown.table.cells[:-1]]
                    others_lo, others_hi = _bounds(shown.table.cells[-1][0].display, deviation)
                    low = max(others_lo, total_lo - sum(hi for _lo, hi in kept_bounds))
                    high = min(others_hi, total_hi - sum(lo for lo, _hi in kept_bounds))
                    where = (key, measure, filters, top, others_true)
                    assert low <= others_true <= high, where
                    assert high > low, f"determined: {where}"

                    # The control: the same figures exact pin the target (additive: each application has one
                    # nationality, canton or occupation).
                    exact = _build(long_data.coordinator_a, key, query, filters).table
                    pinned = int(exact.grand_total.value) - sum(
                        int(exact.cell(k, disclosure.SERIES_COLUMN).value) for k in kept
                    )
                    assert pinned == others_true, where
    assert targets > 0, "the data set has hidden counts behind 'Otros': the attack must try them"


@pytest.mark.django_db
def test_the_api_report_answers_the_same_rows(long_data):
    client = token_client(long_data.analyst_a)[0]
    url = reverse("api-indicators-report", args=["dimension-nationality"])
    answer = client.get(url + "?measure=received&top=5", HTTP_ACCEPT="application/json").json()
    report = _build(long_data.analyst_a, "nationality", "measure=received&top=5")
    assert [row["cells"][0]["display"] for row in answer["rows"]] == [c[0].display for c in report.table.cells]
    assert len(answer["rows"]) == 6
    refused = client.get(url + "?top=7", HTTP_ACCEPT="application/json")
    assert refused.status_code == 400


@pytest.mark.django_db
def test_a_saved_view_keeps_the_ranking_and_refuses_an_unknown_one(report_data):
    from django.core.exceptions import ValidationError

    from indicators import saved_views

    assert saved_views.report_query_clean("measure=received&order=value&top=10") == (
        "measure=received&order=value&top=10"
    )
    with pytest.raises(ValidationError, match="Mostrar"):
        saved_views.report_query_clean("top=7")
